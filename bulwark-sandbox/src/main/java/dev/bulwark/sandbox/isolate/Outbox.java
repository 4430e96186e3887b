package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

/**
 * Where a sandbox runtime sends what it has to tell the node: responses, failures, log lines,
 * subrequests. In a sandbox process it writes to the socket; in the in-process host for trusted
 * code it hands the message straight to the node. Must be thread-safe and must not block long.
 */
@FunctionalInterface
public interface Outbox {
    /** Sends a message now. */
    void send(Message message);

    /**
     * Sends a message at the next {@link #flush}: an isolate's event loop hands over everything
     * one task said (a response head, its body, its end) in one write instead of one per message.
     */
    default void sendLater(Message message) {
        send(message);
    }

    /**
     * Sends what {@link #sendLater} held back. It may keep messages nobody waits for (a local
     * call's notice, an invocation's end) to travel with the next ones, until {@link #idle}.
     */
    default void flush() {}

    /**
     * Drops what {@link #sendLater} held back for this thread's task: its writes did not commit,
     * so nothing it said may leave (the output gate).
     */
    default void discard() {}

    /** The thread that flushes has nothing more to do for now: whatever still waits leaves. */
    default void idle() {}
}
