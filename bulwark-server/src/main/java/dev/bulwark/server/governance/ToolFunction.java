package dev.bulwark.server.governance;

/**
 * A tool implemented in Java. Its result is a value of the Java ↔ JS mapping of
 * {@link dev.bulwark.objects.java.StructuredValues} (null, Boolean, Long, Double, String, List,
 * Map with String keys, ...). It runs at most once per idempotency key: the session's ledger answers
 * repeats. Throwing records a failed outcome ({@code tool_failed}); the exception's text is not shown.
 */
@FunctionalInterface
public interface ToolFunction {
    Object run(ToolCall call) throws Exception;
}
