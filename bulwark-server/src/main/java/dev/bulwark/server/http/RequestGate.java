package dev.bulwark.server.http;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The node-wide cap on requests to workers in flight at the front door. Every request in flight
 * may hold up to a response window of the node's memory (see {@code docs/security.md}), so the
 * number of them is what bounds the front door's share of the heap; past the cap a client is
 * answered at once (503 with Retry-After) instead of queued.
 */
final class RequestGate {
    private final int capacity;
    private final Semaphore permits;

    RequestGate(int capacity) {
        this.capacity = capacity;
        this.permits = new Semaphore(capacity);
    }

    /** A permit, or null when {@link #capacity()} requests are in flight. */
    Permit tryEnter() {
        return permits.tryAcquire() ? new Permit() : null;
    }

    int capacity() {
        return capacity;
    }

    int inFlight() {
        return capacity - permits.availablePermits();
    }

    /** One request's place; released once, by whichever of its endings comes first. */
    final class Permit {
        private final AtomicBoolean released = new AtomicBoolean();

        void release() {
            if (released.compareAndSet(false, true)) permits.release();
        }
    }
}
