package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.config.DurableObjectBinding;
import dev.bulwark.server.config.Migration;
import dev.bulwark.server.config.RenamedClass;
import dev.bulwark.server.config.TransferredClass;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Applies a worker's durable object {@code migrations} to storage at deploy, as Cloudflare does:
 * each tag once, in the order of the list. A rename moves the class's storage directory (its
 * objects keep their data, and ids made by {@code idFromName} keep reaching them: the renamed class
 * keeps the id key of the class it was first created as); a transfer does the same across two
 * workers of one tenant (bindings to the old worker's class then reach the new one); a delete
 * removes the class's objects and their alarms. Nothing is removed unless a migration says so.
 *
 * <p>What was applied is kept per worker in {@code <data>/migrations/<tenant>/<worker>.json}, in
 * the node's own part of the data directory (a sandbox can write its tenant's directory, never
 * this one): the applied tags, for each renamed or transferred-in class the class whose id key it
 * keeps, and for each class renamed or transferred away where its objects went (bindings of other
 * workers that name the old class follow them).
 */
final class Migrations {
    private static final Logger log = LoggerFactory.getLogger(Migrations.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Transfers form chains (A to B, later B to C); a longer one than this is a broken record, not a deploy. */
    private static final int MAX_TRANSFER_CHAIN = 32;

    /** A durable object class of one worker. */
    record ClassRef(String worker, String className) {
    }

    /** Where a bound class's objects live now, and the class whose id key their ids are made with. */
    record Namespace(ClassRef storage, ClassRef key) {
    }

    /**
     * What is recorded for one worker: applied tags in order, class → the class its ids are keyed
     * by (when not itself), and class → where a transfer moved its objects.
     */
    record State(List<String> applied, Map<String, ClassRef> keyClasses, Map<String, ClassRef> movedTo) {
        State {
            applied = List.copyOf(applied);
            keyClasses = Map.copyOf(keyClasses);
            movedTo = Map.copyOf(movedTo);
        }
    }

    /** What a storage step needs of the node besides files: its alarm index. */
    interface AlarmIndex {
        void renameClass(String tenant, String worker, String from, String to);

        void transferClass(String tenant, ClassRef from, ClassRef to);

        void deleteClass(String tenant, String worker, String className);
    }

    private final Path dataDir;
    private final AlarmIndex alarms;

    Migrations(Path dataDir, AlarmIndex alarms) {
        this.dataDir = dataDir;
        this.alarms = alarms;
    }

    private Path stateFile(String tenant, String worker) {
        return dataDir.resolve("migrations").resolve(TenantNames.directoryName(tenant))
                .resolve(TenantNames.directoryName(worker) + ".json");
    }

    private Path classDir(String tenant, String worker, String className) {
        return dataDir.resolve("tenants").resolve(TenantNames.directoryName(tenant)).resolve("objects").resolve(worker)
                .resolve(className);
    }

    State state(String tenant, String worker) {
        Path file = stateFile(tenant, worker);
        if (!Files.exists(file)) return new State(List.of(), Map.of(), Map.of());
        try {
            JsonNode root = JSON.readTree(file.toFile());
            List<String> applied = new ArrayList<>();
            root.path("applied").forEach(t -> applied.add(t.asText()));
            Map<String, ClassRef> keys = new TreeMap<>();
            // A key class of the worker itself is a plain name (the only form before transfers).
            root.path("keyClasses").fields().forEachRemaining(e -> keys.put(e.getKey(), e.getValue().isTextual()
                    ? new ClassRef(worker, e.getValue().asText()) : classRef(e.getValue())));
            Map<String, ClassRef> moved = new TreeMap<>();
            root.path("movedTo").fields().forEachRemaining(e -> moved.put(e.getKey(), classRef(e.getValue())));
            return new State(applied, keys, moved);
        } catch (IOException e) {
            throw new MigrationException("the record of applied migrations " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static ClassRef classRef(JsonNode node) {
        return new ClassRef(node.path("worker").asText(), node.path("class").asText());
    }

    /**
     * The namespace a binding of {@code worker}'s class reaches: through transfers to where its
     * objects are now, keyed as the class they were first created as.
     */
    Namespace namespace(String tenant, String worker, String className) {
        ClassRef at = new ClassRef(worker, className);
        for (int hops = 0; ; hops++) {
            State state = state(tenant, at.worker());
            ClassRef next = state.movedTo().get(at.className());
            if (next == null) {
                return new Namespace(at, state.keyClasses().getOrDefault(at.className(), at));
            }
            if (hops == MAX_TRANSFER_CHAIN) {
                throw new MigrationException("the transfers of class '" + className + "' of worker " + worker
                        + " do not end after " + MAX_TRANSFER_CHAIN + " steps; the records in " + dataDir.resolve("migrations")
                        + " are inconsistent");
            }
            at = next;
        }
    }

    /** Whether a transfer moved {@code worker}'s class away (it then has no objects of its own). */
    boolean transferredAway(String tenant, String worker, String className) {
        return state(tenant, worker).movedTo().containsKey(className);
    }

    private void save(String tenant, String worker, State state) {
        Path file = stateFile(tenant, worker);
        ObjectNode root = JSON.createObjectNode();
        state.applied().forEach(root.putArray("applied")::add);
        ObjectNode keys = root.putObject("keyClasses");
        new TreeMap<>(state.keyClasses()).forEach((c, ref) -> {
            if (ref.worker().equals(worker)) keys.put(c, ref.className());
            else keys.set(c, json(ref));
        });
        ObjectNode moved = root.putObject("movedTo");
        new TreeMap<>(state.movedTo()).forEach((c, ref) -> moved.set(c, json(ref)));
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, root.toPrettyString());
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new MigrationException("could not record the applied migrations in " + file + ": " + e.getMessage(), e);
        }
    }

    private static ObjectNode json(ClassRef ref) {
        ObjectNode node = JSON.createObjectNode();
        node.put("worker", ref.worker());
        node.put("class", ref.className());
        return node;
    }

    /**
     * Checks a worker's migrations against what this node applied before and against its bindings,
     * then applies the new ones to storage, recording each tag as it is done. Returns the tags
     * applied now.
     *
     * @param bindings the worker's own durable object bindings (a binding to another worker's
     *                 class is that worker's business)
     * @param active   whether an object of (worker, class) runs now: storage of a running class is never moved
     */
    List<String> apply(String tenant, String worker, List<Migration> migrations, List<DurableObjectBinding> bindings,
                       java.util.function.BiPredicate<String, String> active) {
        State state = state(tenant, worker);
        List<String> tags = migrations.stream().map(Migration::tag).toList();
        int done = 0;
        for (String tag : state.applied()) {
            int at = tags.indexOf(tag);
            if (at < 0) {
                throw new MigrationException("worker " + worker + ": migration '" + tag + "' was applied on this node but is no "
                        + "longer in the configuration's migrations; applied migrations must stay in the list");
            }
            if (at != done) {
                throw new MigrationException("worker " + worker + ": migration '" + tags.get(done) + "' comes before '" + tag
                        + "', which was applied already; add new migrations at the end of the list");
            }
            done++;
        }
        List<Migration> pending = migrations.subList(done, migrations.size());

        // Replay the whole list: each step must make sense after the ones before it.
        Set<String> live = new LinkedHashSet<>();
        Map<String, String> removedBy = new TreeMap<>();
        for (Migration m : migrations) {
            String where = "worker " + worker + ", migration '" + m.tag() + "': ";
            for (String c : concat(m.newSqliteClasses(), m.newClasses())) {
                if (!live.add(c)) throw new MigrationException(where + "class '" + c + "' exists already");
                removedBy.remove(c);
            }
            for (RenamedClass r : m.renamedClasses()) {
                if (!live.contains(r.from())) {
                    throw new MigrationException(where + "renames class '" + r.from() + "', which no earlier migration creates");
                }
                if (live.contains(r.to())) {
                    throw new MigrationException(where + "renames '" + r.from() + "' to '" + r.to() + "', which exists already");
                }
                live.remove(r.from());
                live.add(r.to());
                removedBy.put(r.from(), "renames it to '" + r.to() + "'");
                removedBy.remove(r.to());
            }
            for (String c : m.deletedClasses()) {
                if (!live.remove(c)) {
                    throw new MigrationException(where + "deletes class '" + c + "', which no earlier migration creates");
                }
                removedBy.put(c, "deletes it");
            }
            for (TransferredClass t : m.transferredClasses()) {
                if (t.fromScript().equals(worker)) {
                    throw new MigrationException(where + "transfers class '" + t.from() + "' from this worker itself; "
                            + "use renamed_classes to move a class within one worker");
                }
                if (!live.add(t.to())) {
                    throw new MigrationException(where + "transfers '" + t.from() + "' of worker " + t.fromScript() + " to '"
                            + t.to() + "', which exists already (a transfer creates its destination class)");
                }
                removedBy.remove(t.to());
            }
        }
        for (DurableObjectBinding b : bindings) {
            if (b.scriptName() != null) continue;
            String why = removedBy.get(b.className());
            if (why != null && !live.contains(b.className())) {
                String last = migrations.reversed().stream().filter(m -> m.deletedClasses().contains(b.className())
                        || m.renamedClasses().stream().anyMatch(r -> r.from().equals(b.className()))).findFirst()
                        .map(Migration::tag).orElse("?");
                throw new MigrationException("worker " + worker + ": binding " + b.name() + " names class '" + b.className()
                        + "', but migration '" + last + "' " + why + "; change or remove the binding");
            }
        }
        for (Migration m : pending) {
            for (RenamedClass r : m.renamedClasses()) refuseIfActive(worker, r.from(), m, active);
            for (String c : m.deletedClasses()) refuseIfActive(worker, c, m, active);
            for (TransferredClass t : m.transferredClasses()) refuseIfActive(t.fromScript(), t.from(), m, active);
        }

        List<String> applied = new ArrayList<>(state.applied());
        Map<String, ClassRef> keys = new TreeMap<>(state.keyClasses());
        Map<String, ClassRef> moved = new TreeMap<>(state.movedTo());
        List<String> now = new ArrayList<>();
        for (Migration m : pending) {
            for (String c : concat(m.newSqliteClasses(), m.newClasses())) moved.remove(c);
            for (RenamedClass r : m.renamedClasses()) {
                rename(tenant, worker, r, m.tag());
                keys.put(r.to(), keys.getOrDefault(r.from(), new ClassRef(worker, r.from())));
                keys.remove(r.from());
                // Other workers' bindings to the old name follow the objects, as after a transfer.
                moved.put(r.from(), new ClassRef(worker, r.to()));
                moved.remove(r.to());
            }
            for (String c : m.deletedClasses()) {
                delete(tenant, worker, c);
                keys.remove(c);
            }
            for (TransferredClass t : m.transferredClasses()) {
                keys.put(t.to(), transfer(tenant, worker, t, m.tag()));
                moved.remove(t.to());
            }
            applied.add(m.tag());
            save(tenant, worker, new State(applied, keys, moved));
            now.add(m.tag());
            if (!m.renamedClasses().isEmpty() || !m.deletedClasses().isEmpty() || !m.transferredClasses().isEmpty()) {
                log.info("worker {}: applied migration {} (renamed {}, deleted {}, transferred {})", worker, m.tag(),
                        m.renamedClasses(), m.deletedClasses(), m.transferredClasses());
            }
        }
        return now;
    }

    private static void refuseIfActive(String worker, String className, Migration m,
                                       java.util.function.BiPredicate<String, String> active) {
        if (active.test(worker, className)) {
            throw new MigrationException("worker " + worker + ": migration '" + m.tag() + "' changes class '" + className
                    + "', whose objects are running on this node; apply it when the node starts");
        }
    }

    /** Moves a class's storage; idempotent, so a node that died between the move and the record finishes it. */
    private void rename(String tenant, String worker, RenamedClass r, String tag) {
        Path from = classDir(tenant, worker, r.from());
        Path to = classDir(tenant, worker, r.to());
        try {
            if (Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
                    throw new MigrationException("worker " + worker + ", migration '" + tag + "': cannot rename '" + r.from()
                            + "' to '" + r.to() + "': " + to + " holds objects already");
                }
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new MigrationException("worker " + worker + ", migration '" + tag + "': could not move " + from + " to "
                    + to + ": " + e.getMessage(), e);
        }
        alarms.renameClass(tenant, worker, r.from(), r.to());
    }

    /**
     * Moves a class's objects and alarms from another worker of the tenant and records in that
     * worker's state where they went; returns the class whose id key they keep. Idempotent like
     * {@link #rename}: the source directory is gone once moved, and the records are rewritten whole.
     */
    private ClassRef transfer(String tenant, String worker, TransferredClass t, String tag) {
        ClassRef source = new ClassRef(t.fromScript(), t.from());
        ClassRef target = new ClassRef(worker, t.to());
        Path from = classDir(tenant, t.fromScript(), t.from());
        Path to = classDir(tenant, worker, t.to());
        try {
            if (Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
                    throw new MigrationException("worker " + worker + ", migration '" + tag + "': cannot transfer '" + t.from()
                            + "' of worker " + t.fromScript() + " to '" + t.to() + "': " + to + " holds objects already");
                }
                Files.createDirectories(to.getParent());
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new MigrationException("worker " + worker + ", migration '" + tag + "': could not move " + from + " to "
                    + to + ": " + e.getMessage(), e);
        }
        alarms.transferClass(tenant, source, target);
        State sourceState = state(tenant, t.fromScript());
        ClassRef key = sourceState.keyClasses().getOrDefault(t.from(), source);
        // The source keeps its key entry: a node that dies before the destination's record is saved
        // transfers again and must find the same key.
        Map<String, ClassRef> sourceKeys = new TreeMap<>(sourceState.keyClasses());
        Map<String, ClassRef> sourceMoved = new TreeMap<>(sourceState.movedTo());
        sourceMoved.put(t.from(), target);
        save(tenant, t.fromScript(), new State(sourceState.applied(), sourceKeys, sourceMoved));
        return key;
    }

    private void delete(String tenant, String worker, String className) {
        Path dir = classDir(tenant, worker, className);
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
            } catch (IOException e) {
                throw new MigrationException("worker " + worker + ": could not delete the objects of class '" + className
                        + "' in " + dir + ": " + e.getMessage(), e);
            }
        }
        alarms.deleteClass(tenant, worker, className);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
