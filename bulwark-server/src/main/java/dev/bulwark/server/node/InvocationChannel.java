package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

/** The way to the sandbox that runs one invocation: its request body chunks, its cancellation. */
@FunctionalInterface
public interface InvocationChannel {
    InvocationChannel NOWHERE = message -> { };

    void send(Message message);
}
