package dev.bulwark.server.governance;

/**
 * Where an approval's life is told outside governance (the "awaiting approval" lane and its
 * metrics hook in here; see {@link Governance#approvalEvents}). Called after the change is
 * durable, on the thread that made it; implementations must be quick and must not throw.
 */
public interface ApprovalEvents {
    ApprovalEvents NONE = new ApprovalEvents() {};

    /** A privileged call of {@code session} is parked: approval {@code approvalId} waits for a decision. */
    default void pending(String tenant, String session, String approvalId, String tool) {}

    /** A tool call starts waiting (bounded, at most {@code waitMs}) for the decision on {@code approvalId}. */
    default void waitStarted(String tenant, String session, String approvalId, long waitMs) {}

    /** That wait is over: {@code state} is the approval's state then (still {@code pending}/{@code escalated}: timed out). */
    default void waitEnded(String tenant, String session, String approvalId, String state) {}

    /** Approval {@code approvalId} passed a deadline undecided: {@code escalated} or {@code expired}. */
    default void settled(String tenant, String session, String approvalId, String state) {}

    /** Approval {@code approvalId} was decided: {@code approved} or {@code rejected}. */
    default void decided(String tenant, String session, String approvalId, String state) {}
}
