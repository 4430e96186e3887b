package dev.bulwark.server.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What one confined sandbox sees of the node's file system, each at the same path as outside (so
 * its command line needs no rewriting): read-only the OS's {@code /usr} (with the root's
 * {@code /bin}, {@code /lib}... links), the JDK, Bulwark's class path and the V8 library directory;
 * writable its tenant's data directory, its temp directory and the directory of its socket. Nothing
 * else of the node's data directory (admin.token, namespace.secret, other tenants, the alarm index).
 *
 * @param tenantDirName the tenant's directory name (it picks the sandbox's uid)
 * @param root          an empty directory the new root is mounted on (in the sandbox's namespace only)
 */
record SandboxView(String tenantDirName, Path root, List<Path> readOnly, Path tenantData, Path tmp, Path socketDir) {

    SandboxView {
        readOnly = List.copyOf(readOnly);
    }

    /** The read-only part for a JVM started with {@code javaHome} and {@code classPath}, plus {@code libDir}. */
    static List<Path> readOnly(Path javaHome, String classPath, Path libDir) {
        Set<Path> ro = new LinkedHashSet<>();
        ro.add(Path.of("/usr"));
        Path home = javaHome.toAbsolutePath().normalize();
        if (!home.startsWith("/usr")) ro.add(home);
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            if (entry.isEmpty()) continue;
            Path p = Path.of(entry).toAbsolutePath().normalize();
            if (p.startsWith("/usr")) continue;
            ro.add(classPathRoot(p));
        }
        ro.add(libDir.toAbsolutePath().normalize());
        return List.copyOf(ro);
    }

    /**
     * A class path entry, or a jar's directory when it holds only jars (a distribution's lib
     * directory: one mount instead of one per jar). A jar of a local Maven repository is bound alone:
     * the repository is often readable by its owner only, the jar and its version directory are not.
     */
    private static Path classPathRoot(Path entry) {
        Path dir = entry.getParent();
        if (entry.toString().endsWith(".jar") && dir != null && !entry.toString().contains("/.m2/")) {
            try (Stream<Path> files = Files.list(dir)) {
                if (files.allMatch(f -> f.toString().endsWith(".jar"))) return dir;
            } catch (IOException e) {
                // fall back to the jar alone
            }
        }
        return entry;
    }

    /** Makes the writable part the sandbox user's (as root; the sandbox drops to {@code uid}). */
    void ownBy(int uid) throws IOException {
        for (Path dir : List.of(tmp, socketDir, tenantData)) {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.toList()) chown(p, uid);
            }
        }
    }

    private static void chown(Path p, int uid) throws IOException {
        if (!Integer.valueOf(uid).equals(Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
            Files.setAttribute(p, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        }
    }
}
