package dev.bulwark.server.node;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes the node's sockets together may hold toward peers that read slower than their workers
 * send. Each socket has its own bound too; this one keeps many sockets, each under its own, from
 * adding up to the node's heap. What is taken is given back when the peer has the bytes (or the
 * connection is gone).
 */
final class ByteBudget {
    private final long limit;
    private final AtomicLong held = new AtomicLong();

    ByteBudget(long limit) {
        if (limit < 1) throw new IllegalArgumentException("limit must be positive");
        this.limit = limit;
    }

    /** Takes {@code n} bytes; false, with nothing taken, when that would pass the limit. */
    boolean take(long n) {
        if (held.addAndGet(n) <= limit) return true;
        held.addAndGet(-n);
        return false;
    }

    void give(long n) {
        held.addAndGet(-n);
    }

    /** Bytes held now (for operators and tests). */
    long held() {
        return held.get();
    }
}
