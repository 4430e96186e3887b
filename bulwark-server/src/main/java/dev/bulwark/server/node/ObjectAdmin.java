package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.worker.Binding;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * What an operator may ask about durable objects (the admin endpoints): the namespaces the
 * deployed workers bind, the objects stored in each, one object's size, alarm, WebSockets and
 * placement, and a consistent snapshot of its database. Names from a request are never used as
 * paths: a namespace must be one the node knows, an id must be 64 hex digits.
 */
public final class ObjectAdmin {
    private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    /** Objects a listing returns when it is not told. */
    public static final int DEFAULT_PAGE = 100;
    public static final int MAX_PAGE = 1000;

    /** A durable object namespace: the class {@code className} of worker {@code worker}, stored under {@code tenant}. */
    public record Namespace(String tenant, String worker, String className, List<String> bindings) {
        public Namespace {
            bindings = List.copyOf(bindings);
        }

        /** How the API names it: {@code <worker>/<class>}. */
        public String id() {
            return worker + "/" + className;
        }
    }

    /** One stored object in a listing: its id and the bytes its files take on disk. */
    public record StoredObject(String id, long sizeBytes) {}

    /** A page of a listing; {@code cursor} is null on the last page, else the id to continue after. */
    public record Page(List<StoredObject> objects, String cursor) {
        public Page {
            objects = List.copyOf(objects);
        }
    }

    /**
     * One object as the node sees it.
     *
     * @param sizeBytes  the database file and its write-ahead log, in bytes
     * @param alarm      epoch ms of its alarm in the node's index, or null
     * @param websockets the tags of each open WebSocket it holds
     * @param sandbox    the sandbox the directory places it in now (null: it runs nowhere)
     * @param pid        that sandbox's process id (0 when none)
     */
    public record ObjectInfo(Namespace namespace, String id, long sizeBytes, Long alarm, List<List<String>> websockets,
                             String sandbox, long pid) {}

    /** The outcome of a snapshot request. */
    public sealed interface Snapshot {
        /** The copy, a regular file in the tenant's snapshot directory; the caller deletes it when sent. */
        record Taken(Path file) implements Snapshot {}

        /** The copy could not be made; {@code reason} is for the operator. */
        record Failed(String reason) implements Snapshot {}
    }

    private final Path dataDir;
    private final Supplier<List<DeployedWorker>> workers;
    private final SandboxSupervisor supervisor;
    private final Alarms alarms;
    private final SocketHub sockets;
    private final SecureRandom random = new SecureRandom();

    ObjectAdmin(Path dataDir, Supplier<List<DeployedWorker>> workers, SandboxSupervisor supervisor, Alarms alarms,
                SocketHub sockets) {
        this.dataDir = dataDir;
        this.workers = workers;
        this.supervisor = supervisor;
        this.alarms = alarms;
        this.sockets = sockets;
        sweepSnapshots(dataDir);
    }

