package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

/**
 * Where a sandbox runtime sends what it has to tell the node: responses, failures, log lines,
 * subrequests. In a sandbox process it writes to the socket; in the in-process host for trusted
 * code it hands the message straight to the node. Must be thread-safe and must not block long.
 */
@FunctionalInterface
public interface Outbox {
    void send(Message message);
}
