package dev.bulwark.server.node;

import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.sandbox.ipc.Address;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Which sandbox runs each durable object: exactly one at a time per id. An object is placed on
 * its first event (in the least busy live sandbox of its tenant) and stays there while that
 * sandbox lives; when the sandbox dies its objects are released and re-activate elsewhere on their
 * next event. A placement is also dropped when its sandbox evicts the idle object and says so
 * ({@link #evicted}), so the table holds about the live objects, not every object ever touched.
 * One node keeps this table in memory; a cluster will keep it in Pekko Cluster Sharding behind
 * the same methods (DESIGN.md).
 */
final class ObjectDirectory {
    /**
     * Where an object runs and how many of its events the node has placed there and not seen end
     * (node-started events from {@link #place} to their end, local calls the sandbox announced).
     * Mutated only inside the map's per-key compute, so a placement is dropped (an eviction
     * notice) only at a moment when no event of the object is starting or running there.
     */
    private static final class Placement {
        final SandboxProcess sandbox;
        int inFlight;

        Placement(SandboxProcess sandbox) {
            this.sandbox = sandbox;
        }
    }

    private final Map<String, Placement> placements = new ConcurrentHashMap<>();

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
     * its tenant) if it runs nowhere; null if there is no candidate. The event about to start is
     * held there until the caller calls {@link #letGo} (once, whatever becomes of it).
     */
    SandboxProcess place(Address.DurableObject object, List<SandboxProcess> candidates) {
        if (runsInNode(object)) return null; // never placed in a sandbox
        Placement placed = placements.compute(key(object), (k, current) -> {
            if (current != null && current.sandbox.isAlive()) {
                current.inFlight++;
                return current;
            }
            SandboxProcess best = null;
            for (SandboxProcess p : candidates) {
                if (p.isAlive() && (best == null || p.inFlight() < best.inFlight())) best = p;
            }
            if (best == null) return null;
            Placement fresh = new Placement(best);
            fresh.inFlight = 1;
            return fresh;
        });
        return placed == null ? null : placed.sandbox;
    }

    /**
     * Holds one more event of an object that {@code sandbox} started itself (a local call): true if
     * the object is placed there now, else nothing is held.
     */
    boolean hold(Address.DurableObject object, SandboxProcess sandbox) {
        boolean[] held = {false};
        placements.computeIfPresent(key(object), (k, current) -> {
            if (current.sandbox == sandbox && sandbox.isAlive()) {
                current.inFlight++;
                held[0] = true;
            }
            return current;
        });
        return held[0];
    }

    /** An event held by {@link #place} or {@link #hold} ended (or never started). */
    void letGo(Address.DurableObject object, SandboxProcess sandbox) {
        placements.computeIfPresent(key(object), (k, current) -> {
            if (current.sandbox == sandbox && current.inFlight > 0) current.inFlight--;
            return current;
        });
    }

    /**
     * {@code sandbox} evicted these objects: each placement that still points at it, with no
     * event held there and not {@code pinned}, is dropped (the object's next event places it
     * afresh). An event placed while the notice travelled is held, so its placement stays: that
     * event re-activates the object in the same sandbox. Returns the objects dropped.
     */
    List<Address.DurableObject> evicted(SandboxProcess sandbox, List<Address.DurableObject> objects,
                                        Predicate<Address.DurableObject> pinned) {
        List<Address.DurableObject> dropped = new ArrayList<>();
        for (Address.DurableObject o : objects) {
            placements.computeIfPresent(key(o), (k, current) -> {
                if (current.sandbox != sandbox || current.inFlight > 0 || pinned.test(o)) return current;
                dropped.add(o);
                return null;
            });
        }
        return dropped;
    }

    /** The live sandbox that runs this object now, or null. */
    SandboxProcess current(Address.DurableObject object) {
        Placement p = placements.get(key(object));
        return p != null && p.sandbox.isAlive() ? p.sandbox : null;
    }

    /** Whether some object of a worker's class is placed in a live sandbox now. */
    boolean anyPlaced(String workerId, String className) {
        String prefix = workerId + "\n" + className + "\n";
        for (var e : placements.entrySet()) {
            if (e.getKey().startsWith(prefix) && e.getValue().sandbox.isAlive()) return true;
        }
        return false;
    }

    /** A sandbox is gone: its objects run nowhere now. */
    void release(SandboxProcess sandbox) {
        placements.values().removeIf(p -> p.sandbox == sandbox);
    }

    /** Placements kept (tests, operators). */
    int size() {
        return placements.size();
    }

    /** Events held on an object's placement (tests). */
    int held(Address.DurableObject object) {
        Placement p = placements.get(key(object));
        return p == null ? 0 : p.inFlight;
    }

    private static String key(Address.DurableObject o) {
        return o.workerId() + "\n" + o.className() + "\n" + o.objectId();
    }
}
