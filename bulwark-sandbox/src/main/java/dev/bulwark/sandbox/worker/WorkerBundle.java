package dev.bulwark.sandbox.worker;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The code of one worker: a main module and the modules it may import (WorkerCode's
 * {@code mainModule} + {@code modules}), and the compatibility date and flags it runs under.
 * Immutable; validated on construction.
 */
public record WorkerBundle(String mainModule, Map<String, WorkerModule> modules, Compatibility compatibility) {
    public WorkerBundle(String mainModule, Map<String, WorkerModule> modules) {
        this(mainModule, modules, Compatibility.NONE);
    }

    public WorkerBundle {
        Objects.requireNonNull(mainModule, "mainModule");
        Objects.requireNonNull(compatibility, "compatibility");
        Map<String, WorkerModule> copy = new LinkedHashMap<>(modules);
        if (!copy.containsKey(mainModule)) {
            throw new IllegalArgumentException("mainModule '" + mainModule + "' is not among the modules " + copy.keySet());
        }
        WorkerModule main = copy.get(mainModule);
        // A CommonJS main module's handlers are its module.exports (its default export), as in workerd.
        if (main.type() != ModuleType.JS && main.type() != ModuleType.CJS) {
            throw new IllegalArgumentException("mainModule '" + mainModule + "' must be a JavaScript module, not " + main.type().wireName());
        }
        modules = Collections.unmodifiableMap(copy);
    }

    public static WorkerBundle of(String mainModule, List<WorkerModule> modules) {
        Map<String, WorkerModule> map = new LinkedHashMap<>();
        for (WorkerModule m : modules) {
            if (map.put(m.name(), m) != null) throw new IllegalArgumentException("duplicate module: " + m.name());
        }
        return new WorkerBundle(mainModule, map);
    }

    /** The same code under another compatibility date and flags. */
    public WorkerBundle withCompatibility(Compatibility compatibility) {
        return new WorkerBundle(mainModule, modules, compatibility);
    }

    /** Total size of all module contents in bytes (what the code-size limit counts). */
    public long codeSize() {
        long total = 0;
        for (WorkerModule m : modules.values()) total += m.size();
        return total;
    }
}
