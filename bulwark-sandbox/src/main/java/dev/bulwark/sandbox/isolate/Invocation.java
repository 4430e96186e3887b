package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One fetch event of one worker, from dispatch until its response and its {@code waitUntil}
 * work are over. Its sends are serialized with {@link #finish}, which may run on the timer thread
 * (the wall-clock deadline), so nothing of it reaches the node after its InvocationDone. It owns what the event made: its timers, its subrequest budget, its CPU
 * account. It ends exactly once ({@link #finish}); whatever arrives after that is dropped.
 */
final class Invocation {
    /** Log lines one invocation may emit before further lines are dropped. */
    static final int MAX_LOG_LINES = 1_000;
    /** Response bytes the node may hold unsent before the worker's response stream waits. */
    static final long RESPONSE_WINDOW = 1 << 20;

    final long id;
    final String workerId;
    final Limits limits;
    private final Outbox outbox;

    final AtomicLong cpuNanos = new AtomicLong();
    final AtomicInteger subrequests = new AtomicInteger();
    final AtomicInteger logLines = new AtomicInteger();
    final Set<Integer> timers = ConcurrentHashMap.newKeySet();
    /**
     * Host work of this invocation that will come back as a task: calls not yet answered that are
     * not {@link #external} (to this worker's own entrypoints, on capabilities, the loader;
     * {@link Subrequests}), a timer firing, a drain of its response awaited. Each is
     * counted down only after its task is queued, so the isolate's hang detection, which reads
     * this before the queue, never sees neither ({@link HangRule}).
     */
    final InFlight outstanding;
    /**
     * Its work elsewhere not yet over: fetches through the egress gateway (their answer, or their
     * body, to come) and calls to another worker or to a durable object, counted apart from
     * {@link #outstanding} the same way. Their answer may settle anything, as a timer's may, and
     * none is a call into this worker's entrypoints, which may be the very call waiting on another
     * of its invocations ({@link HangRule}).
     */
    final InFlight external;
    /** Its request body still streams in from the node (set at dispatch, cleared after its end is queued). */
    volatile boolean bodyOpen;
    /** An event of a durable object: it may wait on what the object's other events do. */
    volatile boolean objectEvent;
    /** Its first task has run (set on the isolate thread): before that, an empty queue says nothing of it. */
    boolean dispatched;
    /** Since when (System.nanoTime) it has waited only on other invocations' calls; 0: it does not. Isolate thread only. */
    long waitingSince;
    /** An RPC or a call on something this isolate exported: it may linger (below). */
    boolean rpcEvent;
    /** RPC calls it made that have not been answered yet; isolate thread only. */
    int pendingRpc;
    /**
     * Its answer is sent but RPC calls it made are still pending: it ends when they are answered
     * (Isolate.endLingering), so a promise of such a call it returned or kept still settles, as
     * workerd keeps a callee's IoContext for them. Bounded by its wall-clock deadline.
     */
    volatile boolean lingering;
    /**
     * Its answer is sent and holds streams its caller reads after it returned: it goes on until
     * each ended (the prelude's dispatcher settles then), as workerd keeps a callee's IoContext
     * until its returned stream is drained. Bounded by its own limits: its wall-clock deadline
     * ends it quietly, as a lingering one ({@link Isolate}'s onDeadline), and reads run inside it,
     * on its CPU account.
     */
    volatile boolean streaming;
    private final AtomicBoolean responseStarted = new AtomicBoolean();
    private final AtomicBoolean responseSettled = new AtomicBoolean();
    private final AtomicBoolean finished = new AtomicBoolean();
    volatile Deadlines.Handle deadline;
    /** Response bytes sent and not yet acknowledged by the node; the drain callback is pending. */
    private long unacknowledged;
    private boolean drainWanted;

    /** {@code drained}: the isolate's request for another hang check (InFlight). */
    Invocation(long id, String workerId, Limits limits, Outbox outbox, Runnable drained) {
        this.outstanding = new InFlight(drained);
        this.external = new InFlight(drained);
        this.id = id;
        this.workerId = workerId;
        this.limits = limits;
        this.outbox = outbox;
    }

    /** Calls on this invocation's callbacks that run inside it (EventDispatch.dispatch(CapStart)); isolate thread only. */
    final java.util.List<Invocation> hosted = new java.util.ArrayList<>();
    /** The invocation this call on a callback runs inside, or null; isolate thread only. */
    Invocation hostedBy;

    boolean isFinished() {
        return finished.get();
    }

    boolean responseSettled() {
        return responseSettled.get();
    }

    /** Whether nothing of its response was sent yet (no head, no result, no failure). */
    boolean responsePending() {
        return !responseStarted.get() && !responseSettled.get();
    }

    synchronized void responseStart(Message.ResponseHead head) {
        if (finished.get() || responseSettled.get() || !responseStarted.compareAndSet(false, true)) return;
        outbox.send(head);
    }

    /** Sends a chunk; false when the window is full and the worker must wait for {@link #acknowledge}. */
    synchronized boolean responseChunk(byte[] data) {
        if (finished.get() || responseSettled.get() || !responseStarted.get()) return true;
        outbox.send(new Message.ResponseChunk(id, data));
        unacknowledged += data.length;
        if (unacknowledged <= RESPONSE_WINDOW) return true;
        if (!drainWanted) outstanding.up(); // until the drain's task is queued (EventDispatch.acknowledge)
        drainWanted = true;
        return false;
    }

    /** The node wrote {@code bytes} more; true when a waiting response stream may go on. */
    synchronized boolean acknowledge(long bytes) {
        unacknowledged = Math.max(0, unacknowledged - bytes);
        if (drainWanted && unacknowledged <= RESPONSE_WINDOW / 2) {
            drainWanted = false;
            return true;
        }
        return false;
    }

    /**
     * A whole response in one call: its head, its body (null or empty: none) and its end, as
     * {@link #responseStart}, {@link #responseChunk} and {@link #responseEnd} would send them. The
     * body is at most one piece (it fits the window: no back-pressure to wait for).
     */
    synchronized void responseWhole(Message.ResponseHead head, byte[] body) {
        if (finished.get() || responseSettled.get() || !responseStarted.compareAndSet(false, true)) return;
        outbox.send(head);
        if (body != null && body.length > 0) {
            outbox.send(new Message.ResponseChunk(id, body));
            unacknowledged += body.length;
        }
        responseSettled.set(true);
        outbox.send(new Message.ResponseEnd(id));
    }

    synchronized void responseEnd() {
        if (finished.get() || !responseStarted.get() || !responseSettled.compareAndSet(false, true)) return;
        outbox.send(new Message.ResponseEnd(id));
    }

    /** An RPC invocation's result (or thrown error), serialized; it is the invocation's whole response. */
    synchronized void rpcReturn(byte[] value, boolean threw) {
        if (finished.get() || !responseSettled.compareAndSet(false, true)) return;
        outbox.send(new Message.RpcReturn(id, value, threw));
    }

    /** The most of a thrown value's bytes that travel with a failure (the prelude keeps to it too). */
    static final int MAX_THROWN_BYTES = 64 * 1024;

    /**
     * The response failed; the invocation itself goes on until its waitUntil work is over.
     * {@code thrown}: the thrown value, serialized, for a caller through a stub (or null).
     */
    synchronized void responseFailed(ErrorCode code, String message, boolean passThrough, byte[] thrown) {
        if (finished.get() || !responseSettled.compareAndSet(false, true)) return;
        outbox.send(new Message.InvocationFailed(id, code.code(), message, passThrough, thrown));
    }

    /** Ends the invocation: fails the response if it is still open, then reports it done. */
    synchronized boolean finish(ErrorCode failure, String message) {
        return finish(failure, message, null);
    }

    /**
     * Fails it even if it had answered: the task that answered had its output dropped because its
     * writes did not commit (the output gate), so the caller has heard nothing of it. True if it
     * was still running.
     */
    synchronized boolean outputLost(ErrorCode failure, String message) {
        boolean running = finished.compareAndSet(false, true);
        Deadlines.Handle d = deadline;
        if (running && d != null) d.cancel();
        responseSettled.set(true);
        outbox.send(new Message.InvocationFailed(id, failure.code(), message, false));
        outbox.send(new Message.InvocationDone(id, cpuNanos.get() / 1_000));
        return running;
    }

    /**
     * Like {@link #finish(ErrorCode, String)}, sending {@code beforeDone} (e.g. the operator's
     * line about a limit kill) after the failure and before InvocationDone: nothing of an
     * invocation may follow its InvocationDone.
     */
    synchronized boolean finish(ErrorCode failure, String message, Message beforeDone) {
        if (!finished.compareAndSet(false, true)) return false;
        Deadlines.Handle d = deadline;
        if (d != null) d.cancel();
        if (responseSettled.compareAndSet(false, true)) {
            ErrorCode code = failure != null ? failure : ErrorCode.INTERNAL;
            String text = failure != null ? message : "the worker finished without sending a response";
            outbox.send(new Message.InvocationFailed(id, code.code(), text, false));
        }
        if (beforeDone != null) outbox.send(beforeDone);
        outbox.send(new Message.InvocationDone(id, cpuNanos.get() / 1_000));
        return true;
    }
}
