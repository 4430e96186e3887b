package dev.bulwark.server.governance;

/**
 * A tool's reconcile step: asked, after a crash left a call's outcome unknown, whether the effect of
 * that call (same idempotency key, same arguments) happened in the system the tool changes. It must
 * only read. Throwing counts as {@link Unknown}.
 */
@FunctionalInterface
public interface ToolLookup {
    Result lookup(ToolCall call) throws Exception;

    /** What a lookup found. */
    sealed interface Result permits Applied, NotApplied, Unknown {}

    /** The effect happened; {@code value} is the outcome to record (what the tool would have answered). */
    record Applied(Object value) implements Result {}

    /** The effect did not happen: the call may run (once). */
    record NotApplied() implements Result {}

    /** The lookup cannot tell: the outcome stays unknown until an operator settles it. */
    record Unknown() implements Result {}
}
