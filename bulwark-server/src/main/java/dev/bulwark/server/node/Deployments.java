package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.objects.java.JavaObjectClass;
import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.server.config.DurableObjectBinding;
import dev.bulwark.server.config.FacetSettings;
import dev.bulwark.server.config.Migration;
import dev.bulwark.server.config.ProjectConfig;
import dev.bulwark.server.config.Route;
import dev.bulwark.server.config.ServiceBinding;
import dev.bulwark.server.config.WorkerLoaderBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's deployed workers: what a project's worker becomes when deployed (its env and
 * bindings), which workers are deployed and how they loaded, and which worker a request goes to
 * (its routes, its name, the default worker, a route to the built-in facet supervisor).
 */
final class Deployments {
    private static final Logger log = LoggerFactory.getLogger(Deployments.class);

    /**
     * Whether deploying a worker with a loader binding starts its tenant's sandbox for generated
     * code at once (default) or at its first load ({@code -Dbulwark.sandbox.generatedAtDeploy=false}:
     * a tenant that never loads then holds no such process).
     */
    static final boolean GENERATED_AT_DEPLOY = !"false".equals(System.getProperty("bulwark.sandbox.generatedAtDeploy"));
    private final SandboxSupervisor supervisor;
    private final Alarms alarms;
    private final JavaObjects javaObjects;
    private final Migrations migrations;
    private final NamespaceKeys namespaceKeys;
    private final Map<String, DeployedWorker> workers = new LinkedHashMap<>();
    private final Map<String, String> loadErrors = new ConcurrentHashMap<>();
    private final Map<String, SourceNames> sourceNames = new ConcurrentHashMap<>();
    private final Router router = new Router();
    /** The projects' routes to the built-in supervisor, by worker name ({@code facets.route_prefix}). */
    private final Map<String, FacetRoute> facetRoutes = new ConcurrentHashMap<>();

    Deployments(SandboxSupervisor supervisor, Alarms alarms, JavaObjects javaObjects, Migrations migrations,
                NamespaceKeys namespaceKeys) {
        this.supervisor = supervisor;
        this.alarms = alarms;
        this.javaObjects = javaObjects;
        this.migrations = migrations;
        this.namespaceKeys = namespaceKeys;
    }

    /**
     * Deploys the projects a node serves (see {@link Node#serve(List, List)}): their migrations
     * first, then their workers, each checked against all of them; with one project its worker is
     * the default worker.
     */
    void deployAll(List<ProjectConfig> projects) {
        // Storage changes first, before any sandbox could open an object of a renamed or deleted class.
        for (ProjectConfig project : projects) migrate(project);
        Map<String, String> all = new HashMap<>();
        List<DeployedWorker> deployed = new ArrayList<>();
        for (ProjectConfig project : projects) {
            DeployedWorker w = worker(project);
            all.put(w.name(), w.tenant());
            deployed.add(w);
        }
        for (DeployedWorker w : deployed) checkServices(w, all);
        for (int i = 0; i < projects.size(); i++) {
            ProjectConfig project = projects.get(i);
            deploy(deployed.get(i), project.routes(), project.sourceRoot(), project.workersDev(), false);
            facetRoute(deployed.get(i), project.settings().facets());
        }
        if (projects.size() == 1) defaultWorker(projects.getFirst().name());
    }

    /** See {@link Node#migrate(ProjectConfig)}. */
    List<String> migrate(ProjectConfig project) {
        return migrations.apply(project.settings().tenant(), project.name(), project.migrations(), project.durableObjects(),
                supervisor::anyPlaced);
    }

    /**
     * Service bindings must name deployed workers of the same tenant ({@code alsoDeploying}: the
     * workers deployed together with this one). A missing or foreign service is a deploy error.
     */
    private void checkServices(DeployedWorker worker, Map<String, String> alsoDeploying) {
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
     * Loads a worker into its tenant's sandboxes (see {@link Node#deploy(DeployedWorker, List, String, boolean)}).
     *
     * @return null when loaded, else the load error
     * @throws IllegalArgumentException when a service binding names a worker that is not deployed
     *                                  (checked unless the caller did) or one of another tenant
     */
    String deploy(DeployedWorker worker, List<Route> routes, String sourceRoot, boolean byName, boolean checkServices) {
        if (checkServices) checkServices(worker, Map.of());
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
        // Its first load would otherwise start the tenant's sandbox for generated code (~1 s of a
        // JVM's start inside that request): started now, in the background (docs/notes/jitwarm2.md).
        if (GENERATED_AT_DEPLOY && worker.bindings().stream().anyMatch(b -> b instanceof Binding.WorkerLoader)) {
            supervisor.prestart(DynamicWorkers.generatedTenant(worker.tenant()));
        }
        alarms.resume();
        log.info("worker {} loaded (tenant {}, {} modules, {} bytes)", worker.name(), worker.tenant(),
                worker.bundle().modules().size(), worker.bundle().codeSize());
        return null;
    }

    /** The worker a request for {@code host} and {@code path} goes to, or null (see {@link Router}). */
    DeployedWorker route(String host, String path) {
        synchronized (workers) {
            String name = router.route(host, path, workers);
            return name == null ? null : workers.get(name);
        }
    }

    void defaultWorker(String worker) {
        router.defaultWorker(worker);
    }

    boolean isDeployed(String worker) {
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

    /** The deployed worker of that name if it belongs to {@code tenant}, else null. */
    DeployedWorker deployedOf(String tenant, String name) {
        DeployedWorker w = deployed(name);
        return w != null && w.tenant().equals(tenant) ? w : null;
    }

    /** Every deployed worker, as they are now. */
    List<DeployedWorker> all() {
        synchronized (workers) {
            return List.copyOf(workers.values());
        }
    }

    SourceNames sourceNames(String worker) {
        return sourceNames.getOrDefault(worker, SourceNames.NONE);
    }

    String loadError(String worker) {
        return loadErrors.get(worker);
    }

    private void facetRoute(DeployedWorker worker, FacetSettings settings) {
        if (settings.routePrefix() == null) facetRoutes.remove(worker.name());
        else facetRoutes.put(worker.name(), new FacetRoute(worker.tenant(), settings.routePrefix(), settings.routeObject()));
    }

    /** See {@link Node#facetRoute(DeployedWorker, String)}: one map lookup per request. */
    FacetRoute facetRoute(DeployedWorker worker, String path) {
        if (facetRoutes.isEmpty()) return null;
        FacetRoute r = facetRoutes.get(worker.name());
        return r != null && r.rest(path) != null ? r : null;
    }

    /**
     * The deployed form of a project's worker: its env is the project's vars and secrets plus its
     * durable object namespaces.
     */
    DeployedWorker worker(ProjectConfig project) {
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
                    : Address.Grant.props(b.propsJson().getBytes(StandardCharsets.UTF_8));
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
    static Set<String> ownClasses(ProjectConfig project) {
        Set<String> classes = Migration.classesAfter(project.migrations());
        for (DurableObjectBinding b : project.durableObjects()) {
            if (b.scriptName() == null || b.scriptName().equals(project.name())) classes.add(b.className());
        }
        return classes;
    }
}
