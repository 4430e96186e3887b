package dev.bulwark.server.config;

/**
 * Dormant dynamic workers: a loaded dynamic worker that stays idle gives its isolate back and keeps
 * its validated code in its sandbox (the callback of its parent's {@code get()} does not run again;
 * its next call makes it again on a spare isolate, with fresh module state).
 *
 * @param idleIsolateMs a loaded dynamic worker with no event for this long gives its isolate back; 0: never
 * @param max           dormant dynamic workers a tenant may keep beyond {@code dynamic_workers_max} live ones;
 *                      past both the least recently used is unloaded (its callback runs on its next {@code get()})
 */
public record DormantWorkerSettings(long idleIsolateMs, int max) {
    /**
     * Ten seconds, as a durable object's eviction: making the isolate again costs its next call
     * about one cold load's CPU (a spare isolate and the module's top-level code), paid at most once
     * per ten idle seconds, against ~3.7 MiB kept per idle worker (docs/notes/dormant.md).
     */
    public static final long DEFAULT_IDLE_ISOLATE_MS = 10_000;
    /** A dormant worker costs its code and a few hundred bytes of bookkeeping in the node and its sandbox. */
    public static final int DEFAULT_MAX = 1_000;
    public static final DormantWorkerSettings DEFAULTS = new DormantWorkerSettings(DEFAULT_IDLE_ISOLATE_MS, DEFAULT_MAX);

    public DormantWorkerSettings {
        if (idleIsolateMs < 0 || max < 0) {
            throw new IllegalArgumentException("dormant worker settings out of range: " + idleIsolateMs + ", " + max);
        }
    }
}
