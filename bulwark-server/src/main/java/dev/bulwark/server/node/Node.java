package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.objects.java.JavaObjectClass;
import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.server.config.DurableObjectBinding;
import dev.bulwark.server.config.ServiceBinding;
import dev.bulwark.server.config.WorkerLoaderBinding;
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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
    private final LogHub logs = new LogHub(this::sourceNames);
    private final EgressGateway egress;
    private final InvocationRecords invocationRecords = new InvocationRecords();
    private final java.util.concurrent.atomic.AtomicLong relayedCalls = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong localCalls = new java.util.concurrent.atomic.AtomicLong();
    private final Map<String, DeployedWorker> workers = new LinkedHashMap<>();
    private final Map<String, String> loadErrors = new ConcurrentHashMap<>();
    private final Map<String, SourceNames> sourceNames = new ConcurrentHashMap<>();
    private final Router router = new Router();
    /** Unique, unpredictable, below 2^53 (see RequestIds). */
    private final RequestIds invocations = new RequestIds();
    private final String adminToken;
    private final NamespaceKeys namespaceKeys;
    private final DynamicWorkers dynamicWorkers;
    /** Durable object facets (issue 14): who may call them, which code runs them, their quotas. */
    private final Facets facets;
    /** What starts a facet without its supervisor (its alarm after a restart): in the data directory. */
    private final FacetIndex facetIndex;
    /** Tail workers of dynamic workers: trace items of their invocations. */
    private final Tails tails;
    private final TenantWorkers tenantWorkers;
    private final Alarms alarms;
    private final JavaObjects javaObjects;
    private final Server server;
    private final SocketHub sockets;
    private final Confinement confinement;
    /** Capabilities passed by reference, and the Java capabilities the embedding application registered. */
    private final Capabilities caps = new Capabilities();
    private final dev.bulwark.server.caps.JavaCapabilities javaCapabilities = new dev.bulwark.server.caps.JavaCapabilities();
    private final CapabilityCalls capCalls;
    private final ObjectAdmin objectAdmin;
    private final Migrations migrations;
    /** Governance (issue 15): runs of generated code in sessions, and the sessions' owner, made on first use. */
    private final SessionWorkers sessionWorkers;
    private dev.bulwark.server.governance.Governance governance;
    private final dev.bulwark.server.metrics.NodeMetrics metrics = new dev.bulwark.server.metrics.NodeMetrics();

    private static final java.util.concurrent.atomic.AtomicInteger NODES_IN_THIS_JVM = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Decides how sandboxes are confined and says so, one line per protection; with
     * {@code sandboxes.confine = "require"} a protection that cannot be applied stops the node.
     */
    private static Confinement confine(dev.bulwark.server.config.SandboxSettings.Confine mode) throws IOException {
        // One cgroup name per node: a second node in the same JVM (tests) named like the first removed
        // the first's sandbox cgroups when it closed, retrying each busy one for 2 s. The pid stays last
        // (the sweep of dead nodes reads it there).
        int n = NODES_IN_THIS_JVM.getAndIncrement();
        Confinement c = Confinement.detect(mode, "bulwark-" + (n == 0 ? "" : n + "-") + ProcessHandle.current().pid());
        for (Confinement.Protection p : c.protections()) {
            if (p.applied()) log.info(p.line());
            else log.warn(p.line());
        }
        refuseIfIncomplete(mode, c);
        return c;
    }

    /** With {@code sandboxes.confine = "require"}, a protection that cannot be applied stops the node (and frees {@code c}). */
    static void refuseIfIncomplete(dev.bulwark.server.config.SandboxSettings.Confine mode, Confinement c) throws IOException {
        if (mode == dev.bulwark.server.config.SandboxSettings.Confine.REQUIRE && !c.complete()) {
            c.close();
            throw new IOException("sandboxes.confine is \"require\" but this machine cannot apply: " + String.join(", ",
                    c.protections().stream().filter(p -> !p.applied()).map(Confinement.Protection::name).toList()));
        }
    }

    private Node(Settings settings, List<JavaObjectClass> javaClasses) throws IOException {
        this.settings = settings;
        this.confinement = confine(settings.sandboxes().confine());
        Files.createDirectories(settings.dataDir());
        this.adminToken = newAdminToken();
        this.namespaceKeys = NamespaceKeys.load(settings.dataDir());
        // Unix socket paths are short (108 bytes): the run directory lives in the temp directory.
        this.runDir = Files.createTempDirectory(RUN_DIR_PREFIX);
        Files.writeString(runDir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
        sweepStaleRunDirs(runDir.getParent());
        this.egress = new EgressGateway(settings.egress(), invocationRecords);
        var sb = settings.sandboxes();
        SandboxLauncher launcher = new SandboxLauncher(runDir, settings.dataDir(), settings.limits().heapMb(), sb.poolSize(),
                sb.isolatesPerWorker(), sb.rssCeilingMb(), sb.jvmOptions(), sb.objectIdleMs(), sb.objectStorageIdleMs(),
                confinement, SandboxAotCache.fromSystemProperties(), DynamicWorkers.dormancy(sb));
        this.supervisor = new SandboxSupervisor(launcher, sb.processesPerTenant(), sb.rssCeilingMb() << 20,
                new SandboxEvents() {
                    @Override
                    public void log(Message.LogLine line) {
                        logs.accept(line);
                        tails.log(line);
                    }

                    @Override
                    public InvocationListener watch(String tenant, long invocationId, Message start,
                                                    InvocationListener listener) {
                        return Node.this.watch(tenant, invocationId, start, listener);
                    }

                    @Override
                    public void egress(SandboxProcess from, Message message) {
                        if (refusesNetwork(from, message)) return;
                        egress.receive(new EgressGateway.Origin(from, from.tenant()), message);
                    }

                    @Override
                    public InvocationListener admit(String tenant, long invocationId, String workerId,
                                                    java.util.List<Message.Header> headers, InvocationListener listener) {
                        InvocationRecords.Record record = invocationRecords.admit(tenant, invocationId, workerId, headers,
                                listener);
                        return record == null ? null : new RecordedInvocation(listener, record, invocationRecords, egress);
                    }

                    @Override
                    public void sandboxGone(SandboxProcess sandbox) {
                        caps.sandboxGone(sandbox);
                        egress.sandboxGone(sandbox);
                        dynamicWorkers.sandboxGone(sandbox.tenant());
                        pendingLoads.gone(sandbox);
                    }

                    @Override
                    public void call(String tenant, Message.CallStart call, java.util.function.Consumer<Message> reply) {
                        // Starting the callee may wait for a sandbox: never on the caller's reader thread.
                        // When it cannot wait (the callee's sandbox is up), it starts here: no thread
                        // started and woken per call.
                        if (!Node.this.callAtOnce(tenant, call, reply)) {
                            Thread.startVirtualThread(() -> Node.this.call(tenant, call, reply));
                        }
                    }

                    @Override
                    public void call(SandboxProcess from, Message.CallStart call, java.util.function.Consumer<Message> reply) {
                        if (!pendingLoads.take(from, call, reply)) call(from.tenant(), call, reply); // a first call behind its load?
                    }

                    @Override
                    public void localInvocation(SandboxProcess from, Message.LocalInvocation notice) {
                        Node.this.localInvocation(from, notice);
                    }

                    @Override
                    public void alarmSet(String tenant, Message.AlarmSet change) {
                        DeployedWorker w;
                        synchronized (workers) {
                            w = workers.get(change.target().workerId());
                        }
                        if (w != null && w.tenant().equals(tenant)) alarms.set(tenant, change.target(), change.epochMillis());
                        else if (facets.runs(tenant, change.target())) {
                            alarms.set(tenant, Facets.alarmAddress(change.target()), change.epochMillis());
                        }
                        else log.warn("a sandbox of tenant {} set an alarm for an object it does not run", tenant);
                    }

                    @Override
                    public void rpc(String tenant, Message.RpcCall call, java.util.function.Consumer<Message> reply) {
                        Thread.startVirtualThread(() -> Node.this.rpc(tenant, call, reply));
                    }

                    @Override
                    public void rpc(SandboxProcess from, Message.RpcCall call, java.util.function.Consumer<Message> reply) {
                        // A facet's abort or delete is noted now, on the reader thread: calls the caller
                        // sends after it wait until it is done.
                        facets.arrived(call);
                        // Capabilities in the arguments are taken in now, on the reader thread, before any
                        // later message of the caller (a release of a stub it passed on) is read.
                        byte[] args;
                        try {
                            args = caps.accept(from, call.invocationId(), call.args(), Node.this::mayCall);
                        } catch (Capabilities.CapabilityException e) {
                            reply.accept(new Message.CallFailed(call.callId(), CapabilityCalls.CODE, e.getMessage()));
                            return;
                        }
                        Message.RpcCall accepted = new Message.RpcCall(call.invocationId(), call.callId(), call.target(),
                                call.method(), args);
                        Thread.startVirtualThread(() -> Node.this.rpc(from.tenant(), accepted, reply));
                    }

                    @Override
                    public void capabilities(SandboxProcess from, Message message) {
                        capCalls.receive(from, message);
                    }

                    @Override
                    public void loadDynamic(SandboxProcess from, Message.LoadDynamic request,
                                            java.util.function.Consumer<Message> reply) {
                        Node.this.loadDynamic(from, request, reply);
                    }

                    @Override
                    public void loadDynamic(String tenant, Message.LoadDynamic request,
                                            java.util.function.Consumer<Message> reply) {
                        // Loading may wait for the tenant's sandbox for generated code to start.
                        Thread.startVirtualThread(() -> Node.this.loadDynamic(tenant, request, reply));
                    }
                });
        this.dynamicWorkers = new DynamicWorkers(supervisor, sb.dynamicWorkersMax() + sb.dormant().max());
        dynamicWorkers.onUnload(caps::workerUnloaded);
        try {
            this.facetIndex = new FacetIndex(settings.dataDir());
        } catch (java.sql.SQLException e) {
            throw new IOException("could not open the facet index in " + settings.dataDir() + ": " + e.getMessage(), e);
        }
        this.facets = new Facets(supervisor, dynamicWorkers, caps, this::nextInvocationId, settings.dataDir(),
                new FacetQuotas(FacetQuotas.Limits.of(settings.facets())), facetIndex);
        // A capability by address is held for its tenant, not for one invocation: generated code (whose
        // calls are allowed per invocation) cannot pass a new address on, only what it was given.
        this.capCalls = new CapabilityCalls(caps, supervisor, this::nextInvocationId,
                (tenant, address) -> callable(tenant, 0, address), this::call, id -> {
                    InvocationRecords.Record r = invocationRecords.get(id);
                    return r == null ? null : r.outbound();
                });
        supervisor.capHooks(capCalls.hooks());
        caps.otherWorkers(id -> { // local invocations a sandbox announced: their record names the worker
            InvocationRecords.Record r = invocationRecords.get(id);
            return r == null ? null : r.worker();
        });
        this.tails = new Tails(supervisor::tail, this::nextInvocationId);
        this.tenantWorkers = new TenantWorkers(dynamicWorkers, supervisor, settings.limits(), this::nextInvocationId);
        this.sessionWorkers = new SessionWorkers(dynamicWorkers, supervisor, caps, settings.limits(), this::nextInvocationId,
                new SessionSandboxes(supervisor, sb.sessions()));
        this.sockets = new SocketHub(supervisor, this::nextInvocationId, sb.websocketsPerObject());
        supervisor.sockets(sockets);
        sockets.facetTargets(o -> facets.startFor(o.objectId()));
        facets.sockets(sockets);
        try {
            // Tests shorten the retry backoff with -Dbulwark.alarms.firstBackoffMs.
            this.alarms = new Alarms(settings.dataDir(), this::runAlarm,
                    Long.getLong("bulwark.alarms.firstBackoffMs", Alarms.FIRST_BACKOFF_MS));
        } catch (java.sql.SQLException e) {
            throw new IOException("could not open the alarm index in " + settings.dataDir() + ": " + e.getMessage(), e);
        }
        // Java objects (session objects, supervisors) answer after small commits; a checkpoint every
        // 100 WAL pages keeps any one answer's share of it small (StorageOptions.walCheckpointPages).
        this.javaObjects = new JavaObjects(new NodeObjectsHost(settings.dataDir(), namespaceKeys, alarms),
                sb.objectIdleMs(), StorageOptions.defaults().withWalCheckpointPages(100));
        javaClasses.forEach(javaObjects::register);
        // The built-in facet supervisor (issue 14), unless the embedder registered a class of that name.
        if (javaClasses.stream().noneMatch(c -> c.name().equals(PlatformSupervisor.CLASS_NAME))) {
            javaObjects.register(JavaObjectClass.bindable(PlatformSupervisor.CLASS_NAME,
                    ctx -> new PlatformSupervisor(ctx, platform())));
        }
        alarms.resume(ObjectDirectory::runsInNode);
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("front-door");
        // Handlers block (body reads, waiting on the sandbox, writes): run them on virtual threads.
        threads.setVirtualThreadsExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        this.server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        // Jetty's per-connection header cache matches values ignoring case: on a kept-alive
        // connection, "Authorization: Bearer <TOKEN>" after "Bearer <token>" read as the cached
        // field (found by AdminObjectsTest), and a worker would see an earlier request's spelling.
        http.setHeaderCacheCaseSensitive(true);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http),
                new HTTP2CServerConnectionFactory(http));
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        server.addConnector(connector);
        server.setHandler(new FrontDoor(this));
        var ws = org.eclipse.jetty.websocket.server.ServerWebSocketContainer.ensure(server);
        ws.setMaxTextMessageSize(SocketHub.MAX_MESSAGE_BYTES);
        ws.setMaxBinaryMessageSize(SocketHub.MAX_MESSAGE_BYTES);
        ws.setIdleTimeout(java.time.Duration.ZERO);
        server.setErrorHandler(new dev.bulwark.server.http.JsonErrorHandler());
        this.migrations = new Migrations(settings.dataDir(), new Migrations.AlarmIndex() {
            @Override
            public void renameClass(String tenant, String worker, String from, String to) {
                alarms.renameClass(worker, from, to);
            }

            @Override
            public void transferClass(String tenant, Migrations.ClassRef from, Migrations.ClassRef to) {
                alarms.transferClass(from.worker(), from.className(), to.worker(), to.className());
            }

            @Override
            public void deleteClass(String tenant, String worker, String className) {
                alarms.deleteClass(worker, className);
            }
        });
        this.objectAdmin = new ObjectAdmin(settings.dataDir(), () -> {
            synchronized (workers) {
                return List.copyOf(workers.values());
            }
        }, supervisor, alarms, sockets);
    }

    /** Starts a node: its front door listens when this returns; deploy workers next. */
    public static Node start(Settings settings) throws Exception {
        return start(settings, List.of());
    }

    /**
     * Starts a node with durable object classes implemented in Java (trusted platform code run in
     * the node; see {@link #javaObjects()}). Registering them here, before any worker is deployed,
     * lets their alarms fire from the first moment and workers' bindings resolve to them.
     */
    public static Node start(Settings settings, List<JavaObjectClass> javaClasses) throws Exception {
        Node node = new Node(settings, javaClasses);
        try {
            node.server.start();
            // Only once the port is ours: a node that could not listen must not replace the token
            // of another node that uses the same data directory.
            writeAdminToken(settings.dataDir(), node.adminToken);
        } catch (Exception e) {
            node.close();
            throw e;
        }
        log.info("front door listening on http://{}:{}", settings.host(), node.port());
        return node;
    }

    /**
     * Starts a node serving one project (what {@code bulwark serve <dir>} does): its worker is the
     * default worker, which answers every host no route claims. A worker that fails to load stays
     * deployed (see {@link #deploy}); {@link #loadError} says so.
     */
    public static Node serve(ProjectConfig project) throws Exception {
        return serve(java.util.List.of(project));
    }

    /**
     * Starts a node serving several projects, with the node settings (host, port, data directory,
     * sandboxes, egress, front door) of the first; each worker keeps its own tenant and limits.
     * With one project its worker is the default worker; with several, a request reaches a worker
     * only through its routes or its name ({@code <name>.localhost}), and any other host gets 404.
     * Workers that fail to load are logged once each and answer with their load error.
     */
    public static Node serve(java.util.List<ProjectConfig> projects) throws Exception {
        return serve(projects, List.of());
    }

    /** {@link #serve(java.util.List)} with durable object classes implemented in Java (see {@link #start(Settings, List)}). */
    public static Node serve(java.util.List<ProjectConfig> projects, List<JavaObjectClass> javaClasses) throws Exception {
        if (projects.isEmpty()) throw new IllegalArgumentException("no project to serve");
        Node node = start(projects.getFirst().settings(), javaClasses);
        try {
            // Storage changes first, before any sandbox could open an object of a renamed or deleted class.
            for (ProjectConfig project : projects) node.migrate(project);
            java.util.Map<String, String> all = new java.util.HashMap<>();
            List<DeployedWorker> deployed = new ArrayList<>();
            for (ProjectConfig project : projects) {
                DeployedWorker w = node.worker(project);
                all.put(w.name(), w.tenant());
                deployed.add(w);
            }
            for (DeployedWorker w : deployed) node.checkServices(w, all);
            for (int i = 0; i < projects.size(); i++) {
                ProjectConfig project = projects.get(i);
                node.deploy(deployed.get(i), project.routes(), project.sourceRoot(), project.workersDev(), false);
                node.facetRoute(deployed.get(i), project.settings().facets());
            }
            if (projects.size() == 1) node.router.defaultWorker(projects.getFirst().name());
            dev.bulwark.server.governance.ConfiguredGovernance.apply(node, projects); // issue 15: tools and policies of the settings
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        return node;
    }

    /**
     * Applies the project's durable object migrations that this node has not applied yet (renamed
     * and deleted classes change storage; see {@link Migrations}). Call it before deploying the
     * project's worker; a migration that changes a class whose objects run now is refused.
     *
     * @return the tags applied now
     * @throws MigrationException when the migrations do not fit what was applied or what is bound
     */
    public List<String> migrate(ProjectConfig project) {
        return migrations.apply(project.settings().tenant(), project.name(), project.migrations(), project.durableObjects(),
                supervisor::anyPlaced);
    }

    /**
     * The deployed form of a project's worker: its env is the project's vars and secrets plus its
     * durable object namespaces.
     */
    public DeployedWorker worker(ProjectConfig project) {
        ObjectNode env = new ObjectMapper().createObjectNode();
        project.vars().forEach(env::set);
        project.secrets().forEach(env::put);
        String tenant = project.settings().tenant();
        List<Binding> bindings = new ArrayList<>();
        for (DurableObjectBinding b : project.durableObjects()) {
            if (JavaObjects.SCRIPT_NAME.equals(b.scriptName())) {
                // A class implemented in Java, run in the node: the embedder must have registered it for workers.
                if (javaObjects.registered(b.className()).filter(JavaObjectClass::bindable).isEmpty()) {
                    throw new IllegalArgumentException("durable object binding " + b.name() + " names the Java class '"
                            + b.className() + "', which this node has not registered for workers");
                }
            }
            String workerId = b.scriptName() == null ? project.name() : b.scriptName();
            Migrations.Namespace ns = migrations.namespace(tenant, workerId, b.className());
            bindings.add(new Binding.DurableObjectNamespace(b.name(), ns.storage().worker(), ns.storage().className(),
                    namespaceKeys.keyFor(tenant, ns.key().worker(), ns.key().className())));
        }
        for (WorkerLoaderBinding b : project.workerLoaders()) bindings.add(new Binding.WorkerLoader(b.binding()));
        for (ServiceBinding b : project.services()) {
            // Props from configuration travel as JSON text; the callee tells it from serialized props by its first byte.
            Address.Grant grant = b.propsJson() == null ? null
                    : Address.Grant.props(b.propsJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            bindings.add(new Binding.Service(b.binding(), new Address.Worker(b.service(), b.entrypoint(), grant)));
        }
        // ctx.exports: the worker's own durable object classes as namespaces, keyed as its bindings are.
        for (String className : ownClasses(project)) {
            // A class transferred to another worker is that worker's now: this one exports no namespace for it.
            if (migrations.transferredAway(tenant, project.name(), className)) continue;
            Migrations.ClassRef key = migrations.namespace(tenant, project.name(), className).key();
            bindings.add(new Binding.ExportedNamespace(className, namespaceKeys.keyFor(tenant, key.worker(), key.className())));
        }
        return new DeployedWorker(project.name(), tenant, project.bundle(), env.toString(), bindings, true,
                project.settings().limits());
    }

    /**
     * The durable object classes a project's worker exports: those its migrations create (under
     * their latest names, deleted ones left out) and those its own namespace bindings name.
     */
    static java.util.Set<String> ownClasses(ProjectConfig project) {
        java.util.Set<String> classes = new java.util.LinkedHashSet<>();
        for (dev.bulwark.server.config.Migration m : project.migrations()) {
            classes.addAll(m.newSqliteClasses());
            classes.addAll(m.newClasses());
            for (dev.bulwark.server.config.RenamedClass r : m.renamedClasses()) {
                classes.remove(r.from());
                classes.add(r.to());
            }
            m.deletedClasses().forEach(classes::remove);
            m.transferredClasses().forEach(t -> classes.add(t.to()));
        }
        for (DurableObjectBinding b : project.durableObjects()) {
            if (b.scriptName() == null || b.scriptName().equals(project.name())) classes.add(b.className());
        }
        return classes;
    }

    /**
     * A worker of {@code tenant} calls a durable object: the node starts an invocation of it where
     * the directory places it, and carries its response back. A worker can reach only the objects
     * of its own tenant's workers, whatever its sandbox claims.
     */
    private void call(String tenant, Message.CallStart call, java.util.function.Consumer<Message> reply) {
        relayedCalls.incrementAndGet();
        if (Facets.concerns(call.target())) {
            facets.call(tenant, call, reply);
            return;
        }
        if (call.target() instanceof Address.DurableObject o && ObjectDirectory.runsInNode(o)) {
            CallerLink link = CallerLink.of(reply);
            if (link != null && link.bodyStreamed()) {
                // A Java object takes its request whole: a streamed body is read first (up to 8 MiB).
                CallBodyCollector.collect(call, link, whole -> reply.accept(JavaObjectCalls.fetch(javaObjects, tenant, o, whole)));
                return;
            }
            reply.accept(JavaObjectCalls.fetch(javaObjects, tenant, o, call));
            return;
        }
        DeployedWorker target = callable(tenant, call.invocationId(), call.target());
        if (target == null) {
            reply.accept(new Message.CallFailed(call.callId(), ErrorCode.NOT_FOUND.code(),
                    "no worker '" + call.target().workerId() + "' can be called from this worker"));
            return;
        }
        start(target, call, reply);
    }

    /** First calls sent right behind their dynamic worker's load, held until it is answered. */
    private final PendingLoads pendingLoads = new PendingLoads((tenant, call, reply) -> {
        if (!callAtOnce(tenant, call, reply)) Thread.startVirtualThread(() -> call(tenant, call, reply));
    });

    /** First calls that went right behind their dynamic worker's load so far (tests). */
    long callsBehindLoads() {
        return pendingLoads.followed();
    }

    /** Calls carrying at most this much body may start on the caller's reader thread ({@link #callAtOnce}). */
    private static final int AT_ONCE_BODY_BYTES = 64 << 10;

    /**
     * {@link #call}, when nothing in it can wait: the target is a worker or object of a sandbox
     * that is up (not a facet, not a Java object, no sandbox to start), and the body is small. The
     * same checks and the same invocation as {@link #call}; false when the call must take the
     * slow path (then nothing was done).
     */
    private boolean callAtOnce(String tenant, Message.CallStart call, java.util.function.Consumer<Message> reply) {
        if (Facets.concerns(call.target())) {
            if (call.body() != null && call.body().length > AT_ONCE_BODY_BYTES) return false;
            if (!facets.callAtOnce(tenant, call, reply)) return false;
            relayedCalls.incrementAndGet();
            return true;
        }
        if (call.target() instanceof Address.DurableObject o && ObjectDirectory.runsInNode(o)) return false;
        if (call.body() != null && call.body().length > AT_ONCE_BODY_BYTES) return false;
        DeployedWorker target = callable(tenant, call.invocationId(), call.target());
        if (target == null || !supervisor.ready(target.tenant())) return false;
        relayedCalls.incrementAndGet();
        start(target, call, reply);
        return true;
    }

    private void start(DeployedWorker target, Message.CallStart call, java.util.function.Consumer<Message> reply) {
        long invocationId = nextInvocationId();
        // A socket in the response may be passed on by the caller (a supervisor's facet's socket, one more hop).
        CallRelay relay = new CallRelay(call.callId(), invocationId, sockets.offering(call.invocationId(), reply));
        relay.connect(supervisor.fetch(target.tenant(), new Message.FetchStart(invocationId, call.target(),
                call.method(), call.url(), call.headers(), call.body(), relay.streamsBody()), relay));
    }

    /** An RPC call of a worker of {@code tenant}: placed and checked as {@link #call} is. */
    private void rpc(String tenant, Message.RpcCall call, java.util.function.Consumer<Message> reply) {
        relayedCalls.incrementAndGet();
        if (Facets.concerns(call.target())) {
            facets.rpc(tenant, call, reply);
            return;
        }
        if (call.target() instanceof Address.DurableObject o && ObjectDirectory.runsInNode(o)) {
            if (dev.bulwark.sandbox.ipc.CapPayload.hasRefs(call.args())) {
                caps.discard(call.args());
                reply.accept(new Message.CallFailed(call.callId(), CapabilityCalls.CODE,
                        "A durable object implemented in Java takes plain values only: no functions, RpcTargets or stubs."));
                return;
            }
            reply.accept(JavaObjectCalls.rpc(javaObjects, tenant, o, call));
            return;
        }
        DeployedWorker target = callable(tenant, call.invocationId(), call.target());
        if (target == null) {
            caps.discard(call.args());
            reply.accept(new Message.CallFailed(call.callId(), ErrorCode.NOT_FOUND.code(),
                    "no worker '" + call.target().workerId() + "' can be called from this worker"));
            return;
        }
        long invocationId = nextInvocationId();
        caps.deliver(call.args(), invocationId);
        supervisor.rpc(target.tenant(), new Message.RpcStart(invocationId, call.target(), call.method(), call.args()),
                new RpcRelay(call.callId(), reply, caps, call.invocationId()));
    }

    /** Whether a worker of {@code tenant} may call {@code address} (and so pass a stub to it on). */
    private boolean mayCall(String tenant, Address address) {
        return callable(tenant, 0, address) != null;
    }

    /** What the built-in facet supervisor asks of the node. */
    private PlatformSupervisor.Platform platform() {
        return new PlatformSupervisor.Platform() {
            @Override
            public String load(String tenant, String codeHash, java.util.function.Supplier<String> code) {
                java.util.concurrent.CompletableFuture<Message> answer = new java.util.concurrent.CompletableFuture<>();
                dynamicWorkers.load(tenant, new Message.LoadDynamic(0, 0, JavaObjects.WORKER_ID, codeHash, null, null, false,
                        settings.limits()), answer::complete);
                Message known = answer.join();
                if (known instanceof Message.DynamicLoaded l) return l.workerId();
                String source = code.get();
                if (source == null) throw new IllegalStateException("the app's code is missing");
                dev.bulwark.sandbox.worker.WorkerBundle bundle = dev.bulwark.sandbox.worker.WorkerBundle.of("app.js",
                        List.of(dev.bulwark.sandbox.worker.WorkerModule.text("app.js", dev.bulwark.sandbox.worker.ModuleType.JS, source)));
                java.util.concurrent.CompletableFuture<Message> loaded = new java.util.concurrent.CompletableFuture<>();
                // Generated apps get no network (no globalOutbound): the supervisor is their only way out.
                dynamicWorkers.load(tenant, new Message.LoadDynamic(0, 0, JavaObjects.WORKER_ID, codeHash, bundle, "{}", false,
                        settings.limits()), loaded::complete);
                return switch (loaded.join()) {
                    case Message.DynamicLoaded l -> l.workerId();
                    case Message.CallFailed f -> throw new IllegalStateException(f.message());
                    default -> throw new IllegalStateException("the app could not be loaded");
                };
            }

            @Override
            public Message fetch(String tenant, Address.DurableObject parent, String app, String workerId, String className,
                                 dev.bulwark.objects.java.JavaRequest request) {
                List<Message.Header> headers = new ArrayList<>();
                for (dev.bulwark.objects.java.HttpHeader h : request.headers()) {
                    if (!h.name().startsWith(":")) headers.add(new Message.Header(h.name(), h.value()));
                }
                return facets.fetchFromNode(tenant, parent, app, workerId, className, request.method(), request.url(),
                        headers, request.body());
            }

            @Override
            public String reset(String tenant, Address.DurableObject parent, String app, boolean delete) {
                return facets.resetFromNode(tenant, parent, app, delete);
            }

            @Override
            public FacetRecord record(Address.DurableObject parent, String app) {
                return facets.recordOf(dev.bulwark.sandbox.ipc.FacetIds.id(parent.objectId(), app));
            }
        };
    }

    /** The projects' routes to the built-in supervisor, by worker name ({@code facets.route_prefix}). */
    private final java.util.Map<String, FacetRoute> facetRoutes = new java.util.concurrent.ConcurrentHashMap<>();

    private void facetRoute(DeployedWorker worker, dev.bulwark.server.config.FacetSettings settings) {
        if (settings.routePrefix() == null) facetRoutes.remove(worker.name());
        else facetRoutes.put(worker.name(), new FacetRoute(worker.tenant(), settings.routePrefix(), settings.routeObject()));
    }

    /**
     * The route to the built-in supervisor that takes a request for {@code worker} at {@code path},
     * or null (the worker serves it). Read by the front door on every request: one map lookup.
     */
    public FacetRoute facetRoute(DeployedWorker worker, String path) {
        if (facetRoutes.isEmpty()) return null;
        FacetRoute r = facetRoutes.get(worker.name());
        return r != null && r.rest(path) != null ? r : null;
    }

    /** What the node recorded of every facet it ran since it started (the admin API's {@code facets}). */
    public List<FacetRecord> facetRecords() {
        return facets.records();
    }

    /** The node's side of facets (tests). */
    Facets facets() {
        return facets;
    }

    /** The facet quotas of this node's supervisors (issue 14): defaults and per supervisor, changeable at run time. */
    public FacetQuotas facetQuotas() {
        return facets.quotas;
    }

    /** The registry of Java capabilities this node's workers can be given (see {@link #withCapability}). */
    public dev.bulwark.server.caps.JavaCapabilities capabilities() {
        return javaCapabilities;
    }

    /**
     * {@code worker} with one more binding: {@code env[envName]} is a stub on the Java capability
     * registered as {@code capabilityName} (see {@link dev.bulwark.server.caps.JavaCapability}).
     * Deploy the worker this returns.
     */
    public DeployedWorker withCapability(DeployedWorker worker, String envName, String capabilityName) {
        dev.bulwark.server.caps.JavaCapability object = javaCapabilities.get(capabilityName);
        if (object == null) throw new IllegalArgumentException("no Java capability is registered as '" + capabilityName + "'");
        long capId = caps.grantToWorker(caps.javaCap(capabilityName, object), worker.name(), worker.tenant());
        List<Binding> bindings = new ArrayList<>(worker.bindings());
        bindings.add(new Binding.Capability(envName, capId));
        return new DeployedWorker(worker.name(), worker.tenant(), worker.bundle(), worker.envJson(), bindings,
                worker.networkAllowed(), worker.limits());
    }

    /**
     * Revokes every grant of the Java capability registered as {@code capabilityName} made so far
     * (workers' env bindings and every stub passed on from them): calls fail from now on with
     * "The RPC stub was revoked by the host that granted it." Register and grant it again to
     * give it anew.
     */
    public void revokeCapability(String capabilityName) {
        caps.revokeJava(capabilityName);
    }

    /** Capability references the node holds (tests). */
    int liveCapabilityRefs() {
        return caps.liveRefs();
    }

    /** The no-op end of a local invocation's record: the sandbox answers the caller itself. */
    private static final InvocationListener LOCAL = new InvocationListener.NoResponse() {
        public void failed(Message.InvocationFailed failure) {}
        public void rpcReturn(Message.RpcReturn result) {}
        public void done(long cpuMicros) {}
    };

    /** Sandbox-chosen invocation ids: bit 52 set, below 2^53 (the node's own are below 2^52). */
    private static final long LOCAL_ID_BIT = 1L << 52;

    /**
     * A sandbox says it started an invocation of an object placed in it (a call between two of its
     * own isolates, made without the node). The node checks what it would have checked for a
     * relayed call (the object is its tenant's, and placed in that very sandbox) and records the
     * invocation as one it started, so the callee's outbound requests are attributed and its end is
     * logged. A notice that does not check out is refused and logged; the sandbox, which alone could
     * send it, can then reach nothing outbound for that invocation.
     */
    private void localInvocation(SandboxProcess from, Message.LocalInvocation notice) {
        long id = notice.invocationId();
        Address.DurableObject target = notice.target();
        if ((id & ~(LOCAL_ID_BIT - 1)) != LOCAL_ID_BIT || callable(from.tenant(), id, target) == null
                || supervisor.placement(target) != from) {
            refusedLocal(from, id, target);
            return;
        }
        // No loop headers (a request with them goes through the node): the loop limits cannot refuse it.
        InvocationRecords.Record record = invocationRecords.admit(from.tenant(), id, target.workerId(), List.of(), LOCAL);
        if (record == null) return;
        InvocationListener watched = facets.watch(id, target, new RecordedInvocation(LOCAL, record, invocationRecords, egress));
        // Held on the object's placement until it is done, so an eviction notice cannot drop it meanwhile.
        InvocationListener listener = supervisor.holdLocal(target, from, watched);
        if (listener == null) {
            invocationRecords.done(id);
            refusedLocal(from, id, target);
            return;
        }
        if (!from.track(id, listener)) {
            supervisor.letGoLocal(target, from);
            invocationRecords.done(id);
            log.warn("sandbox {} announced local invocation {} twice or while dying", from.name(), LogHub.requestId(id));
            return;
        }
        localCalls.incrementAndGet();
    }

    private void refusedLocal(SandboxProcess from, long id, Address.DurableObject target) {
        {
            log.warn("sandbox {} of tenant {} announced a local invocation it may not make ({} {}.{})", from.name(),
                    from.tenant(), LogHub.requestId(id), target.workerId(), target.className());
        }
    }

    /** Calls from workers to objects and entrypoints the node relayed ({@code CallStart}, {@code RpcCall}). */
    public long relayedCalls() {
        return relayedCalls.get();
    }

    /** Calls to objects that sandboxes made without the node and announced ({@code LocalInvocation}). */
    public long localCalls() {
        return localCalls.get();
    }

    /** Object placements the node keeps (about the live objects: evicted ones are dropped; tests). */
    int objectPlacements() {
        return supervisor.placements();
    }

    /** Runs an object's alarm handler where the directory places the object. */
    private void runAlarm(String tenant, Address.DurableObject object, int retryCount,
                          java.util.function.Consumer<Boolean> done) {
        if (ObjectDirectory.runsInNode(object)) {
            Thread.startVirtualThread(() -> done.accept(javaObjects.alarm(tenant, object.className(), object.objectId(),
                    object.name(), retryCount)));
            return;
        }
        if (dev.bulwark.sandbox.ipc.FacetIds.isFacet(object)
                || dev.bulwark.sandbox.ipc.FacetIds.CONTROL_WORKER.equals(object.workerId())) {
            // A facet's alarm fires where its current code version runs, or, when nothing started
            // it since the node started, at its last code version from the facet index.
            Thread.startVirtualThread(() -> {
                Address.DurableObject target = facets.startFor(object.objectId());
                if (target == null) {
                    done.accept(facets.get(object.objectId()) == null); // a deleted facet's alarm is dropped
                    return;
                }
                supervisor.alarm(tenant, new Message.AlarmStart(nextInvocationId(), target, retryCount, retryCount > 0),
                        new AlarmRelay(done));
            });
            return;
        }
        Thread.startVirtualThread(() -> supervisor.alarm(tenant, new Message.AlarmStart(nextInvocationId(), object,
                retryCount, retryCount > 0), new AlarmRelay(done)));
    }

    /**
     * The worker behind an address that invocation {@code invocationId} of a sandbox of {@code tenant}
     * may call, or null. A tenant's own workers may call its durable objects, its deployed workers
     * (service bindings, ctx.exports) and its dynamic workers, whatever its sandbox claims. A
     * dynamic worker (a sandbox for generated code) may call only what it was granted: its own
     * entrypoints (ctx.exports) and the exact grants in its bindings (globalOutbound), props included.
     */
    DeployedWorker callable(String tenant, long invocationId, Address address) {
        if (DynamicWorkers.isGenerated(tenant)) return callableFromGenerated(tenant, invocationId, address);
        return switch (address) {
            case Address.DurableObject o -> deployedOf(tenant, o.workerId());
            case Address.Worker w -> {
                DeployedWorker dynamic = dynamicWorkers.callable(tenant, w.workerId());
                yield dynamic != null ? dynamic : deployedOf(tenant, w.workerId());
            }
        };
    }

    private DeployedWorker callableFromGenerated(String tenant, long invocationId, Address address) {
        InvocationRecords.Record caller = invocationRecords.get(invocationId);
        if (caller == null || !caller.tenant().equals(tenant) || !(address instanceof Address.Worker w)) return null;
        DeployedWorker self = dynamicWorkers.get(caller.worker());
        if (self == null || !self.tenant().equals(tenant)) return null;
        if (!Grants.allows(self, w)) return null;
        return w.workerId().equals(self.name()) ? self : deployedOf(DynamicWorkers.tenantOf(tenant), w.workerId());
    }

    /** The deployed worker of that name if it belongs to {@code tenant}, else null. */
    private DeployedWorker deployedOf(String tenant, String name) {
        DeployedWorker w;
        synchronized (workers) {
            w = workers.get(name);
        }
        return w != null && w.tenant().equals(tenant) ? w : null;
    }

    /**
     * A loader binding of a worker of {@code tenant} asks for a dynamic worker. The capabilities it
     * grants (globalOutbound, tails) must name workers of its own tenant: a sandbox cannot hand
     * generated code a way into another tenant, whatever it claims.
     */
    void loadDynamic(String tenant, Message.LoadDynamic request, java.util.function.Consumer<Message> reply) {
        loadDynamic(tenant, request, reply, workerId -> List.of());
    }

    /**
     * A loader binding's request from sandbox {@code from}, with the capabilities its parent put in
     * the env: they are taken in now (on the reader thread, before a later release by the parent is
     * read) and granted to the loaded worker; a load refused or failed before they were granted
     * lets them go at once (an export's disposer runs in the parent), so a refused load leaks none.
     */
    void loadDynamic(Capabilities.Peer from, Message.LoadDynamic request, java.util.function.Consumer<Message> reply) {
        if (request.bundle() == null && request.envCaps() == null) {
            // "Is this id loaded?" waits for nothing (a map lookup): answered here, on the reader
            // thread, not on a thread of its own (dynpath: one hand-over less on a cold get()).
            // The answer is queued for the writer: a reader never blocks on a sandbox's socket.
            loadDynamic(from.tenant(), request, from instanceof SandboxProcess p ? p::post : reply, workerId -> List.of());
            return;
        }
        byte[] envCaps;
        try {
            envCaps = request.envCaps() == null ? null
                    : caps.accept(from, request.invocationId(), request.envCaps(), Node.this::mayCall);
        } catch (Capabilities.CapabilityException e) {
            reply.accept(new Message.CallFailed(request.callId(), CapabilityCalls.CODE, e.getMessage()));
            return;
        }
        java.util.concurrent.atomic.AtomicBoolean granted = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.function.Consumer<Message> once = m -> {
            if (!answered.compareAndSet(false, true)) return;
            if (envCaps != null && !granted.get()) caps.discard(envCaps);
            // The call that came right behind the load goes on first: it is what the parent waits for.
            pendingLoads.answered(from, request.invocationId(), request.callId(), m);
            reply.accept(m);
        };
        // Read on the reader thread before the call that may follow it: that call finds it.
        pendingLoads.started(from, request.invocationId(), request.callId());
        java.util.function.Function<String, List<Binding>> envBindings = workerId -> {
            granted.set(true);
            return capCalls.envBindings(envCaps, workerId, DynamicWorkers.generatedTenant(from.tenant()));
        };
        // Loading may wait for the tenant's sandbox for generated code to start.
        Thread.startVirtualThread(() -> {
            try {
                loadDynamic(from.tenant(), request, once, envBindings);
            } catch (RuntimeException e) {
                log.warn("loading a dynamic worker failed", e);
                once.accept(new Message.CallFailed(request.callId(), ErrorCode.INTERNAL.code(),
                        "the dynamic worker could not be loaded"));
            }
        });
    }

    /** {@link #loadDynamic(String, Message.LoadDynamic, java.util.function.Consumer)} whose worker gets the env's capabilities {@code envBindings} makes. */
    private void loadDynamic(String tenant, Message.LoadDynamic request, java.util.function.Consumer<Message> reply,
                             java.util.function.Function<String, List<Binding>> envBindings) {
        if (DynamicWorkers.isGenerated(tenant)) {
            reply.accept(new Message.CallFailed(request.callId(), ErrorCode.NOT_FOUND.code(),
                    "a dynamic worker has no worker loader"));
            return;
        }
        for (Binding b : request.bindings()) {
            Address.Worker target = switch (b) {
                case Binding.Outbound o -> o.target();
                case Binding.Tail t -> t.target();
                case Binding.Service sv -> sv.target();
                case Binding.DurableObjectNamespace ns -> null;
                case Binding.WorkerLoader l -> null;
                case Binding.ExportedNamespace e -> null;
                case Binding.Capability c -> null; // only the node makes these, from envCaps
            };
            if (target == null || deployedOf(tenant, target.workerId()) == null) {
                reply.accept(new Message.CallFailed(request.callId(), ErrorCode.NOT_FOUND.code(),
                        "a dynamic worker can be given only service bindings and ctx.exports entrypoints of its parent's tenant"));
                return;
            }
        }
        dynamicWorkers.load(tenant, request, reply, envBindings);
    }

    /**
     * Defence in depth behind the sandbox's own check: a dynamic worker whose globalOutbound is null
     * or a fetcher has no egress at all, so a subrequest it sends anyway (its sandbox subverted) is
     * answered with a failure here and never reaches the gateway.
     */
    private boolean refusesNetwork(SandboxProcess from, Message message) {
        if (!DynamicWorkers.isGenerated(from.tenant())) return false;
        long invocationId;
        long subrequestId;
        switch (message) {
            case Message.Subrequest s -> {
                invocationId = s.invocationId();
                subrequestId = s.subrequestId();
            }
            case Message.StreamedSubrequest s -> {
                invocationId = s.invocationId();
                subrequestId = s.subrequestId();
            }
            default -> {
                return false; // acknowledgements and body chunks of a subrequest the gateway let through
            }
        }
        InvocationRecords.Record caller = invocationRecords.get(invocationId);
        DeployedWorker worker = caller == null || !caller.tenant().equals(from.tenant()) ? null
                : dynamicWorkers.get(caller.worker());
        if (worker != null && worker.networkAllowed()) return false;
        from.deliver(new Message.SubrequestFailed(subrequestId, "This worker is not permitted to access the internet "
                + "via global functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to "
                + "the outside world."));
        return true;
    }

    /** An invocation of a dynamic worker that has tails reports to them (see {@link Tails}). */
    private InvocationListener watch(String tenant, long invocationId, Message start, InvocationListener listener) {
        listener = facets.watch(invocationId, start, listener);
        if (!DynamicWorkers.isGenerated(tenant)) return listener;
        String workerId = switch (start) {
            case Message.FetchStart f -> f.workerId();
            case Message.RpcStart r -> r.target().workerId();
            default -> null;
        };
        DeployedWorker worker = workerId == null ? null : dynamicWorkers.get(workerId);
        if (worker == null) return listener;
        InvocationRecords.Record record = invocationRecords.get(invocationId);
        return tails.watch(worker, DynamicWorkers.tenantOf(tenant), invocationId, start, listener,
                () -> record == null ? null : record.outbound().snapshot());
    }

    /**
     * Service bindings must name deployed workers of the same tenant ({@code alsoDeploying}: the
     * workers deployed together with this one). A missing or foreign service is a deploy error.
     */
    private void checkServices(DeployedWorker worker, java.util.Map<String, String> alsoDeploying) {
        for (Binding b : worker.bindings()) {
            if (!(b instanceof Binding.Service sv)) continue;
            String name = sv.target().workerId();
            String ownerTenant;
            synchronized (workers) {
                DeployedWorker known = workers.get(name);
                ownerTenant = known != null ? known.tenant() : alsoDeploying.get(name);
            }
            if (name.equals(worker.name())) ownerTenant = worker.tenant();
            if (ownerTenant == null) {
                throw new IllegalArgumentException("worker " + worker.name() + ": service binding " + sv.name()
                        + " names the worker '" + name + "', which is not deployed on this node");
            }
            if (!ownerTenant.equals(worker.tenant())) {
                throw new IllegalArgumentException("worker " + worker.name() + ": service binding " + sv.name()
                        + " names the worker '" + name + "' of another tenant; a worker can bind only workers of its own tenant");
            }
        }
    }

    /**
     * Loads a worker into its tenant's sandboxes. A worker that fails to load stays deployed:
     * its requests are answered with the load error (status 500, code worker_load_failed).
     *
     * @return null when loaded, else the load error
     */
    public String deploy(DeployedWorker worker) {
        return deploy(worker, java.util.List.of(), "");
    }

    /**
     * Like {@link #deploy(DeployedWorker)}, with the worker's wrangler routes, and the project
     * directory its module names start from (e.g. {@code "src/"}), so that positions in its load
     * errors and log lines are project paths.
     */
    public String deploy(DeployedWorker worker, java.util.List<dev.bulwark.server.config.Route> routes, String sourceRoot) {
        return deploy(worker, routes, sourceRoot, true);
    }

    /**
     * Like {@link #deploy(DeployedWorker, java.util.List, String)}; {@code byName} false (wrangler's
     * {@code workers_dev: false}) means the worker answers only on its routes (or as the default worker),
     * not on {@code <name>.localhost}.
     */
    public String deploy(DeployedWorker worker, java.util.List<dev.bulwark.server.config.Route> routes, String sourceRoot,
                         boolean byName) {
        return deploy(worker, routes, sourceRoot, byName, true);
    }

    /**
     * @throws IllegalArgumentException when a service binding names a worker that is not deployed
     *                                  (checked unless the caller did) or one of another tenant
     */
    private String deploy(DeployedWorker worker, java.util.List<dev.bulwark.server.config.Route> routes, String sourceRoot,
                          boolean byName, boolean checkServices) {
        if (checkServices) checkServices(worker, java.util.Map.of());
        router.byName(worker.name(), byName);
        SourceNames names = SourceNames.of(sourceRoot, worker.bundle());
        sourceNames.put(worker.name(), names);
        synchronized (workers) {
            workers.put(worker.name(), worker);
        }
        router.routes(worker.name(), routes);
        Message.WorkerLoadFailed failure = supervisor.deploy(worker);
        if (failure != null) {
            String message = names.rewrite(failure.message());
            loadErrors.put(worker.name(), message);
            log.error("worker {} failed to load: {}", worker.name(), message);
            return message;
        }
        loadErrors.remove(worker.name());
        alarms.resume();
        log.info("worker {} loaded (tenant {}, {} modules, {} bytes)", worker.name(), worker.tenant(),
                worker.bundle().modules().size(), worker.bundle().codeSize());
        return null;
    }

    /** The worker a request for {@code host} and {@code path} goes to, or null (see {@link Router}). */
    public DeployedWorker route(String host, String path) {
        synchronized (workers) {
            String name = router.route(host, path, workers);
            return name == null ? null : workers.get(name);
        }
    }

    /** {@link #route(String, String)} for the path {@code /}. */
    public DeployedWorker route(String host) {
        return route(host, "/");
    }

    /** Makes {@code worker} answer every request no route or name claims (null: such requests get 404). */
    public void defaultWorker(String worker) {
        router.defaultWorker(worker);
    }

    /** Whether a worker of that name is deployed. */
    public boolean isDeployed(String worker) {
        synchronized (workers) {
            return workers.containsKey(worker);
        }
    }

    /** The deployed worker of that name, or null. */
    DeployedWorker deployed(String worker) {
        synchronized (workers) {
            return workers.get(worker);
        }
    }

    SourceNames sourceNames(String worker) {
        return sourceNames.getOrDefault(worker, SourceNames.NONE);
    }

    public String loadError(String worker) {
        return loadErrors.get(worker);
    }

    public long nextInvocationId() {
        return invocations.next();
    }

    /** Dynamic workers loaded for tenants from outside any worker (the tenant API, the embedding API). */
    public TenantWorkers tenantWorkers() {
        return tenantWorkers;
    }

    /** Runs of generated code with one Java capability in their env (governance's sessions). */
    public SessionWorkers sessionWorkers() {
        return sessionWorkers;
    }

    /** The node's Prometheus registry, scraped at /cdn-cgi/bulwark/metrics with the admin token. */
    public dev.bulwark.server.metrics.NodeMetrics metrics() {
        return metrics;
    }

    /** Sessions, envelopes, tool mediation (issue 15): made, and its session class registered, on first use. */
    public synchronized dev.bulwark.server.governance.Governance governance() {
        if (governance == null) governance = dev.bulwark.server.governance.Governance.attach(this);
        return governance;
    }

    public SandboxSupervisor supervisor() {
        return supervisor;
    }

    /**
     * The durable objects implemented in Java that run in this node: register classes, and reach
     * objects from Java ({@code javaObjects().namespace(tenant, "SessionObject").getByName(...).call(...)}).
     * Workers reach the classes registered as bindable through a {@code durable_objects} binding
     * with {@code script_name} {@value JavaObjects#SCRIPT_NAME}.
     */
    public JavaObjects javaObjects() {
        return javaObjects;
    }

    public SocketHub sockets() {
        return sockets;
    }

    /** What the admin endpoints ask about durable objects. */
    public ObjectAdmin objects() {
        return objectAdmin;
    }

    public LogHub logs() {
        return logs;
    }

    /** Upstream responses the egress gateway is streaming right now (operators and tests). */
    /** Whether the egress gateway's HTTP client still runs (tests). */
    boolean egressClientRunning() {
        return egress.clientRunning();
    }

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

    private static String newAdminToken() {
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        return HexFormat.of().formatHex(raw);
    }

    private static void writeAdminToken(Path dataDir, String token) throws IOException {
        Path file = dataDir.resolve("admin.token");
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, token);
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("stopping the front door: {}", e.toString());
        }
        sessionWorkers.sandboxes().close();
        supervisor.close();
        confinement.close();
        egress.close();
        sockets.close();
        javaObjects.close();
        synchronized (this) {
            if (governance != null) governance.close();
        }
        alarms.close();
        facetIndex.close();
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
