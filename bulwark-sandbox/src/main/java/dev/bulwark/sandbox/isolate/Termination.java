package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.enums.V8RuntimeTerminationMode;
import com.caoccao.javet.interop.V8Runtime;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.worker.Limits;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How an isolate is stopped at its limits: the watchdog's CPU and memory checks on the running
 * task, V8's near-heap-limit callback, the one request to terminate (its reason, its culprit
 * invocation, the message the limit is reported with), and what follows when JavaScript goes on
 * ignoring it (the isolate abandoned, or the process ended). Once termination was requested the
 * isolate is condemned when its task ends ({@link Isolate}).
 */
final class Termination {
    /**
     * How much CPU a task may spend ignoring TerminateExecution before its isolate is abandoned. Some V8
     * builtins run to the end of their input without looking at termination (measured on V8
     * 14.7: a default-order {@code Array.prototype.sort} of 3 million numbers ran 17 s, a
     * {@code TypedArray.prototype.join} of 30 million 2 s, {@code JSON.parse} of 5 million nested
     * arrays 33 s). Rather than end the sandbox (every in-flight request of the tenant), the
     * isolate is written off: its requests fail now, its worker gets a fresh isolate, and its
     * thread finishes the builtin, sees the termination and closes the runtime.
     */
    static final long ABANDON_AFTER_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** Past this, or with more isolates stuck at once than {@link #MAX_ABANDONED}, the process ends. */
    static final long STUCK_FATAL_NANOS = TimeUnit.SECONDS.toNanos(30);
    static final int MAX_ABANDONED = 2;
    /** Isolates of this process whose thread is still stuck in a builtin after they were abandoned. */
    private static final AtomicInteger ABANDONED = new AtomicInteger();

    private final Isolate isolate;
    private final V8Runtime runtime;
    private final SandboxServices services;
    // Written by whoever terminates the isolate (the watchdog, a deadline, the isolate thread), read by all.
    private volatile long terminationRequestedAt;
    /** The isolate thread's CPU time when termination was requested. */
    private volatile long terminationCpuAt;
    private volatile ErrorCode terminationReason;
    /** Which memory check stopped the isolate (they share one error code), for the limit's log line. */
    private volatile String memoryCheck;
    private volatile long terminationCulprit;
    /** The memory watchdog's view: which task it measured from, and the process RSS then. */
    private long watchedTask = -1, watchedBaselineRss;
    private int nearHeapLimitCalls;
    /** Set once by the watchdog when this isolate is abandoned; cleared by the isolate thread. */
    private final AtomicBoolean abandoned = new AtomicBoolean();

    Termination(Isolate isolate) {
        this.isolate = isolate;
        this.runtime = isolate.runtime;
        this.services = isolate.services;
    }

    /** Isolates of this process written off while their thread is still stuck in a builtin. */
    static int abandonedIsolates() {
        return ABANDONED.get();
    }

    /** Whether termination was requested (a limit was hit). */
    boolean requested() {
        return terminationRequestedAt != 0;
    }

    /** Why the isolate was terminated; null if it was not. */
    ErrorCode reason() {
        return terminationReason;
    }

    /** The invocation that hit the limit (0: none, the worker's top-level code). */
    long culprit() {
        return terminationCulprit;
    }

    /** The isolate thread left its task: an abandoned isolate is no longer stuck. */
    void taskEnded() {
        if (abandoned.get()) ABANDONED.decrementAndGet();
    }

    /** Called by the watchdog between its ticks. */
    void checkCpu(long nowNanos) {
        if (!isolate.inTask) return;
        long asked = terminationRequestedAt;
        if (asked != 0) {
            long ignored = nowNanos - asked;
            // CPU the thread spent since, not wall time: on a busy machine a thread that is
            // merely waiting for a core is not stuck.
            long ignoredCpu = Isolate.THREADS.getThreadCpuTime(isolate.taskThread.threadId()) - terminationCpuAt;
            if (ignored > STUCK_FATAL_NANOS) {
                // The process is the trust boundary: end it, the node fails its in-flight requests
                // and starts a new sandbox.
                services.fatal(isolate.name + " ignored termination for " + (ignored / 1_000_000_000L) + " s");
            } else if (ignoredCpu > ABANDON_AFTER_NANOS && abandoned.compareAndSet(false, true)) {
                if (ABANDONED.incrementAndGet() > MAX_ABANDONED) {
                    services.fatal("more than " + MAX_ABANDONED + " isolates ignore termination at once");
                }
                isolate.condemn(terminationReason != null ? terminationReason : ErrorCode.INTERNAL, terminationCulprit);
                // A load stuck this way fails now, so the worker's requests get the load error
                // instead of loading it again into new isolates that get stuck the same way.
                Runnable failLoad = isolate.loadAbandoned;
                if (failLoad != null) failLoad.run();
            }
            return;
        }
        if (isolate.condemned) return;
        long inv = isolate.currentInvocation;
        Invocation invocation = isolate.taskInvocation;
        long task = isolate.taskSequence;
        long slice = Isolate.THREADS.getThreadCpuTime(isolate.taskThread.threadId()) - isolate.taskStartCpu;
        // The task may have ended in between and its carrier moved on to another isolate's.
        if (!isolate.inTask || task != isolate.taskSequence) return;
        if (invocation != null) {
            if (slice > 0 && invocation.cpuNanos.get() + slice > invocation.limits.cpuMs() * 1_000_000L) {
                request(ErrorCode.CPU_LIMIT_EXCEEDED, inv);
            }
        } else if (inv == 0 && slice > isolate.loadCpuNanos) {
            request(ErrorCode.CPU_LIMIT_EXCEEDED, 0);
        }
    }

    /**
     * Memory outside the V8 heap (typed arrays, ArrayBuffers, Wasm memories) is not bounded by the
     * heap cap. The watchdog (its thread only) measures the process's resident memory when it
     * first sees a task running and terminates the task once the process has grown by more than
     * {@code limitBytes} since: the growth belongs to the code that is running. (V8's own
     * external-memory statistic cannot be read while a script runs: Javet answers it only between
     * tasks, measured on V8 14.7.)
     */
    void checkMemoryGrowth(long residentBytes, long limitBytes) {
        if (!isolate.inTask || isolate.condemned) return;
        long task = isolate.taskSequence;
        if (task != watchedTask) {
            watchedTask = task;
            watchedBaselineRss = residentBytes;
        } else if (residentBytes - watchedBaselineRss > limitBytes) {
            memoryCheck = "the sandbox process grew by more than " + (limitBytes >> 20) + " MiB during one task";
            request(ErrorCode.MEMORY_LIMIT_EXCEEDED, isolate.currentInvocation);
        }
    }

    /** The RSS watchdog found the process over its soft ceiling: stop whatever JS is running. */
    void memoryPressure() {
        if (isolate.inTask && !isolate.condemned) {
            memoryCheck = "the sandbox's resident memory passed its soft limit while this task ran";
            request(ErrorCode.MEMORY_LIMIT_EXCEEDED, isolate.currentInvocation);
        }
    }

    /** Terminates the running JavaScript for {@code reason}, {@code culprit} the invocation to blame (0: none); the first request stands. */
    void request(ErrorCode reason, long culprit) {
        if (terminationRequestedAt != 0) return;
        terminationReason = reason;
        terminationCulprit = culprit;
        Thread carrier = isolate.taskThread;
        terminationCpuAt = carrier == null ? 0 : Isolate.THREADS.getThreadCpuTime(carrier.threadId());
        terminationRequestedAt = System.nanoTime();
        runtime.terminateExecution(V8RuntimeTerminationMode.Synchronous);
    }

    long onNearHeapLimit(long currentLimit, long initialLimit) {
        // Runs on the isolate thread, inside a GC. Terminate, and give V8 room to unwind.
        nearHeapLimitCalls++;
        if (nearHeapLimitCalls > 8) services.fatal(isolate.name + " kept allocating after termination");
        if (terminationRequestedAt == 0) memoryCheck = "the isolate's heap reached its limit";
        request(ErrorCode.MEMORY_LIMIT_EXCEEDED, isolate.currentInvocation);
        return currentLimit + Math.max(32L << 20, initialLimit / 4);
    }

    String limitMessage(ErrorCode reason, Limits limits) {
        String check = memoryCheck;
        return switch (reason) {
            case CPU_LIMIT_EXCEEDED -> "the worker exceeded its CPU time limit of " + limits.cpuMs() + " ms";
            case WALL_TIME_EXCEEDED -> "the worker did not finish within its wall-clock limit of " + limits.wallMs() + " ms";
            case MEMORY_LIMIT_EXCEEDED -> "the worker exceeded its memory limit" + (check == null ? "" : " (" + check + ")");
            default -> reason.description();
        };
    }
}
