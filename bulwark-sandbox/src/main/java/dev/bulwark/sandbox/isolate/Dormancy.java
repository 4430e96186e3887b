package dev.bulwark.sandbox.isolate;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * When a loaded worker gives its isolate back but keeps its code (a <em>dormant</em> worker, as a
 * hibernated durable object keeps its storage): after {@code idleMs} without an event, or, past
 * {@code liveMax} workers holding isolates in this sandbox, the least recently used idle one. Its
 * validated code, env, limits and bindings stay in the sandbox, so the node still counts it loaded
 * (its parent's {@code get()} callback does not run again); its next event instantiates it on a
 * spare isolate: top-level code runs again and module-level state starts fresh, as when Workers
 * evicts an isolate. Only the sandboxes for generated code (dynamic workers) use it.
 *
 * @param idleMs  an idle worker is made dormant after this long; 0: never for idleness
 * @param liveMax workers of this sandbox holding isolates at once, beyond which the least recently
 *                used idle ones are made dormant
 */
public record Dormancy(long idleMs, int liveMax) {
    /** Workers keep their isolates until they are unloaded (every sandbox but those for generated code). */
    public static final Dormancy OFF = new Dormancy(0, Integer.MAX_VALUE);

    public Dormancy {
        if (idleMs < 0 || liveMax < 1) throw new IllegalArgumentException("dormancy out of range: " + idleMs + ", " + liveMax);
    }

    boolean enabled() {
        return idleMs > 0 || liveMax < Integer.MAX_VALUE;
    }

    /** How often idle workers are looked for: a quarter of the idle time, between 50 ms and 1 s. */
    long sweepMs() {
        return idleMs == 0 ? 1_000 : Math.max(50, Math.min(1_000, idleMs / 4));
    }

    /** A loaded worker as dormancy sees it ({@code SandboxRuntime}'s slot). */
    interface Slot {
        /** Whether it holds at least one isolate. */
        boolean live();

        /** Whether its isolates were asked to release themselves and have not answered yet. */
        boolean releasing();

        /** When it last had an event, or was seen running one (System.nanoTime). */
        long lastUse();

        /**
         * Notes a running invocation as a use, and asks its isolates to release themselves if it has
         * been idle for {@code idleMs} (0: only notes).
         */
        void sweep(long now, long idleMs);

        /** Asks its isolates to release themselves if none runs an invocation now. */
        void release();
    }

    /**
     * One sweep: idle workers are asked to release their isolates, then, while more than
     * {@link #liveMax} hold isolates, the least recently used ones that run nothing.
     */
    void sweep(Collection<? extends Slot> slots, long now) {
        for (Slot s : slots) s.sweep(now, idleMs);
        capLive(slots);
    }

    /** Past {@link #liveMax} workers holding isolates, asks the least recently used idle ones to release theirs. */
    void capLive(Collection<? extends Slot> slots) {
        if (liveMax == Integer.MAX_VALUE) return;
        // Those already releasing are leaving: the others must fit.
        List<Slot> live = new ArrayList<>();
        for (Slot s : slots) {
            if (s.live() && !s.releasing()) live.add(s);
        }
        int excess = live.size() - liveMax;
        if (excess <= 0) return;
        live.sort(Comparator.comparingLong(Slot::lastUse));
        for (int i = 0; i < excess && i < live.size(); i++) live.get(i).release();
    }
}
