package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.V8Context;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValueObject;

/**
 * Hands the prelude V8's two accessors of the <em>continuation-preserved embedder data</em>: the
 * per-isolate value V8 captures whenever a promise reaction is made (await, then, thenables) and
 * restores when the reaction runs. It is what AsyncLocalStorage needs to survive native
 * async/await, and what Node and workerd build theirs on.
 *
 * <p>Javet 5.0.6 exposes neither the C++ API ({@code Isolate::Get/SetContinuationPreservedEmbedderData})
 * nor the runtime intrinsics, and {@code --allow-natives-syntax} would hand every intrinsic to
 * untrusted code. V8 does install two builtins with exactly this job,
 * {@code getContinuationPreservedEmbedderData} and {@code setContinuationPreservedEmbedderData},
 * on its <em>extras binding object</em>, a native-context slot no script can reach. Javet can read
 * native-context slots ({@link V8Context#get}), so the host finds the object there and passes the
 * two functions to the prelude's install, which keeps them in module scope. The object itself
 * (which also holds V8's trace functions) is never given to JavaScript.
 */
final class AsyncContextHost {
    static final String GET = "getContinuationPreservedEmbedderData";
    static final String SET = "setContinuationPreservedEmbedderData";

    /** The native-context slot of the extras binding object; found once per process (-1: not yet). */
    private static volatile int slot = -1;

    private AsyncContextHost() {}

    /** Puts {@code asyncContextGet} and {@code asyncContextSet} on the host object. */
    static void install(V8Runtime runtime, V8ValueObject host) throws JavetException {
        try (V8ValueObject binding = extrasBinding(runtime);
             V8ValueFunction get = binding.get(GET);
             V8ValueFunction set = binding.get(SET)) {
            host.set("asyncContextGet", get);
            host.set("asyncContextSet", set);
        }
    }

    private static V8ValueObject extrasBinding(V8Runtime runtime) throws JavetException {
        // A builtin function's context is the native context itself.
        try (V8ValueFunction object = runtime.getGlobalObject().get("Object");
             V8Context nativeContext = object.getContext()) {
            if (nativeContext == null) throw new IllegalStateException("V8 gave no native context");
            int known = slot;
            if (known >= 0) {
                V8ValueObject b = bindingAt(nativeContext, known);
                if (b != null) return b;
            }
            int length = nativeContext.getLength();
            for (int i = 0; i < length; i++) {
                V8ValueObject b = bindingAt(nativeContext, i);
                if (b != null) {
                    slot = i;
                    return b;
                }
            }
            throw new IllegalStateException("V8's extras binding object was not found: AsyncLocalStorage cannot work");
        }
    }

    private static V8ValueObject bindingAt(V8Context context, int index) throws JavetException {
        V8Value v = context.get(index);
        if (v instanceof V8ValueObject o && !(v instanceof V8ValueFunction) && isFunction(o, GET) && isFunction(o, SET)) {
            return o;
        }
        if (v != null) v.close();
        return null;
    }

    private static boolean isFunction(V8ValueObject o, String name) throws JavetException {
        // Runs before any worker code exists: no getter or proxy of a script can be reached here.
        if (!o.hasOwnProperty(name)) return false;
        try (V8Value f = o.get(name)) {
            return f instanceof V8ValueFunction;
        }
    }
}
