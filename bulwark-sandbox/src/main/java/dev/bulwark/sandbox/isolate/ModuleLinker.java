package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.callback.IJavetDirectCallable;
import com.caoccao.javet.interop.callback.JavetCallbackContext;
import com.caoccao.javet.interop.callback.JavetCallbackType;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.IV8Module;
import com.caoccao.javet.values.reference.V8Module;
import com.caoccao.javet.values.reference.V8ValueArray;
import com.caoccao.javet.values.reference.V8ValueArrayBuffer;
import com.caoccao.javet.values.reference.V8ValueError;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValuePromise;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Links a worker bundle into an isolate: compiles its modules, resolves imports against the
 * bundle (and nothing else), evaluates the main module and hands back its default export.
 *
 * <p>Resolution follows workerd: a specifier is a path relative to the importing module's directory
 * (a bare {@code lib/v.js} from {@code src/a.js} is {@code src/lib/v.js}, as {@code ./lib/v.js}
 * is), or to the bundle's root when it starts with {@code /}; it may not climb above the root;
 * {@code cloudflare:workers} (alias {@code bulwark:workers}) is the built-in module of base classes
 * and {@code env}; {@code cloudflare:email} holds EmailMessage; {@code cloudflare:sockets} a
 * {@code connect()} that throws; the {@code node:*} built-ins exist
 * only under the worker's Node.js compatibility flags ({@link NodeModules}), and a bundle module of
 * the same name wins over a built-in, as in workerd. Nothing else can be imported: there is no file
 * system and no network here.
 *
 * <p>A CommonJS module has, as in workerd, one export: {@code default}, its {@code module.exports}.
 * The prelude's {@code cjs.js} runs its body once, when V8 evaluates it (in the module graph's order)
 * or a {@code require()} first asks for it. V8 sees it as a two-line ES module that reads the
 * default of its face, the object cjs.js made (Javet's synthetic modules drop what a getter throws,
 * so the body cannot run inside one). {@code require()} resolves as an import does and asks
 * {@link #requireModule} for anything but another CommonJS module; it can be called after the load
 * too (in a handler), so a worker with CommonJS modules keeps its linker until it is closed.
 */
final class ModuleLinker implements AutoCloseable {
    static final String WORKERS_MODULE = "cloudflare:workers";
    static final String WORKERS_ALIAS = "bulwark:workers";
    static final String EMAIL_MODULE = "cloudflare:email";
    /** Only so that code importing it loads: its {@code connect()} throws (no outbound sockets yet). */
    static final String SOCKETS_MODULE = "cloudflare:sockets";
    /** Bulwark's own extension of JS RPC: {@code revoke(target)} (see docs/notes/caps.md). */
    static final String RPC_MODULE = "bulwark:rpc";

    /** V8's Module::Status. */
    private static final int STATUS_UNINSTANTIATED = 0, STATUS_INSTANTIATED = 2, STATUS_EVALUATED = 4, STATUS_ERRORED = 5;
    /** What {@link #requireModule} answers (cjs.js's INVALID, MISSING, FACE, NAMESPACE, THROW, FAILED). */
    private static final int INVALID = 0, MISSING = 1, FACE = 2, NAMESPACE = 3, THROW = 4, FAILED = 5;
    /** A CommonJS module's body is compiled as a function of these, as in Node and workerd. */
    private static final String[] CJS_PARAMETERS = {"exports", "require", "module", "__filename", "__dirname"};
    /** What a CommonJS module's ES module imports its face as; only it can (see {@link #resolve}). */
    private static final String CJS_FACE = "bulwark:cjs-face";

    private final V8Runtime runtime;
    private final V8ValueObject jsRuntime;
    private final WorkerBundle bundle;
    private final Map<String, IV8Module> linked = new HashMap<>();
    private final Deque<String> problems = new ArrayDeque<>();
    private V8ValueObject env;
    /** {@code exports} of cloudflare:workers, filled (as ctx.exports) once the main module is evaluated. */
    private V8ValueObject loopback;
    private NodeModules node;
    /** The faces (cjs.js) of the CommonJS modules linked so far, by name, and their synthetic modules. */
    private final Map<String, V8ValueObject> faces = new HashMap<>();
    private final Map<String, IV8Module> faceModules = new HashMap<>();
    /** require()'s way to the host, made with the first CommonJS module. */
    private JavetCallbackContext requireContext;
    private V8ValueFunction requireHost;

    private ModuleLinker(V8Runtime runtime, V8ValueObject jsRuntime, WorkerBundle bundle) {
        this.runtime = runtime;
        this.jsRuntime = jsRuntime;
        this.bundle = bundle;
    }

    static LoadedWorker link(V8Runtime runtime, V8ValueObject jsRuntime, String workerId, WorkerBundle bundle,
                             String envJson, List<Binding> bindings) throws WorkerLoadException {
        return new ModuleLinker(runtime, jsRuntime, bundle).link(workerId, envJson, bindings);
    }

    private LoadedWorker link(String workerId, String envJson, List<Binding> bindings) throws WorkerLoadException {
        runtime.setV8ModuleResolver((rt, specifier, referrer) -> resolve(specifier, referrer));
        try {
            // The env exists before any module: cloudflare:workers exports it, process.env may copy it.
            env = parseJson(envJson == null ? "{}" : envJson);
            loopback = runtime.createV8ValueObject();
            node = NodeModules.load(runtime, jsRuntime, bundle.compatibility(), env);
            jsRuntime.invokeVoid("setCacheOptionEnabled", runtime.createV8ValueBoolean(bundle.compatibility().requestCacheOption()));
            jsRuntime.invokeVoid("setAbortSignalRpc", runtime.createV8ValueBoolean(bundle.compatibility().abortSignalRpc()));
            jsRuntime.invokeVoid("setRpcParamsDupStubs", runtime.createV8ValueBoolean(bundle.compatibility().rpcParamsDupStubs()));
            jsRuntime.invokeVoid("setEnhancedErrorSerialization", runtime.createV8ValueBoolean(bundle.compatibility().enhancedErrorSerialization()));
            IV8Module main = module(bundle.mainModule());
            boolean instantiated;
            try {
                instantiated = main.instantiate();
            } catch (JavetException e) {
                throw failure(HostValues.describe(e));
            }
            if (!instantiated) throw failure("could not link " + bundle.mainModule());
            try (V8Value result = main.evaluate(true)) {
                runtime.await();
                if (result instanceof V8ValuePromise p && p.isPending()) {
                    // V8 reports the module evaluated while its top-level await is still pending.
                    throw failure(bundle.mainModule() + ": top-level await did not settle during evaluation");
                }
                if (result instanceof V8ValuePromise p && p.isRejected()) {
                    try (V8Value reason = p.getResult()) {
                        throw failure(bundle.mainModule() + ": uncaught exception during evaluation: "
                                + HostValues.describe(reason));
                    }
                }
            } catch (JavetException e) {
                throw failure(bundle.mainModule() + ": uncaught exception during evaluation: " + HostValues.describe(e));
            }
            if (main.getStatus() == STATUS_ERRORED) {
                try (V8ValueError error = main.getException()) {
                    throw failure(bundle.mainModule() + ": uncaught exception during evaluation: " + HostValues.describe(error));
                }
            }
            if (main.getStatus() != STATUS_EVALUATED) {
                throw failure(bundle.mainModule() + ": top-level await did not settle during evaluation");
            }
            V8ValueObject defaultExport;
            V8ValueObject namespace = (V8ValueObject) main.getNamespace();
            V8Value d = namespace.get("default");
            if (d instanceof V8ValueObject o) {
                defaultExport = o;
            } else {
                d.close();
                defaultExport = runtime.createV8ValueObject();
            }
            V8ValueObject env = parseJson(envJson == null ? "{}" : envJson);
            try (V8ValueObject namespaces = runtime.createV8ValueObject()) {
                for (int i = 0; i < bindings.size(); i++) {
                    V8Value made = switch (bindings.get(i)) {
                        case Binding.DurableObjectNamespace ns -> jsRuntime.invoke("makeNamespace",
                                runtime.createV8ValueInteger(i), runtime.createV8ValueString(ns.workerId()),
                                runtime.createV8ValueString(ns.className()));
                        case Binding.WorkerLoader l -> jsRuntime.invoke("makeLoader", runtime.createV8ValueInteger(i));
                        case Binding.Service sv -> jsRuntime.invoke("makeService", runtime.createV8ValueInteger(i));
                        case Binding.ExportedNamespace e -> {
                            try (V8Value ns = jsRuntime.invoke("makeNamespace", runtime.createV8ValueInteger(i),
                                    runtime.createV8ValueString(workerId), runtime.createV8ValueString(e.className()))) {
                                namespaces.set(e.className(), ns);
                            }
                            yield null;
                        }
                        case Binding.Outbound o -> {
                            jsRuntime.invokeVoid("setGlobalOutbound", runtime.createV8ValueInteger(i));
                            yield null;
                        }
                        case Binding.Tail t -> null; // the node delivers tail events; nothing in the isolate
                        // A stub on the env's own import entry: index -(i + 1) names binding i.
                        case Binding.Capability c -> switch (c.shape()) {
                            case dev.bulwark.sandbox.ipc.CapPayload.Plain plain ->
                                    jsRuntime.invoke("makeCapStub", runtime.createV8ValueInteger(-(i + 1)));
                            // A durable object stub or a fetcher passed on keeps fetch() (and id, name).
                            case dev.bulwark.sandbox.ipc.CapPayload.FetcherShape fetcher -> jsRuntime.invoke("makeCapStub",
                                    runtime.createV8ValueInteger(-(i + 1)), runtime.createV8ValueInteger(2));
                            case dev.bulwark.sandbox.ipc.CapPayload.ObjectShape os -> jsRuntime.invoke("makeCapStub",
                                    runtime.createV8ValueInteger(-(i + 1)), runtime.createV8ValueInteger(1),
                                    runtime.createV8ValueString(os.id()),
                                    os.name() == null ? runtime.createV8ValueNull() : runtime.createV8ValueString(os.name()));
                        };
                    };
                    if (made == null) continue;
                    try (made) {
                        // Both the handlers' env and `env` of cloudflare:workers hold the bindings.
                        env.set(bindings.get(i).name(), made);
                        this.env.set(bindings.get(i).name(), made);
                    }
                }
                // A require() after the load may ask for cloudflare:workers: made now, while env is open.
                if (!faces.isEmpty()) module(WORKERS_MODULE);
                // ctx.exports and `exports` of cloudflare:workers: loopback stubs to this worker's own exports.
                // (the worker id: a dynamic worker's durable object classes become facet classes)
                jsRuntime.invokeVoid("linkExports", namespace, loopback, namespaces, runtime.createV8ValueString(workerId));
                loopback.close(); // the object lives on in the module; this handle is no longer needed
                loopback = null;
            }
            // A require() after the load may ask for a built-in: the node modules stay (closed with us).
            if (node != null && faces.isEmpty()) {
                node.close();
                node = null;
            }
            // As loopback: `env` of cloudflare:workers lives on in the module; this handle was left
            // open, one V8 reference per isolate until its runtime closed (Javet's "1 V8 object(s)
            // not recycled" at every close, seventh session).
            this.env.close();
            this.env = null;
            return new LoadedWorker(workerId, defaultExport, namespace, env, bindings, this);
        } catch (WorkerLoadException e) {
            close();
            throw e;
        } catch (JavetException e) {
            close();
            throw failure(HostValues.describe(e));
        } finally {
            runtime.setV8ModuleResolver(null);
        }
    }

    private WorkerLoadException failure(String message) {
        String detail = problems.isEmpty() ? message : String.join("; ", problems);
        return new WorkerLoadException(ErrorCode.WORKER_LOAD_FAILED, detail);
    }

    private IV8Module resolve(String specifier, IV8Module referrer) throws JavetException {
        String from = referrer == null ? bundle.mainModule() : referrer.getResourceName();
        // A module named as a CommonJS module of the bundle is that module's own ES face.
        if (specifier.equals(CJS_FACE) && faceModules.containsKey(from)) return faceModules.get(from);
        String name = resolveName(specifier, from);
        if (name == null) {
            problems.add(from + lineOf(from, specifier) + ": cannot import '" + specifier + "': " + missing(specifier));
            return null;
        }
        try {
            return module(name);
        } catch (WorkerLoadException e) {
            problems.add(e.getMessage());
            return null;
        }
    }

    /**
     * {@code ":<line>"} of the first place module {@code from} names {@code specifier} in quotes
     * (its import statement), or "" if not found: V8 reports a failed resolution without a position.
     */
    String lineOf(String from, String specifier) {
        WorkerModule module = bundle.modules().get(from);
        if (module == null || module.type() != dev.bulwark.sandbox.worker.ModuleType.JS) return "";
        String source = module.contentAsString();
        int at = -1;
        for (char quote : new char[] {'\'', '"', '`'}) {
            int i = source.indexOf(quote + specifier + quote);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        if (at < 0) return "";
        int line = 1;
        for (int i = 0; i < at; i++) if (source.charAt(i) == '\n') line++;
        return ":" + line;
    }

    /** Why a specifier names nothing this worker may import. */
    private String missing(String specifier) throws JavetException {
        String plain = specifier.startsWith("node:") ? specifier.substring(5) : specifier;
        Compatibility.NodeMode mode = node == null ? Compatibility.NodeMode.NONE : node.mode();
        boolean prefixed = specifier.startsWith("node:");
        return switch (mode) {
            case NONE -> prefixed
                    ? "Node.js built-in modules need the nodejs_compat compatibility flag"
                    : "no such module in the worker's bundle";
            case ALS -> prefixed
                    ? "the nodejs_als compatibility flag provides only node:async_hooks; Node.js built-in modules need nodejs_compat"
                    : "no such module in the worker's bundle";
            case V1, V2 -> {
                if (plain.equals("os") && !bundle.compatibility().nodeOs()) {
                    yield prefixed ? "node:os needs a compatibility date of 2025-09-15 or later"
                            : "no such module in the worker's bundle";
                }
                if (!prefixed) {
                    yield mode == Compatibility.NodeMode.V1 && node.names().contains("node:" + specifier)
                            ? "no such module in the worker's bundle (before nodejs_compat_v2, Node.js built-ins need the prefix: 'node:" + specifier + "')"
                            : "no such module in the worker's bundle";
                }
                yield "Bulwark does not provide this Node.js module (under nodejs_compat it provides "
                        + String.join(", ", node.names()) + ")";
            }
        };
    }

    /** The bundle name a specifier refers to from module {@code from}, or null. */
    String resolveName(String specifier, String from) throws JavetException {
        if (specifier.equals(WORKERS_MODULE) || specifier.equals(WORKERS_ALIAS)) return WORKERS_MODULE;
        if (specifier.equals(EMAIL_MODULE)) return EMAIL_MODULE;
        if (specifier.equals(SOCKETS_MODULE)) return SOCKETS_MODULE;
        if (specifier.equals(RPC_MODULE)) return RPC_MODULE;
        // node:x names the bundle's root (as workerd's prefixed specifiers do), anything else a path.
        String name = specifier.startsWith("node:") ? specifier : path(specifier, from);
        if (name != null && bundle.modules().containsKey(name)) return name;
        boolean bare = !specifier.startsWith("./") && !specifier.startsWith("../") && !specifier.startsWith("/");
        return bare && node != null ? node.resolve(specifier) : null; // a built-in, or null
    }

    private static String normalize(String path) {
        Deque<String> parts = new ArrayDeque<>();
        for (String p : path.split("/")) {
            if (p.isEmpty() || p.equals(".")) continue;
            if (p.equals("..")) {
                if (parts.isEmpty()) return null; // above the bundle root
                parts.removeLast();
            } else {
                parts.addLast(p);
            }
        }
        return String.join("/", parts);
    }

    private IV8Module module(String name) throws WorkerLoadException {
        IV8Module m = linked.get(name);
        if (m != null) return m;
        try {
            // cloudflare:* cannot be replaced by the bundle; a node:* built-in can (resolveName decided).
            WorkerModule own = bundle.modules().get(name);
            if (name.equals(WORKERS_MODULE)) m = workersModule();
            else if (name.equals(EMAIL_MODULE)) m = builtin(name, "emailModule");
            else if (name.equals(SOCKETS_MODULE)) m = builtin(name, "socketsModule");
            else if (name.equals(RPC_MODULE)) m = builtin(name, "rpcModule");
            else if (own != null) m = compile(own);
            else m = nodeModule(name);
        } catch (JavetException e) {
            throw new WorkerLoadException(ErrorCode.WORKER_LOAD_FAILED, HostValues.describe(e));
        }
        linked.put(name, m);
        return m;
    }

    /**
     * cloudflare:workers: the prelude's classes, and this worker's env and exports (filled once the
     * main module is evaluated); both empty under disallow_importable_env.
     */
    private IV8Module workersModule() throws JavetException {
        if (!bundle.compatibility().importableEnv()) {
            try (V8ValueObject none = runtime.createV8ValueObject(); V8ValueObject noExports = runtime.createV8ValueObject();
                 V8ValueObject exports = jsRuntime.invoke("workersExports", none, noExports)) {
                return runtime.createV8Module(WORKERS_MODULE, exports);
            }
        }
        try (V8ValueObject exports = jsRuntime.invoke("workersExports", env, loopback)) {
            return runtime.createV8Module(WORKERS_MODULE, exports);
        }
    }

    private IV8Module builtin(String name, String runtimeKey) throws JavetException {
        try (V8ValueObject exports = jsRuntime.get(runtimeKey)) {
            return runtime.createV8Module(name, exports);
        }
    }

    private IV8Module nodeModule(String name) throws JavetException, WorkerLoadException {
        if (node == null) throw new WorkerLoadException(ErrorCode.WORKER_LOAD_FAILED, name + ": not available");
        try (V8ValueObject exports = node.exports(name)) {
            return runtime.createV8Module(name, exports);
        }
    }

    private IV8Module compile(WorkerModule module) throws JavetException, WorkerLoadException {
        String name = module.name();
        return switch (module.type()) {
            case JS -> runtime.getExecutor(module.contentAsString()).setResourceName(name).setModule(true)
                    .compileV8Module();
            case CJS -> {
                try (V8ValueFunction body = runtime.getExecutor(module.contentAsString()).setResourceName(name)
                        .compileV8ValueFunction(CJS_PARAMETERS)) {
                    V8ValueObject face = jsRuntime.invoke("cjsModule", runtime.createV8ValueString(name), body,
                            requireHost(), runtime.createV8ValueBoolean(bundle.compatibility().commonJsExportDefault()));
                    faces.put(name, face);
                    try (V8ValueObject exports = runtime.createV8ValueObject()) {
                        exports.set("default", face);
                        faceModules.put(name, runtime.createV8Module(CJS_FACE + ":" + name, exports));
                    }
                    // Reading face.default runs the body: what it throws fails this module's evaluation.
                    yield runtime.getExecutor("import face from '" + CJS_FACE + "';\nexport default face.default;\n")
                            .setResourceName(name).setModule(true).compileV8Module();
                }
            }
            case TEXT -> synthetic(name, runtime.createV8ValueString(module.contentAsString()));
            case JSON -> {
                try {
                    yield synthetic(name, jsonValue(module.contentAsString()));
                } catch (JavetException e) {
                    throw new WorkerLoadException(ErrorCode.WORKER_LOAD_FAILED,
                            name + ": invalid JSON: " + HostValues.describe(e));
                }
            }
            case DATA -> synthetic(name, arrayBuffer(module.content()));
            case WASM -> {
                try (V8ValueObject wasm = runtime.getGlobalObject().get("WebAssembly");
                     V8ValueFunction ctor = wasm.get("Module");
                     V8ValueArrayBuffer bytes = arrayBuffer(module.content())) {
                    yield synthetic(name, ctor.callAsConstructor(bytes));
                } catch (JavetException e) {
                    throw new WorkerLoadException(ErrorCode.WORKER_LOAD_FAILED,
                            name + ": invalid WebAssembly module: " + HostValues.describe(e));
                }
            }
        };
    }

    private V8Module synthetic(String name, V8Value defaultExport) throws JavetException {
        try (defaultExport; V8ValueObject exports = runtime.createV8ValueObject()) {
            exports.set("default", defaultExport);
            return runtime.createV8Module(name, exports);
        }
    }

    private V8ValueArrayBuffer arrayBuffer(byte[] content) throws JavetException {
        V8ValueArrayBuffer buffer = runtime.createV8ValueArrayBuffer(content.length);
        if (content.length > 0) buffer.fromBytes(content);
        return buffer;
    }

    private V8Value jsonValue(String json) throws JavetException {
        try (V8ValueObject jsonObject = runtime.getGlobalObject().get("JSON")) {
            return jsonObject.invoke("parse", runtime.createV8ValueString(json));
        }
    }

    /** The env: always an object (the node sends a JSON object of vars and secrets). */
    private V8ValueObject parseJson(String json) throws JavetException {
        V8Value v = jsonValue(json);
        if (v instanceof V8ValueObject o) return o;
        v.close();
        return runtime.createV8ValueObject();
    }

    private V8ValueFunction requireHost() throws JavetException {
        if (requireHost == null) {
            requireContext = new JavetCallbackContext("require", JavetCallbackType.DirectCallNoThisAndResult,
                    (IJavetDirectCallable.NoThisAndResult<Exception>) this::requireModule);
            requireHost = runtime.createV8ValueFunction(requireContext);
        }
        return requireHost;
    }

    /**
     * require(specifier) from CommonJS module {@code from}: [kind, value] for cjs.js. Another CommonJS
     * module is answered with its face (cjs.js runs it); any other module is linked and evaluated here,
     * as workerd's requireImpl does, and answered with its namespace. Never throws: a host function that
     * threw while a limit ends the isolate would hand the worker a catchable error instead.
     */
    /** Modules a require() is evaluating now, one inside the other (see {@link #requireModule}). */
    private int evaluating;
    static final int MAX_REQUIRE_NESTING = 32;

    private V8Value requireModule(V8Value[] args) throws JavetException {
        String specifier = HostValues.string(args, 0), from = HostValues.string(args, 1);
        V8ValueArray answer = runtime.createV8ValueArray();
        try {
            String name = resolveName(specifier, from);
            if (name == null) {
                String path = path(specifier, from);
                if (path == null) answer.push(runtime.createV8ValueInteger(INVALID));
                else answer.push(runtime.createV8ValueInteger(MISSING), runtime.createV8ValueString(path));
                return answer;
            }
            IV8Module m = module(name);
            V8ValueObject face = faces.get(name);
            if (face != null) {
                answer.push(runtime.createV8ValueInteger(FACE), face);
                return answer;
            }
            if (m.getStatus() == STATUS_UNINSTANTIATED) {
                boolean resolverSet = runtime.getV8ModuleResolver() != null;
                if (!resolverSet) runtime.setV8ModuleResolver((rt, s, referrer) -> resolve(s, referrer));
                problems.clear();
                try {
                    if (!m.instantiate()) return failed(answer, problems.isEmpty() ? "could not link " + name : String.join("; ", problems));
                } finally {
                    if (!resolverSet) runtime.setV8ModuleResolver(null);
                }
            }
            if (m.getStatus() == STATUS_INSTANTIATED) {
                // Each require() that evaluates a module nests JavaScript inside this host call; a
                // chain deep enough to exhaust the thread's stack there can end V8 itself (a fatal
                // CHECK, not a RangeError), so the nesting is bounded well before that.
                if (evaluating >= MAX_REQUIRE_NESTING) {
                    return failed(answer, "RangeError: require() is nested too deep (more than " + MAX_REQUIRE_NESTING
                            + " modules evaluating at once)");
                }
                // No microtask checkpoint here (workerd drains none while a module evaluates): a
                // top-level await that has not settled when evaluate() returns cannot be required.
                evaluating++;
                try (V8Value result = m.evaluate(true)) {
                    if (result instanceof V8ValuePromise p && p.isPending()) {
                        return failed(answer, "Top-level await in module is unsettled.");
                    }
                } catch (JavetException e) {
                    if (m.getStatus() != STATUS_ERRORED) return failed(answer, HostValues.describe(e));
                } finally {
                    evaluating--;
                }
            }
            if (m.getStatus() == STATUS_ERRORED) {
                answer.push(runtime.createV8ValueInteger(THROW));
                try (V8ValueError error = m.getException()) {
                    answer.push(error);
                }
                return answer;
            }
            // Evaluated, or still evaluating (a cycle through an ES module): its namespace as it is.
            try (V8Value namespace = m.getNamespace()) {
                answer.push(runtime.createV8ValueInteger(NAMESPACE), namespace);
            }
            return answer;
        } catch (WorkerLoadException | JavetException e) {
            return failed(answer, e instanceof JavetException je ? HostValues.describe(je) : e.getMessage());
        }
    }

    private V8ValueArray failed(V8ValueArray answer, String message) throws JavetException {
        answer.push(runtime.createV8ValueInteger(FAILED), runtime.createV8ValueString(message));
        return answer;
    }

    /**
     * The bundle path a specifier names from module {@code from}, or null if above the bundle's root:
     * as workerd's (kj::Path's eval against the importing module's directory), a bare name is as
     * relative as one starting with {@code ./}.
     */
    private static String path(String specifier, String from) {
        if (specifier.startsWith("/")) return normalize(specifier.substring(1));
        int slash = from.lastIndexOf('/');
        return normalize((slash < 0 ? "" : from.substring(0, slash + 1)) + specifier);
    }

    /** The modules, the CommonJS faces, require()'s host function and the built-ins of this worker. */
    @Override
    public void close() {
        try {
            if (node != null) node.close();
            if (env != null) env.close();
            if (loopback != null) loopback.close();
            for (V8ValueObject face : faces.values()) face.close();
            for (IV8Module m : faceModules.values()) m.close();
            if (requireHost != null) requireHost.close();
            if (requireContext != null) runtime.removeCallbackContext(requireContext.getHandle());
        } catch (JavetException ignored) {
            // the isolate goes on
        }
        node = null;
        env = null;
        loopback = null;
        faces.clear();
        faceModules.clear();
        requireHost = null;
        requireContext = null;
        for (IV8Module m : linked.values()) {
            try {
                m.close();
            } catch (JavetException ignored) {
                // closing a half-linked module can fail; the isolate goes on
            }
        }
        linked.clear();
    }
}
