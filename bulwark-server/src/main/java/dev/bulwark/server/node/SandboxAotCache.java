package dev.bulwark.server.node;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The sandbox JVMs' AOT cache (JDK 25's Leyden: classes loaded and linked ahead of time, method
 * profiles from a training run), made by the {@code bulwark} launcher for exactly the node's class
 * path and handed to the node as the system property {@value #PROPERTY}. It takes about 40% of a
 * sandbox's start CPU away (docs/notes/warmup.md).
 *
 * <p>A cache is used only while every class path entry is as it was when the node started (size and
 * modification time): JDK 25 does not notice itself that a jar changed after the cache was made
 * (JDK-8377932) and would then run the cached, older classes. The launcher checks the same before it
 * starts the node; this checks again at every sandbox start, because a rebuild while the node runs
 * replaces the jars under it. A missing or unusable cache only costs speed: the JVM starts without it.
 */
record SandboxAotCache(Optional<Path> file, String classPath, List<String> fingerprint) {
    static final String PROPERTY = "bulwark.sandbox.aotCache";

    SandboxAotCache {
        fingerprint = List.copyOf(fingerprint);
    }

    /** No cache: sandboxes start as they did before there was one. */
    static SandboxAotCache none() {
        return new SandboxAotCache(Optional.empty(), "", List.of());
    }

    /** The cache the launcher named, for this JVM's class path as it is now. */
    static SandboxAotCache fromSystemProperties() {
        String file = System.getProperty(PROPERTY);
        if (file == null || file.isBlank()) return none();
        return of(Path.of(file), System.getProperty("java.class.path"));
    }

    static SandboxAotCache of(Path file, String classPath) {
        return new SandboxAotCache(Optional.of(file.toAbsolutePath().normalize()), classPath, fingerprint(classPath));
    }

    /**
     * The cache file to use for a sandbox starting now, if there is one and the class path has not
     * changed since this was made.
     */
    Optional<Path> usable() {
        if (file.isEmpty() || !Files.isRegularFile(file.get())) return Optional.empty();
        return fingerprint(classPath).equals(fingerprint) ? file : Optional.empty();
    }

    /**
     * The JVM options for a sandbox given the {@link #usable()} cache: the cache, and the JVM's own messages about it
     * off (a cache it cannot map, e.g. after {@code sandboxes.jvm_options} changed the GC, would
     * otherwise print error lines at every sandbox start while the sandbox runs fine without it).
     */
    static List<String> options(Optional<Path> usable) {
        return usable.map(f -> List.of("-XX:AOTCache=" + f, "-Xlog:aot=off", "-Xlog:cds=off")).orElse(List.of());
    }

    /** Size and modification time of every class path entry, in order (a missing one counts too). */
    static List<String> fingerprint(String classPath) {
        List<String> out = new ArrayList<>();
        for (String entry : classPath.split(File.pathSeparator)) {
            if (entry.isEmpty()) continue;
            Path p = Path.of(entry);
            try {
                out.add(entry + " " + Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis());
            } catch (IOException e) {
                out.add(entry + " missing");
            }
        }
        return out;
    }
}
