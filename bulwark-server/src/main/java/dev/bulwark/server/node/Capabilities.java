package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.CapPayload;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.caps.JavaCapability;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * The node's capability table: what was passed by reference and who may call it. A {@link Cap}
 * is one thing that can be called (an export of one sandbox, a durable object or worker address,
 * a Java object); a {@link Ref} is one grant of it, under an id the node issued, to one holder: an
 * invocation (it dies when that invocation is done) or a loaded worker's env. A call names a ref;
 * it is refused unless the calling invocation (or, for env, the calling sandbox's tenant) is the
 * holder, the ref is live and the cap is not revoked or gone. Payloads are rewritten as they pass
 * ({@link #accept} then {@link #deliver}), so receivers see only their own ids. An export is
 * dropped in its sandbox when its last ref goes.
 */
final class Capabilities {
    /** Why a capability cannot be used or passed: the message is the caller's error. */
    static final class CapabilityException extends Exception {
        /** A worker's env capability that the caller named but does not hold (another worker's); else null. */
        final transient Cap foreign;

        CapabilityException(String message) {
            this(message, null);
        }

        CapabilityException(String message, Cap foreign) {
            super(message, null, false, false);
            this.foreign = foreign;
        }
    }

    /** A sandbox as the table sees it (SandboxProcess; a fake in tests). */
    interface Peer {
        String tenant();

        /** Whether invocation {@code invocationId} is in flight in this peer. */
        boolean runs(long invocationId);

        void deliver(Message message);
    }

    /** What a capability reaches. */
    sealed interface Target {}

    /**
     * Something a sandbox's isolate exported, under the sandbox's export id, by invocation
     * {@code invocation} of it (calls run inside that invocation while it lives).
     */
    record Exported(Peer sandbox, long exportId, long invocation) implements Target {}

    /** A durable object stub or a worker entrypoint passed on by a worker of {@code tenant}. */
    record AtAddress(String tenant, Address address) implements Target {}

    /** A Java object the embedding application registered. */
    record Java(String name, JavaCapability object) implements Target {}

    static final class Cap {
        final Target target;
        int refs;
        String dead; // null while callable
        String worker; // an export's: the worker whose invocation exported it (its calls run that worker's code)

        Cap(Target target) {
            this.target = target;
        }
    }

    private static final class Ref {
        final long id;
        final Cap cap;
        boolean delivered;
        long holderInvocation; // 0: held by a worker's env
        String holderWorker;
        String holderTenant; // for env refs: the tenant of the sandboxes that run that worker

        Ref(long id, Cap cap) {
            this.id = id;
            this.cap = cap;
        }
    }

    static final String NOT_GRANTED = "This RPC stub cannot be used here: it was never granted to this request, "
            + "was disposed, or was released when the request that received it ended.";
    static final String REVOKED = "The RPC stub was revoked by the worker that granted it.";
    static final String JAVA_REVOKED = "The RPC stub was revoked by the host that granted it.";
    /** workerd's words for a call on what a durable object exported once the object was reset. */
    static final String CONTEXT_ENDED = "The execution context which hosts this callback is no longer running.";
    static final String EXPORTER_GONE = "The RPC stub points to an object in a worker that is gone (its sandbox exited).";

    private final SecureRandom random = new SecureRandom();
    private final Map<Long, Ref> refs = new HashMap<>();
    private final Map<Long, List<Ref>> byInvocation = new HashMap<>();
    private final Map<String, List<Ref>> byWorker = new HashMap<>();
    private final Map<Peer, Map<Long, Cap>> exports = new HashMap<>();
    /** A call on a callback (its invocation id) running inside the invocation that passed it: that one's id. */
    private final Map<Long, Long> hostOf = new HashMap<>();
    /** The worker each invocation the node started runs (env refs are usable only by their worker's invocations). */
    private final Map<Long, String> workerOf = new HashMap<>();
    /** Whose worker invocations the node did not start here run (a sandbox's local calls; Node's records). */
    private volatile java.util.function.LongFunction<String> otherWorkers = id -> null;

    /** Where the worker of an invocation not started through {@link #starting} is found. */
    void otherWorkers(java.util.function.LongFunction<String> lookup) {
        this.otherWorkers = lookup;
    }

    /**
     * Invocation {@code invocationId} starts in {@code in} and runs {@code workerId}'s code (null: the
     * worker of export {@code exportId} of {@code in}, for a call on an export).
     */
    synchronized void starting(Peer in, long invocationId, String workerId, long exportId) {
        String w = workerId;
        if (w == null) {
            Map<Long, Cap> mine = exports.get(in);
            Cap cap = mine == null ? null : mine.get(exportId);
            w = cap == null ? null : cap.worker;
        }
        if (w != null) workerOf.put(invocationId, w);
    }

    private String workerOf(long invocationId) {
        String w = workerOf.get(invocationId);
        return w != null ? w : otherWorkers.apply(invocationId);
    }

    /**
     * Invocation {@code call} runs inside invocation {@code host} of the same sandbox (a call on a
     * callback, while the invocation that passed it lives): what {@code host} holds, {@code call}
     * may pass on (return) too, until {@code call} is done.
     */
    synchronized void runsInside(long call, long host) {
        hostOf.put(call, host);
    }

    /**
     * Takes in a payload a sandbox sent for one of its invocations: exports become caps, held ids
     * are checked against the sender, addresses against {@code mayCall}; each capability gets a new
     * ref, not yet delivered. Returns the payload with those refs' ids.
     */
    synchronized byte[] accept(Peer from, long invocationId, byte[] payload,
                               BiPredicate<String, Address> mayCall) throws CapabilityException {
        if (!CapPayload.hasRefs(payload)) return payload;
        CapPayload p;
        try {
            p = CapPayload.decode(payload);
        } catch (IllegalArgumentException e) {
            throw new CapabilityException("malformed RPC payload: " + e.getMessage());
        }
        List<Cap> caps = new ArrayList<>(p.refs().size());
        for (CapPayload.Ref r : p.refs()) {
            caps.add(switch (r) {
                case CapPayload.Export e -> {
                    Cap cap = new Cap(new Exported(from, e.id(), invocationId));
                    cap.worker = workerOf(invocationId);
                    exports.computeIfAbsent(from, k -> new HashMap<>()).put(e.id(), cap);
                    yield cap;
                }
                case CapPayload.Held h -> held(from, invocationId, h.capId()).cap;
                case CapPayload.Addressed a -> {
                    if (CapPayload.hasRefs(propsOf(a.address()))) {
                        // Props with stubs are granted per call (acceptTarget), never to whoever holds an address.
                        throw new CapabilityException("an entrypoint whose props hold stubs cannot be passed on");
                    }
                    if (!mayCall.test(from.tenant(), a.address())) {
                        throw new CapabilityException("no worker '" + a.address().workerId() + "' can be called from this worker");
                    }
                    yield new Cap(new AtAddress(from.tenant(), a.address()));
                }
                case CapPayload.Import i -> throw new CapabilityException("malformed RPC payload");
                case CapPayload.ObjectStub s -> throw new CapabilityException("malformed RPC payload");
                case CapPayload.Service s -> throw new CapabilityException("malformed RPC payload");
            });
        }
        List<CapPayload.Ref> out = new ArrayList<>(caps.size());
        for (Cap cap : caps) out.add(new CapPayload.Held(newRef(cap).id, shapeOf(cap)));
        return p.withRefs(out).encode();
    }

    /**
     * The target of a call a sandbox sent for one of its invocations: when the props its granter
     * fixed hold capabilities, they are taken in as {@link #accept} takes arguments, and go to the
     * callee's invocation with them ({@link #deliver} / {@link #discard} of {@link #propsOf}): the
     * callee holds them for that invocation only.
     */
    synchronized Address acceptTarget(Peer from, long invocationId, Address target,
                                      BiPredicate<String, Address> mayCall) throws CapabilityException {
        byte[] props = propsOf(target);
        if (!CapPayload.hasRefs(props)) return target;
        Address.Worker w = (Address.Worker) target;
        Address.Grant g = w.grant();
        return new Address.Worker(w.workerId(), w.entrypoint(),
                new Address.Grant(accept(from, invocationId, props, mayCall), g.cpuMs(), g.subrequests()));
    }

    /** The props an address's grant carries (null: none). */
    static byte[] propsOf(Address address) {
        return address instanceof Address.Worker w && w.grant() != null ? w.grant().props() : null;
    }

    /** What the receiver's stub on {@code cap} offers beyond RPC (fetch(), a durable object's id and name). */
    static CapPayload.Shape shapeOf(Cap cap) {
        return switch (cap.target) {
            case AtAddress a -> switch (a.address()) {
                case Address.DurableObject d -> new CapPayload.ObjectShape(d.objectId(), d.name());
                case Address.Worker w -> CapPayload.Shape.FETCHER;
            };
            case Exported e -> CapPayload.Shape.PLAIN;
            case Java j -> CapPayload.Shape.PLAIN;
        };
    }

    /** Gives the refs of an accepted payload to invocation {@code holder}: they die when it is done. */
    synchronized void deliver(byte[] accepted, long holder) {
        for (Ref r : refsOf(accepted)) {
            r.delivered = true;
            r.holderInvocation = holder;
            byInvocation.computeIfAbsent(holder, k -> new ArrayList<>()).add(r);
        }
    }

    /** An accepted payload that will never be delivered (its call failed): its refs go. */
    synchronized void discard(byte[] accepted) {
        for (Ref r : refsOf(accepted)) {
            if (!r.delivered) drop(r);
        }
    }

    /** A new ref to {@code cap}, held by a worker's env: returns its id, for a Binding.Capability. */
    synchronized long grantToWorker(Cap cap, String workerId, String sandboxTenant) {
        Ref r = newRef(cap);
        r.delivered = true;
        r.holderWorker = workerId;
        r.holderTenant = sandboxTenant;
        byWorker.computeIfAbsent(workerId, k -> new ArrayList<>()).add(r);
        return r.id;
    }

    /** One ref moved to a worker's env: its id and the shape of its stub. */
    record EnvRef(long capId, CapPayload.Shape shape) {}

    /** Moves the refs of an accepted payload to a worker's env; their ids and shapes, in order. */
    synchronized List<EnvRef> deliverToWorker(byte[] accepted, String workerId, String sandboxTenant) {
        List<EnvRef> ids = new ArrayList<>();
        for (Ref r : refsOf(accepted)) {
            r.delivered = true;
            r.holderWorker = workerId;
            r.holderTenant = sandboxTenant;
            byWorker.computeIfAbsent(workerId, k -> new ArrayList<>()).add(r);
            ids.add(new EnvRef(r.id, shapeOf(r.cap)));
        }
        return ids;
    }

    private final Map<String, List<Cap>> javaCaps = new HashMap<>();

    /** A new cap for a Java object (not yet granted to anyone). */
    synchronized Cap javaCap(String name, JavaCapability object) {
        Cap cap = new Cap(new Java(name, object));
        javaCaps.computeIfAbsent(name, k -> new ArrayList<>()).add(cap);
        return cap;
    }

    /** The embedding application revokes the Java capability {@code name}: every stub on it fails from now on. */
    synchronized void revokeJava(String name) {
        List<Cap> list = javaCaps.remove(name);
        if (list != null) for (Cap cap : list) cap.dead = JAVA_REVOKED;
    }

    /** The cap behind a call on {@code capId} by invocation {@code invocationId} of {@code from}. */
    synchronized Cap use(Peer from, long invocationId, long capId) throws CapabilityException {
        Cap cap = held(from, invocationId, capId).cap;
        if (cap.dead != null) throw new CapabilityException(cap.dead);
        return cap;
    }

    private Ref held(Peer from, long invocationId, long capId) throws CapabilityException {
        Ref r = refs.get(capId);
        if (r == null || !r.delivered) throw new CapabilityException(NOT_GRANTED);
        Long host = hostOf.get(invocationId);
        // An env ref is its worker's: only an invocation of that very worker, running in a sandbox of
        // the worker's tenant, may use it (not any invocation of that tenant's sandbox: a session's
        // TOOLS is not another session's, though both run in the tenant's sandbox for generated code).
        boolean mine = r.holderWorker != null
                ? r.holderTenant.equals(from.tenant()) && from.runs(invocationId) && r.holderWorker.equals(workerOf(invocationId))
                : (r.holderInvocation == invocationId || host != null && r.holderInvocation == host)
                        && from.runs(r.holderInvocation) && from.runs(invocationId);
        if (!mine) {
            // A ref that exists but is another holder's: worth the victim's attention (Java capabilities hear of it).
            throw new CapabilityException(NOT_GRANTED, r.holderWorker != null ? r.cap : null);
        }
        return r;
    }

    /** The holder disposed these refs. Ids it does not hold are ignored. */
    synchronized void release(Peer from, long invocationId, List<Long> capIds) {
        for (long id : capIds) {
            Ref r = refs.get(id);
            if (r == null || !r.delivered) continue;
            boolean mine = r.holderWorker != null ? r.holderTenant.equals(from.tenant()) && invocationId == 0
                    : r.holderInvocation == invocationId;
            if (!mine) continue;
            if (r.holderWorker != null) {
                List<Ref> list = byWorker.get(r.holderWorker);
                if (list != null) list.remove(r);
            } else {
                List<Ref> list = byInvocation.get(r.holderInvocation);
                if (list != null) list.remove(r);
            }
            drop(r);
        }
    }

    /** An invocation is done: every ref it held goes (references die with their invocation). */
    synchronized void invocationDone(long invocationId) {
        hostOf.remove(invocationId);
        workerOf.remove(invocationId);
        List<Ref> held = byInvocation.remove(invocationId);
        if (held != null) for (Ref r : held) drop(r);
    }

    /** A worker was unloaded: the refs its env held go. */
    synchronized void workerUnloaded(String workerId) {
        List<Ref> held = byWorker.remove(workerId);
        if (held != null) for (Ref r : held) drop(r);
    }

    /**
     * The exporter revokes exports of its own ({@code contextEnded}: they died with the durable
     * object that exported them): calls on them fail from now on, wherever they are held.
     */
    synchronized void revoke(Peer from, List<Long> exportIds, boolean contextEnded) {
        Map<Long, Cap> mine = exports.get(from);
        if (mine == null) return;
        for (long id : exportIds) {
            Cap cap = mine.get(id);
            if (cap != null && cap.dead == null) cap.dead = contextEnded ? CONTEXT_ENDED : REVOKED;
        }
    }

    /** A sandbox is gone: what it exported fails at once from now on. */
    synchronized void sandboxGone(Peer sandbox) {
        Map<Long, Cap> mine = exports.remove(sandbox);
        if (mine != null) for (Cap cap : mine.values()) cap.dead = EXPORTER_GONE;
    }

    /** The workers of the invocations in flight the node started (tests: the attacker's view of a sandbox). */
    synchronized Map<Long, String> invocationWorkers() {
        return Map.copyOf(workerOf);
    }

    /** Ids of the Java capabilities in {@code workerId}'s env, each with its name (tests). */
    synchronized Map<Long, String> envJavaCapabilities(String workerId) {
        Map<Long, String> out = new HashMap<>();
        for (Ref r : byWorker.getOrDefault(workerId, List.of())) if (r.cap.target instanceof Java j) out.put(r.id, j.name());
        return out;
    }

    /** Live refs (tests). */
    synchronized int liveRefs() {
        return refs.size();
    }

    private Ref newRef(Cap cap) {
        long id;
        do {
            id = random.nextLong() & ((1L << 53) - 1);
        } while (id == 0 || refs.containsKey(id));
        Ref r = new Ref(id, cap);
        refs.put(id, r);
        cap.refs++;
        return r;
    }

    private void drop(Ref r) {
        if (refs.remove(r.id) == null) return;
        Cap cap = r.cap;
        if (--cap.refs > 0) return;
        if (cap.target instanceof Exported e) {
            Map<Long, Cap> mine = exports.get(e.sandbox());
            if (mine != null) mine.remove(e.exportId());
            if (cap.dead != EXPORTER_GONE) e.sandbox().deliver(new Message.ExportDrop(List.of(e.exportId())));
        }
    }

    private List<Ref> refsOf(byte[] accepted) {
        if (!CapPayload.hasRefs(accepted)) return List.of();
        List<Ref> out = new ArrayList<>();
        for (CapPayload.Ref r : CapPayload.decode(accepted).refs()) {
            if (r instanceof CapPayload.Held h) {
                Ref ref = refs.get(h.capId());
                if (ref != null) out.add(ref);
            }
        }
        return out;
    }
}
