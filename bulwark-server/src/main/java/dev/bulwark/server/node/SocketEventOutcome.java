package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The outcome of one WebSocket event, for whoever delivers a socket's events one at a time: the
 * socket's next event may go once this one is delivered. That is when its invocation answers
 * (its listeners ran and async ones go on: the prelude's early {@code RpcReturn}, so a listener
 * awaiting something does not hold the socket's next message back, as in workerd) or when it ends,
 * whichever comes first.
 */
abstract class SocketEventOutcome implements InvocationListener.NoResponse {
    private final AtomicBoolean delivered = new AtomicBoolean();

    /** The next event may go (called once). {@code ended}: the invocation is over, not only answered. */
    abstract void delivered(boolean ended);

    @Override
    public final void rpcReturn(Message.RpcReturn result) {
        if (delivered.compareAndSet(false, true)) delivered(false);
    }

    @Override
    public final void done(long cpuMicros) {
        if (delivered.compareAndSet(false, true)) delivered(true);
    }
}
