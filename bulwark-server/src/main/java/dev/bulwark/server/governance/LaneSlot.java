package dev.bulwark.server.governance;

import java.util.function.Consumer;

/** A run's place in a lane, from admission until {@link #close}; it may move to the approval lane meanwhile. */
public final class LaneSlot implements AutoCloseable {
    private final String tenant;
    private final LaneQueue admitted;
    private final Consumer<LaneSlot> onClose;
    private LaneQueue current;
    private boolean closed;

    LaneSlot(String tenant, LaneQueue admitted, Consumer<LaneSlot> onClose) {
        this.tenant = tenant;
        this.admitted = admitted;
        this.current = admitted;
        this.onClose = onClose;
    }

    /** The lane the run was admitted to. */
    public Lane lane() {
        return admitted.lane;
    }

    /** The lane whose place the run holds now. */
    public synchronized Lane holding() {
        return current.lane;
    }

    synchronized Lanes.Parked park(LaneQueue approval) {
        if (closed || current != admitted || !approval.tryEnter(tenant)) return () -> {};
        admitted.leave(tenant);
        current = approval;
        return this::unpark;
    }

    private synchronized void unpark() {
        if (closed || current == admitted) return;
        admitted.forceEnter(tenant);
        current.leave(tenant);
        current = admitted;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
            current.leave(tenant);
        }
        onClose.accept(this);
    }
}
