package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.interop.callback.JavetCallbackType;
import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.callback.IJavetDirectCallable;
import com.caoccao.javet.interop.callback.JavetCallbackContext;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueInteger;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValueObject;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An isolate's host functions behind <em>one</em> V8 function. Each V8 function made from Java
 * costs a JNI crossing, a Javet callback context and a handle to set and close, and another
 * crossing to remove its context when the isolate closes: with ~60 host functions that was a
 * large share of making an isolate. Here the functions are a Java table; the prelude's
 * {@code bindHost} (host.js) binds the one function {@code hostCall} to each function's index
 * (its place in {@code hostNames}), so {@code H.log(a, b)} arrives as {@code hostCall(0, a, b)}.
 * Only the prelude holds the bound functions (module scope); worker code reaches none of them.
 */
final class HostFunctions {
    private final List<String> names = new ArrayList<>();
    private final List<IJavetDirectCallable.NoThisAndResult<Exception>> functions = new ArrayList<>();

    /** The functions the prelude calls with its frame's invocation first (see {@link Isolate#OWNED}). */
    private final List<String> owned = new ArrayList<>();

    /**
     * Adds a host function; names are unique (the prelude looks them up by name). {@code owned}: the
     * prelude passes the invocation of the running continuation as the first argument.
     */
    void add(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn, boolean owned) {
        if (names.contains(name)) throw new IllegalStateException("host function bound twice: " + name);
        names.add(name);
        functions.add(fn);
        if (owned) this.owned.add(name);
    }

    /**
     * Puts {@code hostCall}, {@code hostNames} and {@code hostOwned} on {@code host}; returns the one callback
     * context made, for the isolate to remove when it closes.
     */
    JavetCallbackContext install(V8Runtime runtime, V8ValueObject host) throws JavetException {
        @SuppressWarnings("unchecked")
        IJavetDirectCallable.NoThisAndResult<Exception>[] table = functions.toArray(new IJavetDirectCallable.NoThisAndResult[0]);
        JavetCallbackContext ctx = new JavetCallbackContext("hostCall", JavetCallbackType.DirectCallNoThisAndResult,
                (IJavetDirectCallable.NoThisAndResult<Exception>) args -> call(table, args));
        try (V8ValueFunction f = runtime.createV8ValueFunction(ctx)) {
            host.set("hostCall", f);
        }
        host.set("hostNames", String.join(",", names));
        host.set("hostOwned", String.join(",", owned));
        return ctx;
    }

    private static V8Value call(IJavetDirectCallable.NoThisAndResult<Exception>[] table, V8Value[] args) throws Exception {
        int index = args.length > 0 && args[0] instanceof V8ValueInteger i ? i.getValue() : -1;
        if (index < 0 || index >= table.length) throw new IllegalArgumentException("no such host function");
        return table[index].call(Arrays.copyOfRange(args, 1, args.length));
    }
}
