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
    record Export(Isolate isolate, long localId) {}

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Export> exports = new ConcurrentHashMap<>();

    long register(Isolate isolate, long localId) {
        long id = ids.incrementAndGet();
        exports.put(id, new Export(isolate, localId));
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
