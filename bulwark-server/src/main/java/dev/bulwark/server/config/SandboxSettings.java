package dev.bulwark.server.config;

import java.util.List;

/**
 * How the node runs sandbox processes. Other settings than {@link #DEFAULTS} are read from a project's
 * configuration ({@code SettingsReader}) or made from these with the {@code with...} methods, one
 * component each: {@code SandboxSettings.DEFAULTS.withPoolSize(2).withJvmOptions(List.of("-Xmx256m"))}.
 *
 * @param processesPerTenant sandbox processes started for each tenant (tenants never share one)
 * @param isolatesPerWorker  isolates serving one worker concurrently within a sandbox
 * @param rssCeilingMb       resident memory above which the node kills and restarts a sandbox
 * @param poolSize           ready isolates each sandbox keeps prepared from the snapshot
 * @param jvmOptions         extra options for the sandbox JVMs, each starting with '-'
 * @param dynamicWorkersMax  dynamic workers a tenant may have live (holding an isolate) at once; past it
 *                           the least recently used idle one goes dormant (gives its isolate back, keeps
 *                           its code); past this plus {@code dormant.max()} loaded, the least recently used
 *                           is evicted (and loaded again from its parent's callback when next asked for)
 * @param objectIdleMs       a durable object with no event for this long is evicted from its isolate
 *                           (its constructor runs again on its next event; its storage stays)
 * @param confine            how sandboxes are confined by the OS (namespaces, cgroups, seccomp; docs/security.md)
 * @param websocketsPerObject WebSockets one durable object may hold open at once (the node refuses more with 429)
 * @param objectStorageIdleMs a live durable object whose storage was not used for this long has its
 *                           database connection closed (opened again at its next storage call); 0: never
 * @param sessions           the processes of governed sessions' runs (one per run; how many at once, spares)
 * @param dormant            when loaded dynamic workers give their isolates back and keep their code, and how
 *                           many such dormant ones a tenant keeps beyond {@code dynamicWorkersMax} live ones
 */
