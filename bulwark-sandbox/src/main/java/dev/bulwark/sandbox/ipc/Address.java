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

    /** A worker's default export (entrypoint null) or one of its named {@code WorkerEntrypoint}s. */
    record Worker(String workerId, String entrypoint) implements Address {
        public Worker {
            Objects.requireNonNull(workerId, "workerId");
        }

        public Worker(String workerId) {
            this(workerId, null);
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
