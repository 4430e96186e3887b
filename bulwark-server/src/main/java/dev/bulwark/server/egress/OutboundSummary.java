package dev.bulwark.server.egress;

import java.util.ArrayList;
import java.util.List;

/**
 * What one invocation did through the egress gateway: totals, and its first calls in order
 * (at most {@link #MAX_CALLS} are kept; the totals count all). Thread-safe while it is filled.
 */
public final class OutboundSummary {
    public static final int MAX_CALLS = 64;

    private final List<OutboundCall> calls = new ArrayList<>();
    private int count, denied, failed;
    private long bytesIn, bytesOut, millis;

    /** Adds a call; returns its place among the kept calls, or -1 when only the totals count it. */
    public synchronized int add(OutboundCall call) {
        count++;
        if (call.outcome().equals("denied")) denied++;
        else if (!call.outcome().equals("ok")) failed++;
        bytesIn += call.bytesIn();
        bytesOut += call.bytesOut();
        millis += call.millis();
        if (calls.size() >= MAX_CALLS) return -1;
        calls.add(call);
        return calls.size() - 1;
    }

    /**
     * More bytes of a call already added (a WebSocket's frames after its handshake): to the totals,
     * and to the kept call at {@code index} (see {@link #add}; -1: none kept).
     */
    public synchronized void grow(int index, long moreIn, long moreOut) {
        bytesIn += moreIn;
        bytesOut += moreOut;
        if (index < 0 || index >= calls.size()) return;
        OutboundCall c = calls.get(index);
        calls.set(index, new OutboundCall(c.method(), c.host(), c.status(), c.outcome(), c.bytesIn() + moreIn,
                c.bytesOut() + moreOut, c.millis()));
    }

    /** An immutable copy, for an invocation's log record or tail event. */
    public synchronized Snapshot snapshot() {
        return new Snapshot(count, denied, failed, bytesIn, bytesOut, millis, List.copyOf(calls));
    }

    /**
     * @param calls    outbound requests made (allowed or not)
     * @param denied   refused by the egress policy
     * @param failed   allowed, but ended without a complete response (network error, cap, timeout, canceled)
     * @param millis   the sum of the calls' durations (they may overlap)
     * @param first    the first {@link #MAX_CALLS} calls
     */
    public record Snapshot(int calls, int denied, int failed, long bytesIn, long bytesOut, long millis,
                           List<OutboundCall> first) {}
}
