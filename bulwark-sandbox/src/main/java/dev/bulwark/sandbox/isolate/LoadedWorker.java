package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.values.reference.IV8Module;
import com.caoccao.javet.values.reference.V8ValueObject;

import java.util.List;

/** A worker linked into one isolate: its default export, its env, and the modules it holds. */
record LoadedWorker(String workerId, V8ValueObject defaultExport, V8ValueObject env, List<IV8Module> modules)
        implements AutoCloseable {
    @Override
    public void close() throws com.caoccao.javet.exceptions.JavetException {
        defaultExport.close();
        env.close();
        for (IV8Module m : modules) m.close();
    }
}
