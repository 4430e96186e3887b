package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.config.ProjectConfig;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.http.FrontDoor;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node: the JVM the operator starts. It owns the front door, the sandbox supervisor, the
 * egress gateway and the log hub, and the lifetime of all of them. Untrusted code never runs
 * here; it runs in the sandbox processes the supervisor keeps.
 *
 * <pre>{@code
 * try (Node node = Node.start(settings)) {
 *     node.deploy(worker);
 *     ... node.port() ...
 * }
 * }</pre>
 */
public final class Node implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Node.class);

    private final Settings settings;
    private final Path runDir;
    private final SandboxSupervisor supervisor;
    private final LogHub logs = new LogHub();
    private final EgressGateway egress;
    private final InvocationRecords invocationRecords = new InvocationRecords();
    private final Map<String, DeployedWorker> workers = new LinkedHashMap<>();
    private final Map<String, String> loadErrors = new ConcurrentHashMap<>();
    /**
     * Invocation ids cross into JavaScript as numbers, so they stay below 2^53: 20 bits of the
     * node's start time (so request ids differ across restarts) and a 32-bit counter.
     */
    private final AtomicLong invocations = new AtomicLong(((System.currentTimeMillis() / 1000) & 0xFFFFF) << 32);
    private final String adminToken;
    private final Server server;

    private Node(Settings settings) throws IOException {
        this.settings = settings;
        Files.createDirectories(settings.dataDir());
        this.adminToken = writeAdminToken(settings.dataDir());
        // Unix socket paths are short (108 bytes): the run directory lives in the temp directory.
        this.runDir = Files.createTempDirectory(RUN_DIR_PREFIX);
        Files.writeString(runDir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
        sweepStaleRunDirs(runDir.getParent());
        this.egress = new EgressGateway(settings.egress(), invocationRecords);
        var sb = settings.sandboxes();
        SandboxLauncher launcher = new SandboxLauncher(runDir, settings.limits().heapMb(), sb.poolSize(),
                sb.isolatesPerWorker(), sb.rssCeilingMb(), sb.jvmOptions());
        this.supervisor = new SandboxSupervisor(launcher, sb.processesPerTenant(), sb.rssCeilingMb() << 20,
                new SandboxEvents() {
                    @Override
                    public void log(Message.LogLine line) {
                        logs.accept(line);
                    }

                    @Override
                    public void egress(SandboxProcess from, Message message) {
                        egress.receive(new EgressGateway.Origin(from, from.tenant()), message);
                    }

                    @Override
                    public InvocationListener admit(String tenant, Message.FetchStart start, InvocationListener listener) {
                        InvocationRecords.Record record = invocationRecords.admit(tenant, start, listener);
                        return record == null ? null : new RecordedInvocation(listener, record, invocationRecords, egress);
                    }

                    @Override
                    public void sandboxGone(SandboxProcess sandbox) {
                        egress.sandboxGone(sandbox);
                    }
                });
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("front-door");
        // Handlers block (body reads, waiting on the sandbox, writes): run them on virtual threads.
        threads.setVirtualThreadsExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        this.server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http),
                new HTTP2CServerConnectionFactory(http));
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        server.addConnector(connector);
        server.setHandler(new FrontDoor(this));
        server.setErrorHandler(new dev.bulwark.server.http.JsonErrorHandler());
    }

    /** Starts a node: its front door listens when this returns; deploy workers next. */
    public static Node start(Settings settings) throws Exception {
        Node node = new Node(settings);
        try {
            node.server.start();
        } catch (Exception e) {
            node.close();
            throw e;
        }
        log.info("front door listening on http://{}:{}", settings.host(), node.port());
        return node;
    }

    /** Starts a node serving one project (what {@code bulwark serve <dir>} does). */
    public static Node serve(ProjectConfig project) throws Exception {
        Node node = start(project.settings());
        try {
            node.deploy(worker(project));
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        return node;
    }

    /** The deployed form of a project's worker: its env is the project's vars and secrets. */
    public static DeployedWorker worker(ProjectConfig project) {
        ObjectNode env = new ObjectMapper().createObjectNode();
        project.vars().forEach(env::set);
        project.secrets().forEach(env::put);
        return new DeployedWorker(project.name(), project.settings().tenant(), project.bundle(), env.toString(),
                project.settings().limits());
    }

    /**
     * Loads a worker into its tenant's sandboxes. A worker that fails to load stays deployed:
     * its requests are answered with the load error (status 500, code worker_load_failed).
     *
     * @return null when loaded, else the load error
     */
    public String deploy(DeployedWorker worker) {
        synchronized (workers) {
            workers.put(worker.name(), worker);
        }
        Message.WorkerLoadFailed failure = supervisor.deploy(worker);
        if (failure != null) {
            loadErrors.put(worker.name(), failure.message());
            log.error("worker {} failed to load: {}", worker.name(), failure.message());
            return failure.message();
        }
        loadErrors.remove(worker.name());
        log.info("worker {} loaded (tenant {}, {} modules, {} bytes)", worker.name(), worker.tenant(),
                worker.bundle().modules().size(), worker.bundle().codeSize());
        return null;
    }

    /**
     * The worker a request for {@code host} goes to: the worker named like the host's first label
     * ({@code name.localhost}, or the bare name), else the first deployed worker.
     */
    public DeployedWorker route(String host) {
        synchronized (workers) {
            if (host != null) {
                String h = host.toLowerCase(Locale.ROOT);
                int dot = h.indexOf('.');
                String label = dot < 0 ? h : h.substring(0, dot);
                DeployedWorker w = workers.get(label);
                if (w != null) return w;
            }
            return workers.isEmpty() ? null : workers.values().iterator().next();
        }
    }

    public String loadError(String worker) {
        return loadErrors.get(worker);
    }

    public long nextInvocationId() {
        return invocations.incrementAndGet();
    }

    public SandboxSupervisor supervisor() {
        return supervisor;
    }

    public LogHub logs() {
        return logs;
    }

    /** Upstream responses the egress gateway is streaming right now (operators and tests). */
    public int egressOpenUpstreams() {
        return egress.openUpstreams();
    }

    /** Loop chains through this node with an invocation in flight (tests). */
    int liveLoopTrees() {
        return invocationRecords.liveTrees();
    }

    public String adminToken() {
        return adminToken;
    }

    public Settings settings() {
        return settings;
    }

    /** The port the front door listens on (the real one when the settings asked for 0). */
    public int port() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    private static String writeAdminToken(Path dataDir) throws IOException {
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String token = HexFormat.of().formatHex(raw);
        Path file = dataDir.resolve("admin.token");
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, token);
        return token;
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("stopping the front door: {}", e.toString());
        }
        supervisor.close();
        egress.close();
        deleteTree(runDir);
    }

    private static final String RUN_DIR_PREFIX = "bulwark-";
    private static final String OWNER_FILE = "node.pid";

    /**
     * A node that was killed (SIGKILL, power loss) leaves its run directory behind, with a 39 MB
     * copy of the V8 library in it. The next node removes every run directory whose owner is gone.
     */
    private static void sweepStaleRunDirs(Path tmp) {
        try (var dirs = Files.newDirectoryStream(tmp, RUN_DIR_PREFIX + "*")) {
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
                deleteTree(dir);
            }
        } catch (IOException e) {
            log.warn("could not sweep old run directories in {}: {}", tmp, e.toString());
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: the temp directory is the operator's to clean otherwise
        }
    }
}
