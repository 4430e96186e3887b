package dev.bulwark.sandbox.isolate;

import java.security.SecureRandom;
import java.util.concurrent.ScheduledExecutorService;

/** What every isolate of one sandbox shares: the way out, the clock, the subrequest table. */
interface SandboxServices {
    Outbox outbox();

    ScheduledExecutorService scheduler();

    /** The wall-clock deadlines of invocations (see {@link Deadlines}: no wake-up per invocation). */
    Deadlines deadlines();

    Subrequests subrequests();

    SecureRandom random();

    /** Where the durable objects of this sandbox keep their data. */
    ObjectStore objectStore();

    /** How long a durable object may go without an event before it leaves its isolate. */
    long objectIdleMs();
    /** The WebSockets of this sandbox (plain workers' homes, objects' hibernatable sockets). */
    default SocketRegistry sockets() {
        return NO_SOCKETS;
    }

    SocketRegistry NO_SOCKETS = new SocketRegistry();

    /** The functions and RpcTargets this sandbox's isolates passed by reference. */
    default CapExports capExports() {
        return SHARED_EXPORTS;
    }

    CapExports SHARED_EXPORTS = new CapExports();

    /** Calls to durable objects placed in this sandbox, made without the node; null: every call goes to the node. */
    default LocalCalls localCalls() {
        return null;
    }

    /**
     * Whether a loaded worker's isolate that holds only its code and has been idle for
     * {@code idleMs} is given back within another {@code idleMs} anyway (dormancy): then its idle
     * reclaim (a full GC) would be wasted work.
     */
    default boolean givesBackIdleWithin(long idleMs) {
        return false;
    }

    /** An isolate began a task: the watchdog must watch it (it may be asleep: {@link WatchdogBell}). */
    default void taskStarted() {}

    /** An isolate was terminated and must not be used again. */
    void condemned(Isolate isolate);

    /** An isolate's thread ended and its runtime is closed. */
    void closed(Isolate isolate);

    /** Something V8 should have stopped did not stop: end the process. */
    void fatal(String reason);
}
