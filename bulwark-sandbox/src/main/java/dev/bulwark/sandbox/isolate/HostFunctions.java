package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.callback.IJavetDirectCallable;
import com.caoccao.javet.interop.callback.JavetCallbackContext;
import com.caoccao.javet.interop.callback.JavetCallbackType;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueString;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValueObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An isolate's host functions, made into V8 functions only when the prelude first calls them.
 * Making one costs a JNI crossing into V8 and a callback context (~8 µs); an isolate registers
 * ~60 and a typical worker calls a handful, so binding all of them up front was ~0.5 ms of every
 * isolate's creation (docs/notes/snapshot.md). The prelude sees one function,
 * {@code hostFunction(name, host)}, which puts the named function on the host object, and the list of
 * the names ({@code hostNames}); host.js makes each {@code H[name]} on first call and keeps it.
 * Isolate thread only.
 */
final class HostFunctions {
    private final V8Runtime runtime;
    /** Where the made callback contexts go, so that the isolate removes them when it closes. */
    private final List<JavetCallbackContext> callbacks;
    /** What every host function is wrapped in (Isolate's: fatal errors and termination). */
    private final Guard guard;
    private final Map<String, IJavetDirectCallable.NoThisAndResult<Exception>> table = new LinkedHashMap<>();

    interface Guard {
        IJavetDirectCallable.NoThisAndResult<Exception> wrap(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn);
    }

    HostFunctions(V8Runtime runtime, List<JavetCallbackContext> callbacks, Guard guard) {
        this.runtime = runtime;
        this.callbacks = callbacks;
        this.guard = guard;
    }

    /** Registers a host function (wrapped in the guard); nothing is made in V8 yet. */
    void add(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn) {
        if (table.putIfAbsent(name, guard.wrap(name, fn)) != null) throw new IllegalStateException("host function bound twice: " + name);
    }

    /** Puts {@code hostFunction} and {@code hostNames} on the host object the prelude is installed with. */
    void install(V8ValueObject host) throws JavetException {
        JavetCallbackContext ctx = new JavetCallbackContext("hostFunction", JavetCallbackType.DirectCallNoThisAndResult,
                guard.wrap("hostFunction", this::make));
        callbacks.add(ctx);
        try (V8ValueFunction f = runtime.createV8ValueFunction(ctx)) {
            host.set("hostFunction", f);
        }
        host.set("hostNames", String.join(",", table.keySet()));
    }

    /**
     * {@code hostFunction(name, host)}: makes the V8 function for a registered name and puts it on
     * {@code host} (host.js asks once per name). Put on an object and its Java handle closed at once,
     * as functions were bound before: a function handed back as the result would leave its handle
     * open until the runtime closes, and Javet then releases its callback context a second time
     * (after the isolate's own removeCallbackContext), which crashed the process (SIGSEGV).
     */
    private V8Value make(V8Value[] args) throws JavetException {
        String name = args.length > 0 && args[0] instanceof V8ValueString s ? s.getValue() : null;
        IJavetDirectCallable.NoThisAndResult<Exception> fn = name == null ? null : table.get(name);
        if (fn == null) throw new IllegalArgumentException("no host function " + name);
        if (!(args.length > 1 && args[1] instanceof V8ValueObject target)) throw new IllegalArgumentException("hostFunction: no target");
        JavetCallbackContext ctx = new JavetCallbackContext(name, JavetCallbackType.DirectCallNoThisAndResult, fn);
        callbacks.add(ctx);
        try (V8ValueFunction f = runtime.createV8ValueFunction(ctx)) {
            target.set(name, f);
        }
        return runtime.createV8ValueUndefined();
    }
}
