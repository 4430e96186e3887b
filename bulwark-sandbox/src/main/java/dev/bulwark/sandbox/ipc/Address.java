package dev.bulwark.sandbox.ipc;

import java.util.Objects;

/**
 * Where an event goes: a worker's entrypoint, or one durable object of a class a worker exports.
 * Every event message carries one, so a new kind of target is one more record here and the
 * compiler finds every {@code switch} that must learn it.
 */
public sealed interface Address {

    /** The deployed (or loaded) worker the address lies in. */
    String workerId();

    /**
     * A worker's default export (entrypoint null) or one of its named {@code WorkerEntrypoint}s,
     * optionally specialized by a {@link Grant} (props, lower limits): a service binding,
     * a {@code ctx.exports} stub or a dynamic worker's entrypoint. The grant travels with every
     * call through the node to the callee, which alone sees the props ({@code ctx.props}).
     */
    record Worker(String workerId, String entrypoint, Grant grant) implements Address {
        public Worker {
            Objects.requireNonNull(workerId, "workerId");
        }

        public Worker(String workerId, String entrypoint) {
            this(workerId, entrypoint, null);
        }

        public Worker(String workerId) {
            this(workerId, null, null);
        }

        /** The same entrypoint with another grant. */
        public Worker with(Grant g) {
            return new Worker(workerId, entrypoint, g);
        }
    }

    /**
     * What the granter of an entrypoint stub fixed: {@code props} (structured-serialized, null for
     * none; the callee's {@code ctx.props}; a {@link CapPayload} when stubs are in them, whose refs
     * are rewritten on each call's way like arguments and held by the callee's invocation only) and
     * limits lower than the callee's own ({@code cpuMs}, {@code subrequests}; negative: not
     * lowered). Compared by content.
     */
    record Grant(byte[] props, long cpuMs, int subrequests) {
        public Grant {
            props = props == null ? null : props.clone();
        }

        /** Props only, limits not lowered. */
        public static Grant props(byte[] props) {
            return new Grant(props, -1, -1);
        }

        @Override
        public byte[] props() {
            return props == null ? null : props.clone();
        }

        public boolean isEmpty() {
            return props == null && cpuMs < 0 && subrequests < 0;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Grant g && java.util.Arrays.equals(props, g.props) && cpuMs == g.cpuMs
                    && subrequests == g.subrequests;
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(props) * 31 + Long.hashCode(cpuMs) * 17 + subrequests;
        }

        /** Never shows the props: they are the granter's secret. */
        @Override
        public String toString() {
            return "Grant[props " + (props == null ? "none" : props.length + " bytes") + ", cpuMs " + cpuMs
                    + ", subrequests " + subrequests + "]";
        }
    }

    /**
     * One durable object: the class a worker exports and the object's id (64 hex digits).
     * {@code name} is the name the id was derived from ({@code idFromName}), or null.
     */
    record DurableObject(String workerId, String className, String objectId, String name) implements Address {
        public DurableObject {
            Objects.requireNonNull(workerId, "workerId");
            Objects.requireNonNull(className, "className");
            Objects.requireNonNull(objectId, "objectId");
            if (!ObjectIds.isWellFormed(objectId)) throw new IllegalArgumentException("malformed object id " + objectId);
        }
    }
}
