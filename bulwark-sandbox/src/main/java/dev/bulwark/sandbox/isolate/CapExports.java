package dev.bulwark.sandbox.isolate;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What this sandbox's isolates exported (functions and RpcTargets passed by reference): a
 * sandbox-wide id for each, so the node can address a call to it without knowing isolates. The
 * id is the sandbox's; the node gives receivers ids of its own.
 */
final class CapExports {
    /**
     * One export: {@code invocation} is the invocation that passed it (calls on it run inside that
     * invocation while it lives); {@code outlives} whether calls may still run, each as an
     * invocation of its own, once it ended: true for what a call returned (workerd keeps a callee's
     * context alive while stubs on its results exist), false for what was passed as an argument or
     * in an env (references die with the invocation that created them).
     */
    record Export(Isolate isolate, long localId, long invocation, boolean outlives) {
        Export(Isolate isolate, long localId) {
            this(isolate, localId, 0, true);
        }
    }

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Export> exports = new ConcurrentHashMap<>();

    long register(Isolate isolate, long localId) {
        return register(new Export(isolate, localId));
    }

    long register(Export export) {
        long id = ids.incrementAndGet();
        exports.put(id, export);
        return id;
    }

    /** The export, or null when it was dropped or never existed. */
    Export get(long id) {
        return exports.get(id);
    }

    Export remove(long id) {
        return exports.remove(id);
    }

    /** An isolate closed: its exports go with it (calls on them fail). */
    void isolateGone(Isolate isolate) {
        exports.values().removeIf(e -> e.isolate() == isolate);
    }
}
