package dev.bulwark.server.node;

import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.sandbox.ipc.Address;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which sandbox runs each durable object: exactly one at a time per id. An object is placed on
 * its first event (in the least busy live sandbox of its tenant) and stays there while that
 * sandbox lives; when the sandbox dies its objects are released and re-activate elsewhere on their
 * next event. One node keeps this table in memory; a cluster will keep it in Pekko Cluster
 * Sharding behind the same methods (DESIGN.md).
 */
final class ObjectDirectory {
    private final Map<String, SandboxProcess> placements = new ConcurrentHashMap<>();

    /**
     * Whether an object lives in the node itself: the durable object classes implemented in Java
     * (trusted platform code, {@link JavaObjects}) run there, never in a sandbox, and keep their
     * files where no sandbox can open them. Their one-instance-per-id table is {@link JavaObjects}'s.
     */
    static boolean runsInNode(Address.DurableObject object) {
        return JavaObjects.isJava(object);
    }

    /**
     * The sandbox that runs this object, placing it among {@code candidates} (the live sandboxes of
     * its tenant) if it runs nowhere; null if there is no candidate.
     */
    SandboxProcess place(Address.DurableObject object, List<SandboxProcess> candidates) {
        if (runsInNode(object)) return null; // never placed in a sandbox
        String key = object.workerId() + "\n" + object.className() + "\n" + object.objectId();
        return placements.compute(key, (k, current) -> {
            if (current != null && current.isAlive()) return current;
            SandboxProcess best = null;
            for (SandboxProcess p : candidates) {
                if (p.isAlive() && (best == null || p.inFlight() < best.inFlight())) best = p;
            }
            return best;
        });
    }

    /** The live sandbox that runs this object now, or null. */
    SandboxProcess current(Address.DurableObject object) {
        SandboxProcess p = placements.get(object.workerId() + "\n" + object.className() + "\n" + object.objectId());
        return p != null && p.isAlive() ? p : null;
    }

    /** Whether some object of a worker's class is placed in a live sandbox now. */
    boolean anyPlaced(String workerId, String className) {
        String prefix = workerId + "\n" + className + "\n";
        for (var e : placements.entrySet()) {
            if (e.getKey().startsWith(prefix) && e.getValue().isAlive()) return true;
        }
        return false;
    }

    /** A sandbox is gone: its objects run nowhere now. */
    void release(SandboxProcess sandbox) {
        placements.values().removeIf(p -> p == sandbox);
    }

    int size() {
        return placements.size();
    }
}
