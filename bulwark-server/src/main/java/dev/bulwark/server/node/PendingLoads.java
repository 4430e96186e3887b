package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.function.Consumer;

/**
 * First calls that travel right behind their dynamic worker's load. A parent that loads a dynamic
 * worker for a call sends the call at once, after the load's code, addressed to the load itself
 * ({@code load:<callId of the load>}) since the worker's id is not known yet; the node holds it
 * until the load is answered and then sends it on to the loaded worker, or fails it. That saves the
 * round trip in which the parent learns the id before calling (issue 10, docs/notes/coldpath.md).
 *
 * <p>A load is named by the sandbox process that sent it (so its tenant), the invocation it was
 * made in and its call id: a call can only name a load its own process sent in the invocation the
 * call claims, and it reaches the worker through the same checks as any call ({@link Node}'s
 * {@code callable}, as the caller's tenant). At most one call per load; the parent's prelude takes
 * the load's own answer as the outcome when the load fails (so its error is exactly the first
 * call's rejection), and ignores the held call's failure then.
 *
 * <p>A subverted parent (docs/notes/forge.md, {@code PendingLoadsTest}): a call naming a load it did
 * not send (another process's or tenant's, another invocation's, one that does not exist, one whose
 * call already came) is refused with {@code not_found}; a call behind a failed load fails with the
 * load's error and goes nowhere; a load's first answer is its answer; two loads sent with one call id
 * in one invocation name no load (both refused, a call held behind the first fails).
 */
final class PendingLoads {
    /** How a call names a load; never a worker id (worker names cannot contain ':'). */
    static final String PREFIX = "load:";
    /** Loads answered whose call has not come (yet, or ever), kept at most. */
    static final int MAX_ANSWERED = 4_096;

    /** {@code sender}: the process the load came from (compared by identity). */
    private record Key(Capabilities.Peer sender, long invocationId, long callId) {
    }

    private record Held(Message.CallStart call, Consumer<Message> reply) {
    }

    private static final class Entry {
        boolean answered;
        /** The loaded worker's id, once answered with success. */
        String workerId;
        /** The load's failure, once answered with one. */
        String failure;
        Held call;
        /** A call naming this load came (held or sent on): any other is refused. */
        boolean taken;
        /** Two loads were sent with this call id: it names none. */
        boolean ambiguous;
    }

    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>();
    /** Calls that named their load and found it (held, sent on or failed with it). */
    private final java.util.concurrent.atomic.AtomicLong followed = new java.util.concurrent.atomic.AtomicLong();
    private final Forward forward;

    /** @param forward sends a call on, by the tenant's normal path (tenant, call, reply) */
    PendingLoads(Forward forward) {
        this.forward = forward;
    }

    /** Sends a call on as the caller's tenant. */
    @FunctionalInterface
    interface Forward {
        void call(String tenant, Message.CallStart call, Consumer<Message> reply);
    }

    /** Whether a call names a load rather than a worker. */
    static boolean namesLoad(Address target) {
        return target instanceof Address.Worker w && w.workerId().startsWith(PREFIX);
    }

    /** A load with code was read from {@code sender} (on its reader thread, before the calls behind it). */
    void started(Capabilities.Peer sender, long invocationId, long callId) {
        Held orphan;
        synchronized (this) {
            Key key = new Key(sender, invocationId, callId);
            Entry e = entries.get(key);
            if (e == null) {
                entries.put(key, new Entry());
                return;
            }
            // A second load with a call id already used (only a subverted sandbox sends one): neither
            // names a load any more; the entry stays (taken) until both are answered, refusing calls.
            e.ambiguous = true;
            e.taken = true;
            e.answered = false;
            e.workerId = null;
            orphan = e.call;
            e.call = null;
        }
        if (orphan != null) refuse(orphan, "two loads of a dynamic worker were sent with one call id");
    }

