package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

/** What sandboxes say on their own (console lines, egress traffic), and the node's say on invocations. */
interface SandboxEvents {
    void log(Message.LogLine line);

    /**
     * An egress message of one of {@code from}'s invocations (Subrequest, SubrequestAck,
     * SubrequestCancel); answers go back through {@code from.deliver}.
     */
    void egress(SandboxProcess from, Message message);

    /**
     * An invocation is about to start: the listener to use for it (the given one, or one wrapping
     * it), or null when the node refuses it (the listener has then been told why).
     */
    default InvocationListener admit(String tenant, Message.FetchStart start, InvocationListener listener) {
        return listener;
    }

    /** A sandbox process is gone; whatever the node held for it can go. */
    default void sandboxGone(SandboxProcess sandbox) {}
}
