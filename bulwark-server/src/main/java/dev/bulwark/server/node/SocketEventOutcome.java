package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The outcome of one WebSocket event, for whoever delivers a socket's events one at a time: the
 * socket's next event may go once this one is delivered. That is when its invocation answers
 * (its listeners ran and async ones go on: the prelude's early {@code RpcReturn}, so a listener
 * awaiting something does not hold the socket's next message back, as in workerd) or when it ends,
 * whichever comes first. At most {@link #MAX_LINGERING} of a socket's events may go on after their
 * answer at once: past that the next waits for one to end, so a client's flood of messages to
 * slow async listeners cannot pile up invocations without bound (each also ends at its wall limit).
 * The answer comes on the sandbox's reader thread; the end may come on another (the sandbox died).
 */
abstract class SocketEventOutcome implements InvocationListener.NoResponse {
    /** A socket's events that answered and still run, at most. */
    static final int MAX_LINGERING = 32;

    private final AtomicInteger lingering;
    private final AtomicBoolean delivered = new AtomicBoolean();
    /** This event took a lingering slot (written on the reader thread, read where it ends). */
    private volatile boolean counted;

    /** @param lingering the socket's count of events that answered and still run */
    SocketEventOutcome(AtomicInteger lingering) {
        this.lingering = lingering;
    }

    /** The next event may go (called once). {@code ended}: the invocation is over, not only answered. */
    abstract void delivered(boolean ended);

    @Override
    public final void rpcReturn(Message.RpcReturn result) {
        if (lingering.incrementAndGet() > MAX_LINGERING) {
            lingering.decrementAndGet(); // too many go on: the next waits for this one's end
            return;
        }
        counted = true;
        if (delivered.compareAndSet(false, true)) delivered(false);
    }

    @Override
    public final void done(long cpuMicros) {
        if (counted) lingering.decrementAndGet();
        if (delivered.compareAndSet(false, true)) delivered(true);
    }
}
