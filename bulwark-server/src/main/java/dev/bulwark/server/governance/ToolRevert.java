package dev.bulwark.server.governance;

/**
 * A tool's compensation, run by a session rollback: undoes the effect of {@code call} (the original
 * call: same arguments, same idempotency key), whose recorded value was {@code value}. It runs at
 * most once per ledger row; throwing leaves the row applied and stops the rollback.
 */
@FunctionalInterface
public interface ToolRevert {
    void revert(ToolCall call, Object value) throws Exception;
}
