package dev.bulwark.server.node;

import dev.bulwark.objects.process.SandboxMain;
import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.isolate.NativeLibrary;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Builds the command line of a sandbox process: the same JVM and class path as the node, another
 * main class, an empty environment (but TZ=UTC), its own working directory, and the node's one
 * copy of the V8 library and ICU's data (so no sandbox extracts 45 MB into the temp directory).
 */
final class SandboxLauncher {
    private final Path runDir;
    private final Path dataDir;
    private final long objectIdleMs;
    private final long objectStorageIdleMs;
    private final Path libDir;
    private final int heapMb;
    private final int poolSize;
    private final int isolatesPerWorker;
    private final long rssSoftMb;
    /**
     * The JIT compiles after half HotSpot's default call counts, so that a new sandbox's requests
     * run compiled code sooner (docs/notes/jitwarm.md); not lower: at 0.2 a sandbox's start cost
     * ~0.8 s more CPU, and sandboxes start often (sessions, spares, replacements). Before the operator's
     * {@code sandboxes.jvm_options}: an operator's own value wins (the JVM takes the last).
     */
    static final List<String> JIT_OPTIONS = List.of("-XX:CompileThresholdScaling=0.5");
    /**
     * Options for every sandbox JVM of every node in this process, from the system property
     * {@code bulwark.sandbox.jvmOptions} (space-separated), before each project's own
     * {@code sandboxes.jvm_options}. The test suite uses it to start its hundreds of short-lived
     * sandboxes with the C1 compiler only (pom.xml).
     */
    private static final List<String> NODE_WIDE_JVM_OPTIONS = java.util.Arrays.stream(
            System.getProperty("bulwark.sandbox.jvmOptions", "").trim().split("\\s+")).filter(o -> !o.isEmpty()).toList();

    private final List<String> jvmOptions;
    private final Confinement confinement;
    private final SandboxAotCache aotCache;
    private final dev.bulwark.sandbox.isolate.Dormancy dormancy;
    private final StorageOptions storage;
    /** The memory cgroup's hard limit: above the node's own kill ceiling, so that one normally acts first. */
    private final long memoryLimitBytes;
    /** Every child started and still running, handshake done or not: closing the node ends them all. */
    private final java.util.Set<Process> running = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean killed;

    SandboxLauncher(Path runDir, Path dataDir, int heapMb, int poolSize, int isolatesPerWorker, long rssCeilingMb,
                    List<String> jvmOptions, long objectIdleMs, long objectStorageIdleMs, Confinement confinement)
            throws IOException {
        this(runDir, dataDir, heapMb, poolSize, isolatesPerWorker, rssCeilingMb, jvmOptions, objectIdleMs,
                objectStorageIdleMs, confinement, SandboxAotCache.fromSystemProperties(), dev.bulwark.sandbox.isolate.Dormancy.OFF,
                StorageOptions.defaults());
    }

    /**
     * @param aotCache the sandbox JVMs' AOT cache, used while its jars are unchanged (docs/notes/warmup.md)
     * @param dormancy when the dynamic workers of a sandbox for generated code give their isolates
     *                 back and keep their code (its live budget is the tenant's {@code dynamic_workers_max})
     * @param storage  how the sandbox opens its durable objects' databases (the node's {@code [storage]})
     */
    SandboxLauncher(Path runDir, Path dataDir, int heapMb, int poolSize, int isolatesPerWorker, long rssCeilingMb,
                    List<String> jvmOptions, long objectIdleMs, long objectStorageIdleMs, Confinement confinement,
                    SandboxAotCache aotCache, dev.bulwark.sandbox.isolate.Dormancy dormancy, StorageOptions storage)
            throws IOException {
        this.aotCache = aotCache;
        this.storage = storage;
        this.dormancy = dormancy;
        this.objectIdleMs = objectIdleMs;
        this.objectStorageIdleMs = objectStorageIdleMs;
        this.confinement = confinement;
        this.memoryLimitBytes = (rssCeilingMb + 64) << 20;
        this.dataDir = dataDir;
        this.isolatesPerWorker = isolatesPerWorker;
        this.runDir = runDir;
        this.libDir = runDir.resolve("lib");
        this.heapMb = heapMb;
        this.poolSize = poolSize;
        // Inside the sandbox, running JS is terminated at 80% of the node's hard ceiling.
        this.rssSoftMb = rssCeilingMb * 8 / 10;
        this.jvmOptions = List.copyOf(jvmOptions);
        NativeLibrary.deploy(libDir);
        // A confined sandbox runs as another user: the library and ICU's data must be readable by it
        // (never writable; they are created owner-only).
        try (var files = Files.list(libDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
            }
        }
    }

    /** Where the sandbox {@code name} finds the node's socket: a directory of its own (it sees no other). */
    Path socketPath(String name) throws IOException {
        Path dir = runDir.resolve(name).resolve("ipc");
        Files.createDirectories(dir);
        return dir.resolve("node.sock");
    }

