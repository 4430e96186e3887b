package dev.bulwark.server.governance;

/**
 * The {@link ApprovalEvents} governance calls: the embedder's (lanes, metrics, tests) first, then,
 * for a new pending approval, the sweeper (so it wakes at that approval's first deadline) and the
 * notifier (the {@code pending} event to the approval hooks). Neither blocks.
 */
record ApprovalFanout(ApprovalEvents user, ApprovalSweeper sweeper, ApprovalNotifier notifier, Governance gov)
        implements ApprovalEvents {
    @Override
    public void pending(String tenant, String session, String approvalId, String tool) {
        user.pending(tenant, session, approvalId, tool);
        long escalate = gov.approvalEscalateAfterMs();
        sweeper.dueAt(gov.now() + (escalate > 0 ? escalate : gov.approvalTtlMs()));
        notifier.tell("pending", tenant, session, approvalId, tool);
    }

    @Override
    public void waitStarted(String tenant, String session, String approvalId, long waitMs) {
        user.waitStarted(tenant, session, approvalId, waitMs);
    }

    @Override
    public void waitEnded(String tenant, String session, String approvalId, String state) {
        user.waitEnded(tenant, session, approvalId, state);
    }

    @Override
    public void settled(String tenant, String session, String approvalId, String state) {
        user.settled(tenant, session, approvalId, state);
    }

    @Override
    public void decided(String tenant, String session, String approvalId, String state) {
        user.decided(tenant, session, approvalId, state);
    }
}
