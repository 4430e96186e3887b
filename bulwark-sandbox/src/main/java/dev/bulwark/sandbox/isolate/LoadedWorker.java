package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.values.reference.V8ValueObject;

import java.util.List;

/**
 * A worker linked into one isolate: its default export, its main module's namespace (the named
 * exports: entrypoints and durable object classes), its env, the typed bindings in that env (a
 * binding's index is how its stubs name it to the host), and its linker (the modules it holds, which
 * a CommonJS module's require() may add to).
 */
record LoadedWorker(String workerId, V8ValueObject defaultExport, V8ValueObject exports, V8ValueObject env,
                    List<dev.bulwark.sandbox.worker.Binding> bindings, ModuleLinker modules)
        implements AutoCloseable {
    @Override
    public void close() throws com.caoccao.javet.exceptions.JavetException {
        defaultExport.close();
        exports.close();
        env.close();
        modules.close();
    }
}
