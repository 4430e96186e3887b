package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

/**
 * Where isolates run, seen from the node: it takes node-to-sandbox messages and answers through
 * the {@link Outbox} it was built with. A sandbox process is one (over its socket); the in-process
 * {@link SandboxRuntime} is another, for trusted code and tests only.
 */
public interface IsolateHost extends AutoCloseable {
    /** Delivers one message from the node. Never blocks on JavaScript. */
    void deliver(Message message);

    @Override
    void close();
}
