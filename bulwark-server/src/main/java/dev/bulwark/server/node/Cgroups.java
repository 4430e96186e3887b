package dev.bulwark.server.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A memory cgroup and a pids limit per sandbox, as children of the node's own cgroups. cgroup v1
 * (separate {@code memory} and {@code pids} hierarchies) and v2 (one unified hierarchy, where the
 * node's cgroup must delegate both controllers) are both handled; the node never moves itself.
 * A sandbox joins its cgroups before it unshares anything (the launcher writes {@code 0} into
 * {@code cgroup.procs}), so every thread and child it ever has is counted.
 */
final class Cgroups {
    /** Threads and processes one sandbox may have (a JVM with its isolate pool uses about 60). */
    static final int PIDS_MAX = 512;
    private static final Path ROOT = Path.of("/sys/fs/cgroup");

    /** Where the node keeps its sandboxes' cgroups: one directory per controller hierarchy. */
    private final List<Hierarchy> hierarchies;
    private final String how;

    /** One hierarchy and what to write into a sandbox's cgroup there. */
    private record Hierarchy(Path parent, String memoryFile, String pidsFile) {}

    private Cgroups(List<Hierarchy> hierarchies, String how) {
        this.hierarchies = hierarchies;
        this.how = how;
    }

    String how() {
        return how;
    }

    /** Sets the node's cgroups up, or throws saying why they cannot be. */
    static Cgroups create(String nodeName) throws IOException {
        String self = Files.readString(Path.of("/proc/self/cgroup"));
        if (Files.isRegularFile(ROOT.resolve("memory/memory.limit_in_bytes"))) {
            Path memory = v1Parent(self, "memory", nodeName);
            Path pids = v1Parent(self, "pids", nodeName);
            return new Cgroups(List.of(new Hierarchy(memory, "memory.limit_in_bytes", null),
                    new Hierarchy(pids, null, "pids.max")), "cgroup v1 under " + memory + " and " + pids);
        }
        if (Files.isRegularFile(ROOT.resolve("cgroup.controllers"))) {
            Path own = ROOT.resolve(ownPath(self, "").substring(1));
            Path parent = own.resolve(nodeName);
            sweepDeadNodes(own);
            Files.createDirectories(parent);
            try {
                Files.writeString(parent.resolve("cgroup.subtree_control"), "+memory +pids");
            } catch (IOException e) {
                Files.deleteIfExists(parent);
                throw new IOException("cgroup v2: " + own + " does not delegate the memory and pids controllers ("
                        + e.getMessage() + ")");
            }
            return new Cgroups(List.of(new Hierarchy(parent, "memory.max", "pids.max")), "cgroup v2 under " + parent);
        }
        throw new IOException("no cgroup hierarchy with a memory controller is mounted at " + ROOT);
    }

    private static Path v1Parent(String self, String controller, String nodeName) throws IOException {
        Path parent = ROOT.resolve(controller).resolve(ownPath(self, controller).substring(1)).resolve(nodeName);
        sweepDeadNodes(parent.getParent());
        Files.createDirectories(parent);
        if (!Files.isWritable(parent.resolve("cgroup.procs"))) {
            throw new IOException("cannot write " + parent.resolve("cgroup.procs"));
        }
        return parent;
    }

    /** Removes the cgroups a node that was killed (never closed) left: {@code bulwark-...-<pid>} of a dead pid. */
    private static void sweepDeadNodes(Path dir) {
        try (var children = Files.list(dir)) {
            for (Path c : children.filter(Files::isDirectory).toList()) {
                String name = c.getFileName().toString();
                String pid = name.substring(name.lastIndexOf('-') + 1);
                if (!name.startsWith("bulwark-") || pid.isEmpty() || !pid.chars().allMatch(Character::isDigit)) continue;
                if (ProcessHandle.of(Long.parseLong(pid)).isPresent()) continue;
                try (var sandboxes = Files.list(c)) {
                    for (Path s : sandboxes.filter(Files::isDirectory).toList()) Files.deleteIfExists(s);
                }
                Files.deleteIfExists(c);
            }
        } catch (IOException | RuntimeException e) {
            // best effort: a cgroup still in use stays
        }
    }

    /** The node's own cgroup path in a hierarchy ("" for the unified one), from /proc/self/cgroup. */
    private static String ownPath(String procSelfCgroup, String controller) throws IOException {
        for (String line : procSelfCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && List.of(f[1].split(",")).contains(controller)) return f[2];
            if (f.length == 3 && controller.isEmpty() && f[1].isEmpty()) return f[2];
        }
        throw new IOException("the node is in no " + (controller.isEmpty() ? "cgroup v2" : controller) + " cgroup");
    }

    /**
     * Creates the cgroups of one sandbox with its limits; returns their {@code cgroup.procs} files,
     * which the sandbox joins before it starts.
     */
    List<Path> prepare(String sandbox, long memoryBytes) throws IOException {
        List<Path> procs = new ArrayList<>();
        for (Hierarchy h : hierarchies) {
            Path dir = h.parent().resolve(sandbox);
            Files.createDirectories(dir);
            if (h.memoryFile() != null) Files.writeString(dir.resolve(h.memoryFile()), Long.toString(memoryBytes));
            if (h.pidsFile() != null) Files.writeString(dir.resolve(h.pidsFile()), Integer.toString(PIDS_MAX));
            procs.add(dir.resolve("cgroup.procs"));
        }
        return procs;
    }

    /**
     * Removes a dead sandbox's cgroups (rmdir, which the kernel refuses while a task of it is still
     * exiting: retried for two seconds, off the caller's thread).
     */
    void release(String sandbox) {
        Thread.startVirtualThread(() -> {
            for (Hierarchy h : hierarchies) removeWithRetries(h.parent().resolve(sandbox));
        });
    }

    private static void removeWithRetries(Path dir) {
        for (int i = 0; i < 20; i++) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Removes the node's cgroup directories (after its sandboxes are gone). */
    void close() {
        for (Hierarchy h : hierarchies) {
            try (var children = Files.list(h.parent())) {
                for (Path c : children.filter(Files::isDirectory).toList()) removeWithRetries(c);
                removeWithRetries(h.parent());
            } catch (IOException e) {
                // best effort
            }
        }
    }
}
