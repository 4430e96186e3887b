package dev.bulwark.server.caps;

import java.util.List;

/**
 * A capability implemented in Java, which worker code calls through a stub in its {@code env}:
 * {@code await env.TOOL.method(a, b)} calls {@code call("method", [a, b])} (calling the stub
 * itself, {@code env.TOOL(a)}, passes the method ""). Arguments and results are mapped between JS
 * and Java as for Java durable objects, by {@link dev.bulwark.objects.java.StructuredValues} (its
 * class comment is the reference): null (also for undefined), Boolean, a number as Long (an integer
 * of magnitude at most 2^53 − 1, not −0) or Double (any other), bigint as BigInteger, String, byte[]
 * (ArrayBuffer, Uint8Array; sent back as a Uint8Array), Date as Instant, List, plain object as
 * Map with String keys, {@code Map} as Map, {@code Set} as Set, errors as
 * {@link dev.bulwark.objects.java.RpcError}. Results may also be Integer, Short, Byte or Float; a
 * Long past 2^53 − 1 and other Number classes have no JS form. An argument with no Java form (a
 * RegExp, a typed array other than Uint8Array, ...) rejects the caller's promise with a TypeError
 * before the capability is called; functions, RpcTargets and stubs are refused the same way.
 * Throw {@link CapabilityError} to reject the caller's promise with a JS error of that type and
 * message; anything else thrown, or a result with no JS form, reaches the caller as "internal
 * error in capability {@code <name>}" (the detail is logged, never shown).
 *
 * <p>Calls run on virtual threads, possibly several at once: implementations are thread-safe.
 */
@FunctionalInterface
public interface JavaCapability {
    Object call(String method, List<Object> args) throws Exception;

    /**
     * A call on this capability was refused because it came from an invocation of a worker that does
     * not hold it (only a subverted sandbox can name another worker's capability). Called on a virtual
     * thread after the refusal; by default nothing happens. Must not throw.
     */
    default void foreignCall(String method) {}
}
