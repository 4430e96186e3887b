package dev.bulwark.server.node;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a supervisor's facets may use (issue 14): the number of facets, storage bytes per facet and
 * in all, CPU ms per period, requests per second. One {@link Limits} for every supervisor
 * ({@link #defaults}), replaced per supervisor (by its root object id) at run time. A facet over a
 * quota is refused before its event starts with a structured error (code {@link #CODE}); the
 * supervisor's own events are never counted nor refused.
 */
public final class FacetQuotas {
    /** The {@code code} of a refused facet call, as the supervisor's JS sees it ({@code err.code}). */
    public static final String CODE = "facet_quota";

    /**
     * Limits; a negative value means none. {@code cpuMsPerPeriod} is over {@code periodMs}.
     */
    public record Limits(int maxFacets, long maxBytesPerFacet, long maxBytesTotal, long cpuMsPerPeriod, long periodMs,
                         long requestsPerSecond) {
        public static final Limits NONE = new Limits(-1, -1, -1, -1, 60_000, -1);

        public Limits {
            if (periodMs <= 0) throw new IllegalArgumentException("periodMs must be positive");
        }

        /** The defaults of the node's settings ({@code facets} table). */
        public static Limits of(dev.bulwark.server.config.FacetSettings s) {
            return new Limits(s.maxFacets(), s.maxBytesPerFacet(), s.maxBytesTotal(), s.cpuMsPerPeriod(), s.periodMs(),
                    s.requestsPerSecond());
        }
    }

    /** What one facet used, as the node counted it; shown over the admin API. */
    public static final class Usage {
        final AtomicLong requests = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        final AtomicLong cpuMicros = new AtomicLong();
        volatile String codeHash;
        /** Bumped whenever the facet's database may have changed since its size was read. */
        private final AtomicLong changes = new AtomicLong();
        /** {changes when read, bytes}, or null. */
        private volatile long[] stored;
        // CPU in the current period, and the request rate's token bucket (guarded by this).
        private long periodStart = System.nanoTime();
        private long periodCpuMicrosAtStart;
        private double tokens = -1;
        private long tokensAt = System.nanoTime();

        void mayHaveWritten() {
            changes.incrementAndGet();
        }

        /** The bytes as last read by {@code read}, read again if the facet may have written since. */
        long storedBytes(java.util.function.LongSupplier read) {
            long now = changes.get();
            long[] s = stored;
            if (s != null && s[0] == now) return s[1];
            long bytes = read.getAsLong();
            // A write noted while reading leaves the old count: the next call reads again.
            stored = new long[] {now, bytes};
            return bytes;
        }

        public long requests() { return requests.get(); }
        public long errors() { return errors.get(); }
        public long cpuMs() { return cpuMicros.get() / 1000; }
        public String codeHash() { return codeHash; }
    }

    private volatile Limits defaults;
    private final Map<String, Limits> perSupervisor = new ConcurrentHashMap<>();

    FacetQuotas(Limits defaults) {
        this.defaults = defaults;
    }

    /** The limits of supervisors that have none of their own. */
    public Limits defaults() {
        return defaults;
    }

    public void setDefaults(Limits limits) {
        this.defaults = java.util.Objects.requireNonNull(limits);
    }

    /** Sets (or with null, clears) the limits of the supervisor whose root object id is {@code supervisorId}. */
    public void set(String supervisorId, Limits limits) {
        if (limits == null) perSupervisor.remove(supervisorId);
        else perSupervisor.put(supervisorId, limits);
    }

    public Limits of(String supervisorId) {
        Limits l = perSupervisor.get(supervisorId);
        return l != null ? l : defaults;
    }

    /** Null if a call to {@code facet} of the supervisor {@code rootId} may start now, else why not. */
    String admit(String rootId, Facets.Facet facet, Facets facets) {
        Limits l = of(rootId);
        java.util.Collection<Facets.Facet> all = null;
        if (l.maxFacets() >= 0 && !counted(facet, facets)) {
            all = facets.facetsUnder(rootId);
            long others = all.stream().filter(f -> f != facet && counted(f, facets)).count();
            if (others >= l.maxFacets()) {
                return "facet quota: this supervisor may have at most " + l.maxFacets() + " facets";
            }
        }
        if (l.maxBytesPerFacet() >= 0) {
            long bytes = facets.storageBytes(facet);
            if (bytes > l.maxBytesPerFacet()) {
                return "facet quota: the facet's storage (" + bytes + " bytes) is over its limit of " + l.maxBytesPerFacet() + " bytes";
            }
        }
        if (l.maxBytesTotal() >= 0) {
            if (all == null) all = facets.facetsUnder(rootId);
            long total = 0;
            for (Facets.Facet f : all) total += facets.storageBytes(f);
            if (total > l.maxBytesTotal()) {
                return "facet quota: this supervisor's facets store " + total + " bytes, over the limit of " + l.maxBytesTotal() + " bytes";
            }
        }
        Usage u = facet.usage;
        synchronized (u) {
            long now = System.nanoTime();
            if (l.cpuMsPerPeriod() >= 0) {
                if (now - u.periodStart > l.periodMs() * 1_000_000L) {
                    u.periodStart = now;
                    u.periodCpuMicrosAtStart = u.cpuMicros.get();
                }
                long used = (u.cpuMicros.get() - u.periodCpuMicrosAtStart) / 1000;
                if (used >= l.cpuMsPerPeriod()) {
                    return "facet quota: the facet used " + used + " ms of CPU, its limit is " + l.cpuMsPerPeriod()
                            + " ms per " + l.periodMs() + " ms";
                }
            }
            if (l.requestsPerSecond() >= 0) {
                double burst = l.requestsPerSecond(); // a second's worth; 0 refuses every request
                if (u.tokens < 0) u.tokens = burst;
                u.tokens = Math.min(burst, u.tokens + (now - u.tokensAt) / 1e9 * l.requestsPerSecond());
                u.tokensAt = now;
                if (u.tokens < 1) {
                    return "facet quota: the facet is over its limit of " + l.requestsPerSecond() + " requests per second";
                }
                u.tokens -= 1;
            }
        }
        return null;
    }

    /** A facet counts against the number once it has run (it has, or had, a database). */
    private static boolean counted(Facets.Facet f, Facets facets) {
        return f.running != null || f.usage.requests() > 0 || facets.storageBytes(f) > 0;
    }
}
