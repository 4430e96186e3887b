package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.IV8Module;
import com.caoccao.javet.values.reference.V8Module;
import com.caoccao.javet.values.reference.V8ValueArrayBuffer;
import com.caoccao.javet.values.reference.V8ValueError;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValuePromise;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Links a worker bundle into an isolate: compiles its modules, resolves imports against the
 * bundle (and nothing else), evaluates the main module and hands back its default export.
 *
 * <p>Resolution follows workerd: a relative specifier is resolved against the importing
 * module's name; a bare specifier must name a module of the bundle exactly;
 * {@code cloudflare:workers} (alias {@code bulwark:workers}) is the built-in module of base classes.
 * Nothing outside the bundle can be imported: there is no file system and no network here.
 */
final class ModuleLinker {
    static final String WORKERS_MODULE = "cloudflare:workers";
    static final String WORKERS_ALIAS = "bulwark:workers";

    /** V8's Module::Status. */
    private static final int STATUS_EVALUATED = 4, STATUS_ERRORED = 5;

    private final V8Runtime runtime;
    private final V8ValueObject jsRuntime;
    private final WorkerBundle bundle;
    private final Map<String, IV8Module> linked = new HashMap<>();
    private final Deque<String> problems = new ArrayDeque<>();

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
            IV8Module main = module(bundle.mainModule());
            boolean instantiated;
            try {
                instantiated = main.instantiate();
            } catch (JavetException e) {
                throw failure(Isolate.describe(e));
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
                                + Isolate.describe(reason));
                    }
                }
            } catch (JavetException e) {
                throw failure(bundle.mainModule() + ": uncaught exception during evaluation: " + Isolate.describe(e));
            }
            if (main.getStatus() == STATUS_ERRORED) {
                try (V8ValueError error = main.getException()) {
                    throw failure(bundle.mainModule() + ": uncaught exception during evaluation: " + Isolate.describe(error));
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
            for (int i = 0; i < bindings.size(); i++) {
                switch (bindings.get(i)) {
                    case Binding.DurableObjectNamespace ns -> {
                        try (V8Value stub = jsRuntime.invoke("makeNamespace", runtime.createV8ValueInteger(i),
                                runtime.createV8ValueString(ns.workerId()), runtime.createV8ValueString(ns.className()))) {
                            env.set(ns.name(), stub);
                        }
                    }
                    case Binding.WorkerLoader l -> {
                        try (V8Value loader = jsRuntime.invoke("makeLoader", runtime.createV8ValueInteger(i))) {
                            env.set(l.name(), loader);
                        }
                    }
                }
            }
            return new LoadedWorker(workerId, defaultExport, namespace, env, bindings, new ArrayList<>(linked.values()));
        } catch (WorkerLoadException e) {
            closeAll();
            throw e;
        } catch (JavetException e) {
            closeAll();
            throw failure(Isolate.describe(e));
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
        String name = resolveName(specifier, from);
        if (name == null) {
            problems.add(from + ": cannot import '" + specifier + "': no such module in the worker's bundle");
            return null;
        }
        try {
            return module(name);
        } catch (WorkerLoadException e) {
            problems.add(e.getMessage());
            return null;
        }
    }

    /** The bundle name a specifier refers to from module {@code from}, or null. */
    String resolveName(String specifier, String from) {
        if (specifier.equals(WORKERS_MODULE) || specifier.equals(WORKERS_ALIAS)) return WORKERS_MODULE;
        String name;
        if (specifier.startsWith("./") || specifier.startsWith("../")) {
            int slash = from.lastIndexOf('/');
            name = normalize((slash < 0 ? "" : from.substring(0, slash + 1)) + specifier);
        } else if (specifier.startsWith("/")) {
            name = normalize(specifier.substring(1));
        } else {
            name = specifier;
        }
        return name != null && bundle.modules().containsKey(name) ? name : null;
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
            m = name.equals(WORKERS_MODULE) ? workersModule() : compile(bundle.modules().get(name));
        } catch (JavetException e) {
            throw new WorkerLoadException(ErrorCode.WORKER_LOAD_FAILED, Isolate.describe(e));
        }
        linked.put(name, m);
        return m;
    }

    private IV8Module workersModule() throws JavetException {
        try (V8ValueObject exports = jsRuntime.get("workersModule")) {
            return runtime.createV8Module(WORKERS_MODULE, exports);
        }
    }

    private IV8Module compile(WorkerModule module) throws JavetException, WorkerLoadException {
        String name = module.name();
        return switch (module.type()) {
            case JS -> runtime.getExecutor(module.contentAsString()).setResourceName(name).setModule(true)
                    .compileV8Module();
            case CJS -> throw new WorkerLoadException(ErrorCode.WORKER_LOAD_FAILED,
                    name + ": CommonJS modules are not supported yet; use an ES module");
            case TEXT -> synthetic(name, runtime.createV8ValueString(module.contentAsString()));
            case JSON -> {
                try {
                    yield synthetic(name, jsonValue(module.contentAsString()));
                } catch (JavetException e) {
                    throw new WorkerLoadException(ErrorCode.WORKER_LOAD_FAILED,
                            name + ": invalid JSON: " + Isolate.describe(e));
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
                            name + ": invalid WebAssembly module: " + Isolate.describe(e));
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

    private void closeAll() {
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