    /** The load's answer ({@code DynamicLoaded} or {@code CallFailed}): a held call goes on, or fails. */
    void answered(Capabilities.Peer sender, long invocationId, long callId, Message answer) {
        Held held;
        Entry e;
        synchronized (this) {
            Key key = new Key(sender, invocationId, callId);
            e = entries.get(key);
            if (e == null) return;
            if (e.ambiguous) {
                // Forgotten once both loads are answered (the second answer finds it marked).
                if (e.answered) entries.remove(key); else e.answered = true;
                return;
            }
            if (e.answered) return; // the first answer is the load's answer
            e.answered = true;
            if (answer instanceof Message.DynamicLoaded l) e.workerId = l.workerId();
            else e.failure = answer instanceof Message.CallFailed f ? f.message() : "the dynamic worker could not be loaded";
            held = e.call;
            e.call = null;
            if (held != null || e.taken) entries.remove(key);
            trim();
        }
        if (held != null) settle(sender.tenant(), held, e);
    }

    /**
     * A call from {@code sender}: false when it names no load (it goes the normal way); else it is
     * held until its load is answered, sent on (as {@code sender}'s tenant), or refused.
     */
    boolean take(Capabilities.Peer sender, Message.CallStart call, Consumer<Message> reply) {
        if (!(call.target() instanceof Address.Worker w) || !w.workerId().startsWith(PREFIX)) return false;
        long loadCallId;
        try {
            loadCallId = Long.parseLong(w.workerId().substring(PREFIX.length()));
        } catch (NumberFormatException ex) {
            loadCallId = -1;
        }
        Held held = new Held(call, reply);
        Entry e;
        synchronized (this) {
            Key key = new Key(sender, call.invocationId(), loadCallId);
            e = entries.get(key);
            if (e != null && !e.taken) {
                e.taken = true;
                followed.incrementAndGet();
                if (!e.answered) {
                    e.call = held;
                    return true;
                }
                entries.remove(key);
            } else {
                e = null;
            }
        }
        if (e == null) {
            String named = w.workerId().length() > 64 ? w.workerId().substring(0, 64) + "…" : w.workerId();
            refuse(held, "no load of a dynamic worker '" + named + "' is pending for this call");
        } else {
            settle(sender.tenant(), held, e);
        }
        return true;
    }

    private static void refuse(Held held, String why) {
        held.reply.accept(new Message.CallFailed(held.call.callId(), ErrorCode.NOT_FOUND.code(), why));
    }

    /** An answered load's call: sent on to the worker, or failed as the load did (the parent reports the load's own error). */
    private void settle(String tenant, Held held, Entry e) {
        if (e.workerId == null) {
            held.reply.accept(new Message.CallFailed(held.call.callId(), ErrorCode.WORKER_LOAD_FAILED.code(), e.failure));
            return;
        }
        Address.Worker named = (Address.Worker) held.call.target();
        Message.CallStart c = held.call;
        forward.call(tenant, new Message.CallStart(c.invocationId(), c.callId(),
                new Address.Worker(e.workerId, named.entrypoint(), named.grant()), c.method(), c.url(), c.headers(), c.body()),
                held.reply);
    }

    /** Answered loads whose call never came are forgotten, oldest first, past {@link #MAX_ANSWERED} entries. */
    private void trim() {
        if (entries.size() <= MAX_ANSWERED) return;
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext() && entries.size() > MAX_ANSWERED; ) {
            if (it.next().answered) it.remove();
        }
    }

    /**
     * A sandbox process is gone: its loads are forgotten (their keys hold the process, which must not
     * stay reachable from here; calls it held can no longer be answered to it anyway).
     */
    synchronized void gone(Capabilities.Peer sender) {
        entries.keySet().removeIf(k -> k.sender() == sender);
    }

    /** Calls that went right behind their load so far. */
    long followed() {
        return followed.get();
    }

    /** Loads known now (tests). */
    synchronized int size() {
        return entries.size();
    }
}
