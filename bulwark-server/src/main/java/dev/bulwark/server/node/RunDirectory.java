package dev.bulwark.server.node;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/**
 * The node's run directory: its sandboxes' Unix sockets and the shared V8 library live there, in
 * the temp directory (socket paths are short: 108 bytes). It names its owner's pid, so the next
 * node can remove what a killed node left behind.
 */
final class RunDirectory {
    private static final Logger log = LoggerFactory.getLogger(RunDirectory.class);
    private static final String PREFIX = "bulwark-";
    private static final String OWNER_FILE = "node.pid";

    private RunDirectory() {}

    /** A new run directory owned by this process; stale ones of nodes that are gone are removed first. */
    static Path create() throws IOException {
        Path dir = Files.createTempDirectory(PREFIX);
        Files.writeString(dir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
        sweepStale(dir.getParent());
        return dir;
    }

    /**
     * A node that was killed (SIGKILL, power loss) leaves its run directory behind, with a 39 MB
     * copy of the V8 library in it. The next node removes every run directory whose owner is gone.
     */
    private static void sweepStale(Path tmp) {
        try (var dirs = Files.newDirectoryStream(tmp, PREFIX + "*")) {
            for (Path dir : dirs) {
                Path owner = dir.resolve(OWNER_FILE);
                if (!Files.isRegularFile(owner)) continue; // not ours, or still being created
                long pid;
                try {
                    pid = Long.parseLong(Files.readString(owner).trim());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
                log.info("removing the run directory {} of a node (pid {}) that is gone", dir, pid);
                delete(dir);
            }
        } catch (IOException e) {
            log.warn("could not sweep old run directories in {}: {}", tmp, e.toString());
        }
    }

    /** Removes {@code dir} and everything in it, as far as it can. */
    static void delete(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: the temp directory is the operator's to clean otherwise
        }
    }
}