    /** Forgets a sandbox that is gone (its cgroups). */
    void release(String name) {
        confinement.release(name);
    }

    /** A session's process runs one session's code: one ready isolate is what its next load needs. */
    private int poolFor(String tenant) {
        return DynamicWorkers.isSession(tenant) ? Math.min(poolSize, 1) : poolSize;
    }

    /**
     * Removes what a sandbox of a session's run left (its run directory and its own data
     * directory, {@code tenant} being its key, which no other sandbox has). Only for those.
     */
    void discard(String name, String tenant) {
        if (!DynamicWorkers.isSession(tenant)) return;
        deleteTree(runDir.resolve(name));
        deleteTree(dataDir.resolve("tenants").resolve(TenantNames.directoryName(tenant)));
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | java.io.UncheckedIOException e) {
            org.slf4j.LoggerFactory.getLogger(SandboxLauncher.class).warn("could not remove {}: {}", root, e.getMessage());
        }
    }

    Confinement confinement() {
        return confinement;
    }

    /**
     * Starts a sandbox of {@code tenant}. Its data directory (its durable objects' databases) is
     * the tenant's own under the node's data directory: a sandbox is never told of another's.
     */
    Process launch(String name, String tenant, Path socket) throws IOException {
        String tenantDir = TenantNames.directoryName(tenant);
        Path tenantData = dataDir.resolve("tenants").resolve(tenantDir);
        Files.createDirectories(tenantData);
        Path workDir = runDir.resolve(name);
        Path tmp = workDir.resolve("tmp");
        Files.createDirectories(tmp);
        String java = ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-XX:+UseSerialGC");
        // A Java OutOfMemoryError anywhere in a sandbox ends it (the node replaces it): never a
        // half-working process that caught one.
        cmd.add("-XX:+ExitOnOutOfMemoryError");
        cmd.add("-Xmx256m");
        cmd.add("-Djava.io.tmpdir=" + tmp);
        cmd.addAll(JIT_OPTIONS);
        // The node's own setting of its compiler threads' nice value, if it was given one.
        String compilerNice = System.getProperty(dev.bulwark.sandbox.jvm.CompilerThreads.PROPERTY);
        if (compilerNice != null) cmd.add("-D" + dev.bulwark.sandbox.jvm.CompilerThreads.PROPERTY + "=" + compilerNice);
        // Before the operator's options, so that theirs win (e.g. -XX:AOTMode=off).
        Optional<Path> aot = aotCache.usable();
        cmd.addAll(SandboxAotCache.options(aot));
        cmd.addAll(NODE_WIDE_JVM_OPTIONS);
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.bulwark.objects.process.SandboxMain");
        cmd.addAll(List.of("--socket", socket.toString(), "--lib-dir", libDir.toString(),
                "--data-dir", tenantData.toAbsolutePath().toString(),
                "--heap-mb", Integer.toString(heapMb), "--pool", Integer.toString(poolFor(tenant)),
                "--isolates-per-worker", Integer.toString(isolatesPerWorker),
                "--object-idle-ms", Long.toString(objectIdleMs),
                "--object-storage-idle-ms", Long.toString(objectStorageIdleMs),
                "--rss-soft-mb", Long.toString(rssSoftMb)));
        cmd.addAll(SandboxMain.storageArguments(storage));
        if (DynamicWorkers.isGenerated(tenant) && !dormancy.equals(dev.bulwark.sandbox.isolate.Dormancy.OFF)) {
            cmd.addAll(List.of("--dormant-idle-ms", Long.toString(dormancy.idleMs()),
                    "--dormant-live-max", Integer.toString(dormancy.liveMax())));
        }
        if (confinement.seccomp()) cmd.addAll(List.of("--seccomp", "on"));
        if (confinement.confined()) {
            List<Path> readOnly = new ArrayList<>(SandboxView.readOnly(Path.of(System.getProperty("java.home")),
                    System.getProperty("java.class.path"), libDir));
            aot.ifPresent(readOnly::add); // the JVM maps it at the same path inside the view
            SandboxView view = new SandboxView(tenantDir, workDir.resolve("root"), readOnly,
                    tenantData.toAbsolutePath(), tmp, socket.getParent());
            cmd = confinement.command(name, cmd, view, memoryLimitBytes);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
        pb.environment().clear();
        // Workers' clock is UTC: V8's ICU takes the default time zone of Date and Intl from TZ.
        pb.environment().put("TZ", "UTC");
        pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        if (killed) throw new IOException("the node is closing");
        Process process = pb.start();
        running.add(process);
        process.onExit().thenRun(() -> running.remove(process));
        if (killed) { // closed while it started: it would outlive the node
            process.destroyForcibly();
            throw new IOException("the node is closing");
        }
        return process;
    }

    /**
     * Kills every child still running, including one still in its handshake (which no
     * {@link SandboxProcess} owns yet, and which would otherwise outlive the node).
     */
    void killAll() {
        killed = true;
        for (Process p : running) p.destroyForcibly();
    }
}
