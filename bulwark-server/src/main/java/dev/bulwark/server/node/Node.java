package dev.bulwark.server.node;

import dev.bulwark.objects.java.JavaObjectClass;
import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.server.config.ProjectConfig;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.http.FrontDoor;
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

/**
 * The node: the JVM the operator starts. It owns the front door, the sandbox supervisor, the
 * egress gateway and the log hub, and the lifetime of all of them. Untrusted code never runs
 * here; it runs in the sandbox processes the supervisor keeps.
 *
 * <p>This class wires the node's parts together and keeps their lifetime: {@link Deployments}
 * (what is deployed and where requests go), {@link WorkerCalls} (the calls it relays between
 * workers), {@link DynamicLoads} (loader bindings), {@link NodeEvents} (what sandboxes tell it).
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

    // Package-private: NodeEvents reads them when a sandbox's event comes (see there).
    private final Settings settings;
    private final Path runDir;
    private final SandboxSupervisor supervisor;
    final LogHub logs = new LogHub(this::sourceNames);
    final EgressGateway egress;
    final InvocationRecords invocationRecords = new InvocationRecords();
    /** Unique, unpredictable, below 2^53 (see RequestIds). */
    private final RequestIds invocations = new RequestIds();
    private final String adminToken;
    private final NamespaceKeys namespaceKeys;
    final DynamicWorkers dynamicWorkers;
    /** Durable object facets (issue 14): who may call them, which code runs them, their quotas. */
    final Facets facets;
    /** What starts a facet without its supervisor (its alarm after a restart): in the data directory. */
    private final FacetIndex facetIndex;
    /** Tail workers of dynamic workers: trace items of their invocations. */
    final Tails tails;
    private final TenantWorkers tenantWorkers;
    final Alarms alarms;
    private final JavaObjects javaObjects;
    private final FrontDoorServer server;
    /**
     * Open once the projects given to {@link #serve} are deployed (at once for {@link #start}):
     * a request that reaches the front door in between waits for its worker instead of finding none.
     */
    private final java.util.concurrent.CountDownLatch deployed = new java.util.concurrent.CountDownLatch(1);
    private final SocketHub sockets;
    private final Confinement confinement;
    /** Capabilities passed by reference, and the Java capabilities the embedding application registered. */
    final Capabilities caps = new Capabilities();
    private final dev.bulwark.server.caps.JavaCapabilities javaCapabilities = new dev.bulwark.server.caps.JavaCapabilities();
    final CapabilityCalls capCalls;
    private final ObjectAdmin objectAdmin;
    private final Migrations migrations;
    final Deployments deployments;
    final WorkerCalls calls;
    final DynamicLoads loads;
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
        this.runDir = RunDirectory.create();
        this.egress = new EgressGateway(settings.egress(), invocationRecords);
        var sb = settings.sandboxes();
        SandboxLauncher launcher = new SandboxLauncher(runDir, settings.dataDir(), settings.limits().heapMb(), sb.poolSize(),
                sb.isolatesPerWorker(), sb.rssCeilingMb(), sb.jvmOptions(), sb.objectIdleMs(), sb.objectStorageIdleMs(),
                confinement, SandboxAotCache.fromSystemProperties(), DynamicWorkers.dormancy(sb), settings.storage());
        this.supervisor = new SandboxSupervisor(launcher, sb.processesPerTenant(), sb.rssCeilingMb() << 20, new NodeEvents(this));
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
                (tenant, address) -> calls().callable(tenant, 0, address), (tenant, call, reply) -> calls().call(tenant, call, reply),
                id -> {
                    InvocationRecords.Record r = invocationRecords.get(id);
                    return r == null ? null : r.outbound();
                });
        supervisor.capHooks(capCalls.hooks());
        caps.otherWorkers(id -> { // local invocations a sandbox announced: their record names the worker
            InvocationRecords.Record r = invocationRecords.get(id);
            return r == null ? null : r.worker();
        });
        this.tails = new Tails(supervisor::tail, supervisor::rpc, this::nextInvocationId);
        this.tenantWorkers = new TenantWorkers(dynamicWorkers, supervisor, settings.limits(), this::nextInvocationId);
        this.sessionWorkers = new SessionWorkers(dynamicWorkers, supervisor, caps, settings.limits(), this::nextInvocationId,
                new SessionSandboxes(supervisor, sb.sessions()));
        this.sockets = new SocketHub(supervisor, this::nextInvocationId, sb.websocketsPerObject(),
                settings.frontDoor().webSocketBufferBytes());
        supervisor.sockets(sockets);
        OutboundSockets outboundSockets = new OutboundSockets(egress.httpClient(), this::nextInvocationId);
        outboundSockets.wire(supervisor, sockets);
        sockets.outbound(outboundSockets);
        egress.outbound(outboundSockets);
        sockets.facetTargets(o -> facets.startFor(o.objectId()));
        facets.sockets(sockets);
        try {
            // Tests shorten the retry backoff with -Dbulwark.alarms.firstBackoffMs.
            this.alarms = new Alarms(settings.dataDir(), (tenant, object, scheduledTime, retryCount, done) -> calls().runAlarm(
                    tenant, object, scheduledTime, retryCount, done), Long.getLong("bulwark.alarms.firstBackoffMs", Alarms.FIRST_BACKOFF_MS));
        } catch (java.sql.SQLException e) {
            throw new IOException("could not open the alarm index in " + settings.dataDir() + ": " + e.getMessage(), e);
        }
        // Java objects (session objects, supervisors) answer after small commits; a checkpoint every
        // 100 WAL pages keeps any one answer's share of it small (StorageOptions.walCheckpointPages).
        this.javaObjects = new JavaObjects(new NodeObjectsHost(settings.dataDir(), namespaceKeys, alarms),
                sb.objectIdleMs(), settings.storage().withWalCheckpointPages(100));
        javaClasses.forEach(javaObjects::register);
        // The built-in facet supervisor (issue 14), unless the embedder registered a class of that name.
        if (javaClasses.stream().noneMatch(c -> c.name().equals(PlatformSupervisor.CLASS_NAME))) {
            NodePlatform platform = new NodePlatform(dynamicWorkers, facets, settings.limits());
            javaObjects.register(JavaObjectClass.bindable(PlatformSupervisor.CLASS_NAME,
                    ctx -> new PlatformSupervisor(ctx, platform)));
        }
        this.server = new FrontDoorServer(settings, new FrontDoor(this));
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
        this.deployments = new Deployments(supervisor, alarms, javaObjects, migrations, namespaceKeys);
        this.calls = new WorkerCalls(supervisor, deployments, dynamicWorkers, facets, caps, javaObjects, sockets,
                invocationRecords, egress, this::nextInvocationId);
        this.loads = new DynamicLoads(dynamicWorkers, deployments, calls, caps, capCalls, invocationRecords, facets, tails);
        this.objectAdmin = new ObjectAdmin(settings.dataDir(), deployments::all, supervisor, alarms, sockets);
        // The node's own Java objects' alarms may fire from now on: they run through the calls made above.
        alarms.resume(ObjectDirectory::runsInNode);
    }

    /** The node's calls, for the parts made before them that hand calls on (when a call comes, they exist). */
    private WorkerCalls calls() {
        return calls;
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
        Node node = listening(settings, javaClasses);
        node.deployed.countDown();
        return node;
    }

    /** A node whose front door listens and holds workers' requests until {@link #deployed} opens. */
    private static Node listening(Settings settings, List<JavaObjectClass> javaClasses) throws Exception {
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
        Node node = listening(projects.getFirst().settings(), javaClasses);
        try {
            node.deployments.deployAll(projects);
            dev.bulwark.server.governance.ConfiguredGovernance.apply(node, projects); // issue 15: tools and policies of the settings
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        node.deployed.countDown();
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
        return deployments.migrate(project);
    }

    /**
     * The deployed form of a project's worker: its env is the project's vars and secrets plus its
     * durable object namespaces.
     */
    public DeployedWorker worker(ProjectConfig project) {
        return deployments.worker(project);
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
     *
     * @throws IllegalArgumentException when a service binding names a worker that is not deployed or
     *                                  one of another tenant
     */
    public String deploy(DeployedWorker worker, java.util.List<dev.bulwark.server.config.Route> routes, String sourceRoot,
                         boolean byName) {
        return deployments.deploy(worker, routes, sourceRoot, byName, true);
    }

    /** The worker a request for {@code host} and {@code path} goes to, or null (see {@link Router}). */
    public DeployedWorker route(String host, String path) {
        return deployments.route(host, path);
    }

    /** {@link #route(String, String)} for the path {@code /}. */
    public DeployedWorker route(String host) {
        return route(host, "/");
    }

    /** Makes {@code worker} answer every request no route or name claims (null: such requests get 404). */
    public void defaultWorker(String worker) {
        deployments.defaultWorker(worker);
    }

    /** Whether a worker of that name is deployed. */
    public boolean isDeployed(String worker) {
        return deployments.isDeployed(worker);
    }

    /** The deployed worker of that name, or null. */
    DeployedWorker deployed(String worker) {
        return deployments.deployed(worker);
    }

    SourceNames sourceNames(String worker) {
        return deployments.sourceNames(worker);
    }

    public String loadError(String worker) {
        return deployments.loadError(worker);
    }

    /**
     * The route to the built-in supervisor that takes a request for {@code worker} at {@code path},
     * or null (the worker serves it). Read by the front door on every request: one map lookup.
     */
    public FacetRoute facetRoute(DeployedWorker worker, String path) {
        return deployments.facetRoute(worker, path);
    }

    /** See {@link WorkerCalls#callable} (tests). */
    DeployedWorker callable(String tenant, long invocationId, Address address) {
        return calls.callable(tenant, invocationId, address);
    }

    /** See {@link DynamicLoads#loadDynamic(String, dev.bulwark.sandbox.ipc.Message.LoadDynamic, java.util.function.Consumer)} (tests). */
    void loadDynamic(String tenant, dev.bulwark.sandbox.ipc.Message.LoadDynamic request,
                     java.util.function.Consumer<dev.bulwark.sandbox.ipc.Message> reply) {
        loads.loadDynamic(tenant, request, reply);
    }

    /** See {@link DynamicLoads#loadDynamic(Capabilities.Peer, dev.bulwark.sandbox.ipc.Message.LoadDynamic, java.util.function.Consumer)} (tests). */
    void loadDynamic(Capabilities.Peer from, dev.bulwark.sandbox.ipc.Message.LoadDynamic request,
                     java.util.function.Consumer<dev.bulwark.sandbox.ipc.Message> reply) {
        loads.loadDynamic(from, request, reply);
    }

    /** First calls that went right behind their dynamic worker's load so far (tests). */
    long callsBehindLoads() {
        return calls.pendingLoads.followed();
    }

    /** Calls from workers to objects and entrypoints the node relayed ({@code CallStart}, {@code RpcCall}). */
    public long relayedCalls() {
        return calls.relayedCalls();
    }

    /** Calls to objects that sandboxes made without the node and announced ({@code LocalInvocation}). */
    public long localCalls() {
        return calls.localCalls();
    }

    /** Object placements the node keeps (about the live objects: evicted ones are dropped; tests). */
    int objectPlacements() {
        return supervisor.placements();
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

    /** Whether the egress gateway's HTTP client still runs (tests). */
    boolean egressClientRunning() {
        return egress.clientRunning();
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

    /** Whether the projects given to {@link #serve} are deployed (without waiting, see {@link #awaitDeployed}). */
    public boolean workersDeployed() {
        return deployed.getCount() == 0;
    }

    /**
     * Waits (at most {@code timeoutMs}) until the workers this node was started to serve are
     * deployed; the front door calls it before it routes a request to a worker.
     *
     * @return whether they are
     */
    public boolean awaitDeployed(long timeoutMs) throws InterruptedException {
        return deployed.await(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** The port the front door listens on (the real one when the settings asked for 0). */
    public int port() {
        return server.port();
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
        deployed.countDown();
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
        RunDirectory.delete(runDir);
    }
}