    /**
     * Removes copies left by a node that stopped while sending them, or by a sandbox that answered
     * too late (no snapshot is in progress when a node starts). Regular files only, no link followed.
     */
    private static void sweepSnapshots(Path dataDir) {
        Path tenants = dataDir.resolve("tenants");
        if (!Files.isDirectory(tenants, LinkOption.NOFOLLOW_LINKS)) return;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tenants)) {
            for (Path tenant : dirs) {
                Path snapshots = tenant.resolve("snapshots");
                if (!Files.isDirectory(snapshots, LinkOption.NOFOLLOW_LINKS)) continue;
                try (DirectoryStream<Path> files = Files.newDirectoryStream(snapshots, "*.sqlite")) {
                    for (Path f : files) {
                        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) deleteQuietly(f);
                    }
                }
            }
        } catch (IOException e) {
            // best effort: a leftover copy is only disk space
        }
    }

    /**
     * The namespaces the deployed workers bind, sorted by id; each lists its bindings as
     * {@code <worker>.<BINDING>}. A class is stored under the tenant of the worker that exports it.
     */
    public List<Namespace> namespaces() {
        List<DeployedWorker> all = workers.get();
        Map<String, DeployedWorker> byName = new TreeMap<>();
        for (DeployedWorker w : all) byName.put(w.name(), w);
        Map<String, TreeSet<String>> bindings = new TreeMap<>();
        Map<String, String[]> keys = new TreeMap<>();
        for (DeployedWorker w : all) {
            for (Binding b : w.bindings()) {
                if (!(b instanceof Binding.DurableObjectNamespace ns)) continue;
                DeployedWorker owner = byName.get(ns.workerId());
                if (owner == null) continue;
                String id = ns.workerId() + "/" + ns.className();
                keys.putIfAbsent(id, new String[] {owner.tenant(), ns.workerId(), ns.className()});
                bindings.computeIfAbsent(id, k -> new TreeSet<>()).add(w.name() + "." + ns.name());
            }
        }
        List<Namespace> out = new ArrayList<>();
        keys.forEach((id, k) -> out.add(new Namespace(k[0], k[1], k[2], List.copyOf(bindings.get(id)))));
        return out;
    }

    /** The namespace {@code <worker>/<class>}, or null if no deployed worker binds it. */
    public Namespace namespace(String worker, String className) {
        for (Namespace n : namespaces()) {
            if (n.worker().equals(worker) && n.className().equals(className)) return n;
        }
        return null;
    }

    /** Whether {@code id} has the form of an object id (64 lower-case hex digits). */
    public static boolean isObjectId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    Path classDir(Namespace ns) {
        return dataDir.resolve("tenants").resolve(TenantNames.directoryName(ns.tenant())).resolve("objects")
                .resolve(ns.worker()).resolve(ns.className());
    }

    /**
     * The stored objects of a namespace in id order, at most {@code limit} (1..{@link #MAX_PAGE})
     * after {@code cursor} (null: from the start). The directory is read whole for each page.
     */
    public Page list(Namespace ns, String cursor, int limit) throws IOException {
        if (limit < 1 || limit > MAX_PAGE) throw new IllegalArgumentException("limit must be 1.." + MAX_PAGE);
        Path dir = classDir(ns);
        TreeSet<String> ids = new TreeSet<>();
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.sqlite")) {
                for (Path f : files) {
                    String name = f.getFileName().toString();
                    String id = name.substring(0, name.length() - ".sqlite".length());
                    if (isObjectId(id) && (cursor == null || id.compareTo(cursor) > 0)) {
                        ids.add(id);
                        if (ids.size() > limit + 1) ids.pollLast(); // one more than asked: is there a next page?
                    }
                }
            }
        }
        boolean more = ids.size() > limit;
        if (more) ids.pollLast();
        List<StoredObject> page = new ArrayList<>();
        for (String id : ids) page.add(new StoredObject(id, sizeOf(dir, id)));
        return new Page(page, more ? ids.last() : null);
    }

    private static long sizeOf(Path dir, String id) {
        long size = 0;
        for (String suffix : new String[] {".sqlite", ".sqlite-wal"}) {
            try {
                BasicFileAttributes a = Files.readAttributes(dir.resolve(id + suffix), BasicFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                if (a.isRegularFile()) size += a.size();
            } catch (IOException absent) {
                // no such file (no WAL right now)
            }
        }
        return size;
    }

    private boolean stored(Namespace ns, String id) {
        return isObjectId(id) && Files.isRegularFile(classDir(ns).resolve(id + ".sqlite"), LinkOption.NOFOLLOW_LINKS);
    }

    private static Address.DurableObject address(Namespace ns, String id) {
        return new Address.DurableObject(ns.worker(), ns.className(), id, null);
    }

    /** One stored object, or null if the namespace holds no object of that id. */
    public ObjectInfo info(Namespace ns, String id) {
        if (!stored(ns, id)) return null;
        Address.DurableObject o = address(ns, id);
        SandboxProcess p = supervisor.placement(o);
        return new ObjectInfo(ns, id, sizeOf(classDir(ns), id), alarms.timeOf(o), sockets.objectSockets(o),
                p == null ? null : p.name(), p == null ? 0 : p.pid());
    }

    /**
     * A consistent copy of a stored object's database, made by the sandbox the directory places the
     * object in (see {@link SandboxSupervisor#snapshot}); null if the namespace holds no such object.
     */
    public Snapshot snapshot(Namespace ns, String id) {
        if (!stored(ns, id)) return null;
        byte[] raw = new byte[16];
        random.nextBytes(raw);
        String fileName = HexFormat.of().formatHex(raw) + ".sqlite";
        Path file = dataDir.resolve("tenants").resolve(TenantNames.directoryName(ns.tenant())).resolve("snapshots")
                .resolve(fileName);
        String error = supervisor.snapshot(ns.tenant(), address(ns, id), fileName);
        if (error != null) {
            deleteQuietly(file);
            return new Snapshot.Failed(error);
        }
        // The sandbox's directory is writable by the sandbox: take only a regular file, never a link.
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile()) {
                deleteQuietly(file);
                return new Snapshot.Failed("the sandbox's snapshot is not a regular file");
            }
        } catch (IOException e) {
            return new Snapshot.Failed("the sandbox wrote no snapshot");
        }
        return new Snapshot.Taken(file);
    }

    /** Removes a snapshot file once it was sent (or could not be). */
    public static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // the next snapshot of the same name is impossible (random names); the operator may clean up
        }
    }
}
