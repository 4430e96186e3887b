package dev.bulwark.server.caps;

import java.util.List;

/**
 * A capability implemented in Java, which worker code calls through a stub in its {@code env}:
 * {@code await env.TOOL.method(a, b)} calls {@code call("method", [a, b])} (calling the stub
 * itself, {@code env.TOOL(a)}, passes the method ""). Arguments arrive as structured-clone
 * values mapped to Java: null (also for undefined), Boolean, Double (every number), String,
 * byte[] (ArrayBuffer, Uint8Array), List, Map with String keys. Return the same kinds (Integer,
 * Long and other Numbers are accepted too). Throw {@link CapabilityError} to reject the caller's
 * promise with a JS error of that type and message; anything else thrown reaches the caller as
 * "internal error" (its message is logged, never shown).
 *
 * <p>Calls run on virtual threads, possibly several at once: implementations are thread-safe.
 */
@FunctionalInterface
public interface JavaCapability {
    Object call(String method, List<Object> args) throws Exception;
}