public record SandboxSettings(int processesPerTenant, int isolatesPerWorker, long rssCeilingMb, int poolSize,
                              List<String> jvmOptions, int dynamicWorkersMax, long objectIdleMs, Confine confine,
                              int websocketsPerObject, long objectStorageIdleMs, SessionSandboxSettings sessions,
                              DormantWorkerSettings dormant) {

    /** {@code sandboxes.confine}: what the node does about OS confinement of its sandboxes. */
    public enum Confine {
        /** Apply every protection the machine allows; say at start-up which could not be applied. */
        AUTO,
        /** Refuse to start unless every protection can be applied. */
        REQUIRE,
        /** Apply none (sandboxes are plain child processes; for debugging). */
        OFF
    }

    /** A live dynamic worker costs an isolate (about 3.7 MiB RSS measured): 64 fit the default ceiling. */
    public static final int DEFAULT_DYNAMIC_WORKERS_MAX = 64;
    /** As workerd: an object idle for about ten seconds is evicted. */
    public static final long DEFAULT_OBJECT_IDLE_MS = 10_000;
    /** Workers' documented limit of hibernatable WebSockets per object. */
    public static final int DEFAULT_WEBSOCKETS_PER_OBJECT = 32_768;
    /** An open SQLite connection is most of an idle object's memory (docs/notes/idlemem.md). */
    public static final long DEFAULT_OBJECT_STORAGE_IDLE_MS = dev.bulwark.objects.process.SandboxMain.DEFAULT_STORAGE_IDLE_MS;
    public static final SandboxSettings DEFAULTS = new SandboxSettings(1, 1, 1024, 4, List.of(), DEFAULT_DYNAMIC_WORKERS_MAX,
            DEFAULT_OBJECT_IDLE_MS, Confine.AUTO, DEFAULT_WEBSOCKETS_PER_OBJECT, DEFAULT_OBJECT_STORAGE_IDLE_MS,
            SessionSandboxSettings.DEFAULTS, DormantWorkerSettings.DEFAULTS);

    /** These settings with another number of sandbox processes per tenant. */
    public SandboxSettings withProcessesPerTenant(int n) {
        return new SandboxSettings(n, isolatesPerWorker, rssCeilingMb, poolSize, jvmOptions,
                dynamicWorkersMax, objectIdleMs, confine, websocketsPerObject, objectStorageIdleMs, sessions, dormant);
    }

    /** These settings with another number of isolates serving one worker concurrently. */
    public SandboxSettings withIsolatesPerWorker(int n) {
        return new SandboxSettings(processesPerTenant, n, rssCeilingMb, poolSize, jvmOptions,
                dynamicWorkersMax, objectIdleMs, confine, websocketsPerObject, objectStorageIdleMs, sessions, dormant);
    }

    /** These settings with another resident-memory ceiling per sandbox (its soft limit is 80 % of it). */
    public SandboxSettings withRssCeilingMb(long mb) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, mb, poolSize, jvmOptions,
                dynamicWorkersMax, objectIdleMs, confine, websocketsPerObject, objectStorageIdleMs, sessions, dormant);
    }

    /** These settings with another number of ready isolates per sandbox. */
    public SandboxSettings withPoolSize(int n) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, rssCeilingMb, n, jvmOptions,
                dynamicWorkersMax, objectIdleMs, confine, websocketsPerObject, objectStorageIdleMs, sessions, dormant);
    }

    /** These settings with other extra options for the sandbox JVMs. */
    public SandboxSettings withJvmOptions(List<String> options) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, rssCeilingMb, poolSize, options,
                dynamicWorkersMax, objectIdleMs, confine, websocketsPerObject, objectStorageIdleMs, sessions, dormant);
    }

    /** These settings with another number of live dynamic workers per tenant. */
    public SandboxSettings withDynamicWorkersMax(int n) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, rssCeilingMb, poolSize, jvmOptions,
                n, objectIdleMs, confine, websocketsPerObject, objectStorageIdleMs, sessions, dormant);
    }

    /** These settings with another idle time before a durable object is evicted. */
    public SandboxSettings withObjectIdleMs(long ms) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, rssCeilingMb, poolSize, jvmOptions,
                dynamicWorkersMax, ms, confine, websocketsPerObject, objectStorageIdleMs, sessions, dormant);
    }

    /** These settings with another OS confinement of the sandboxes. */
    public SandboxSettings withConfine(Confine c) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, rssCeilingMb, poolSize, jvmOptions,
                dynamicWorkersMax, objectIdleMs, c, websocketsPerObject, objectStorageIdleMs, sessions, dormant);
    }

    /** These settings with another per-object WebSocket limit. */
    public SandboxSettings withWebsocketsPerObject(int limit) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, rssCeilingMb, poolSize, jvmOptions,
                dynamicWorkersMax, objectIdleMs, confine, limit, objectStorageIdleMs, sessions, dormant);
    }

    /** These settings with another idle time before an object's database connection closes. */
    public SandboxSettings withObjectStorageIdleMs(long ms) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, rssCeilingMb, poolSize, jvmOptions,
                dynamicWorkersMax, objectIdleMs, confine, websocketsPerObject, ms, sessions, dormant);
    }

    /** These settings with other bounds on the processes of sessions' runs. */
    public SandboxSettings withSessions(SessionSandboxSettings s) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, rssCeilingMb, poolSize, jvmOptions,
                dynamicWorkersMax, objectIdleMs, confine, websocketsPerObject, objectStorageIdleMs, s, dormant);
    }

    /** These settings with other rules for dormant dynamic workers. */
    public SandboxSettings withDormant(DormantWorkerSettings d) {
        return new SandboxSettings(processesPerTenant, isolatesPerWorker, rssCeilingMb, poolSize, jvmOptions,
                dynamicWorkersMax, objectIdleMs, confine, websocketsPerObject, objectStorageIdleMs, sessions, d);
    }

    public SandboxSettings {
        jvmOptions = List.copyOf(jvmOptions);
        java.util.Objects.requireNonNull(confine, "confine");
        java.util.Objects.requireNonNull(sessions, "sessions");
        java.util.Objects.requireNonNull(dormant, "dormant");
        if (processesPerTenant < 1 || isolatesPerWorker < 1 || rssCeilingMb < 1 || poolSize < 0 || dynamicWorkersMax < 1
                || objectIdleMs < 1 || websocketsPerObject < 1 || objectStorageIdleMs < 0) {
            throw new IllegalArgumentException("sandbox settings out of range: " + processesPerTenant + ", "
                    + isolatesPerWorker + ", " + rssCeilingMb + ", " + poolSize);
        }
        for (String option : jvmOptions) {
            if (!option.startsWith("-")) throw new IllegalArgumentException("not a JVM option: " + option);
        }
    }
}
