package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Host;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.options.V8RuntimeOptions;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValuePromise;

import java.util.List;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;

/**
 * Isolates made ahead of time from the prelude snapshot, with their host functions installed,
 * so that loading a worker costs a module compile and not an isolate. A background thread keeps
 * the pool full. When it is empty, {@link #takeOrWait} does not make an isolate on the caller's
 * thread (the sandbox's socket reader): the caller waits in line and a pool thread hands it the
 * next isolate made (the refiller, and a loader thread that works only while callers wait).
 */
final class IsolatePool implements AutoCloseable {
    private final V8Host v8;
    private final byte[] snapshot;
    private final int size;
    private final SandboxServices services;
    private final LinkedBlockingDeque<Isolate> ready = new LinkedBlockingDeque<>();
    private final Thread refiller;
    private final Thread loader;
    /** Callers waiting for an isolate, first come first served (guarded by this). */
    private final java.util.ArrayDeque<Waiter> waiters = new java.util.ArrayDeque<>();
    /** Isolates being made now by the pool's threads (guarded by this). */
    private int making;
    private volatile boolean closed;

    /** Who waits for an isolate; called on a pool thread, exactly once. */
    interface Waiter {
        void made(Isolate isolate);

        /** No isolate could be made (or the pool closed). */
        void failed(Exception e);
    }

    IsolatePool(V8Host v8, byte[] snapshot, int size, SandboxServices services) {
        this.v8 = v8;
        this.snapshot = snapshot;
        this.size = size;
        this.services = services;
        this.refiller = Thread.ofPlatform().name("isolate-pool").daemon(true).stackSize(Isolate.STACK_BYTES)
                .start(() -> make(true));
        this.loader = Thread.ofPlatform().name("isolate-loader").daemon(true).stackSize(Isolate.STACK_BYTES)
                .start(() -> make(false));
    }

    private static final String WARM_UP = """
            (() => {
              const req = new Request("http://warm.up/a/b?c=d#e", {method: "POST", body: "x",
                  headers: {"content-type": "text/plain", "x-a": "b"}});
              const url = new URL(req.url);
              url.searchParams.get("c");
              req.headers.get("content-type");
              for (const [k, v] of req.headers) k + v;
              req.text().then((t) => t.length);
              new Response("warm", {status: 200, headers: {"x-b": "c"}}).arrayBuffer();
              Response.json({a: 1}).text();
              new Response(new ReadableStream({start(c) { c.enqueue(new TextEncoder().encode("s")); c.close(); }}))
                  .text();
              new TextDecoder().decode(new TextEncoder().encode("warm"));
            })();""";

    /** The process's prelude snapshot, once made (guarded by the class). */
    private static byte[] processSnapshot;

    /**
     * The prelude snapshot, made once per process. A sandbox has one runtime; a JVM with several
     * (tests, benches) shares the blob, since V8's flags are process-wide and the prelude is one.
     * Making a snapshot while another runtime's pool thread made an isolate crashed libjavet
     * (SIGSEGV in {@code createV8Runtime}, docs/notes/coldpath.md): made once, that cannot happen.
     */
    static synchronized byte[] snapshot(V8Host v8) throws JavetException {
        if (processSnapshot == null) processSnapshot = makeSnapshot(v8);
        return processSnapshot;
    }

    /**
     * Makes the prelude snapshot: the prelude evaluated once, serialized into V8's startup blob.
     * Neither the prelude nor the warm-up may leave an Intl object (formatter, collator, segmenter…)
     * reachable: V8 aborts the process when it snapshots one ("global handle not serialized").
     */
    private static byte[] makeSnapshot(V8Host v8) throws JavetException {
        V8RuntimeOptions options = new V8RuntimeOptions();
        options.setCreateSnapshotEnabled(true);
        try (V8Runtime rt = v8.createV8Runtime(options)) {
            rt.getExecutor(Prelude.source()).setResourceName("bulwark:prelude").executeVoid();
            // Run the request path once so its functions are compiled into the snapshot, not
            // compiled lazily by every isolate's first request. Touches no host function.
            rt.getExecutor(WARM_UP).setResourceName("bulwark:warm-up").executeVoid();
            rt.await();
            // And one request through the dispatcher with host functions that do nothing (the
            // prelude's __bulwark_warm, which removes itself): the request path's functions are
            // then compiled here, not by each isolate's first request.
            try (V8ValueFunction warm = rt.getGlobalObject().get("__bulwark_warm");
                 V8Value served = warm.call(null)) {
                rt.await();
                if (!(served instanceof V8ValuePromise p) || !p.isFulfilled()) {
                    throw new IllegalStateException("the prelude's warm-up request did not complete");
                }
            }
            return rt.createSnapshot();
        }
    }

    /** A ready isolate: from the pool when there is one, made now when not (benches; the runtime waits instead). */
    Isolate take() throws JavetException {
        Isolate isolate = ready.pollFirst();
        synchronized (this) {
            notifyAll();
        }
        return isolate != null ? isolate : create();
    }

    /**
     * A ready isolate when there is one; otherwise null, and {@code waiter} gets the next one made
     * (on a pool thread). Never makes an isolate on the caller's thread.
     */
    Isolate takeOrWait(Waiter waiter) {
        synchronized (this) {
            Isolate isolate = ready.pollFirst();
            if (isolate == null && !closed) waiters.addLast(waiter);
            notifyAll();
            if (isolate != null || !closed) return isolate;
        }
        waiter.failed(new IllegalStateException("the sandbox is closing"));
        return null;
    }

    int readyCount() {
        return ready.size();
    }

    /** Callers waiting for an isolate now; tests. */
    synchronized int waiting() {
        return waiters.size();
    }

    Isolate create() throws JavetException {
        V8RuntimeOptions options = new V8RuntimeOptions();
        options.setSnapshotBlob(snapshot);
        V8Runtime rt = v8.createV8Runtime(options);
        try {
            Isolate isolate = new Isolate(rt, services);
            isolate.start();
            return isolate;
        } catch (JavetException | RuntimeException e) {
            rt.close();
            throw e;
        }
    }

    /**
     * A pool thread: makes an isolate while callers wait for more than are being made, and (the
     * refiller) while the pool holds fewer than its size; a made isolate goes to the first waiter,
     * else into the pool.
     */
    private void make(boolean refills) {
        while (!closed) {
            try {
                synchronized (this) {
                    // Checked under the lock takeOrWait() notifies with, so no wake-up is missed.
                    while (!closed && waiters.size() <= making && !(refills && ready.size() + making < size)) {
                        // The loader sleeps until a caller waits (takeOrWait and close notify).
                        wait(refills ? TimeUnit.SECONDS.toMillis(1) : 0);
                    }
                    if (closed) return;
                    making++;
                }
                Isolate made;
                try {
                    made = create();
                } catch (Exception e) {
                    Waiter w;
                    synchronized (this) {
                        making--;
                        w = waiters.pollFirst();
                    }
                    System.err.println("isolate pool: could not make an isolate: " + e);
                    if (w != null) w.failed(e);
                    Thread.sleep(refills && w == null ? 1_000 : 0);
                    continue;
                }
                Waiter w;
                boolean kept;
                synchronized (this) {
                    making--;
                    w = closed ? null : waiters.pollFirst();
                    kept = w == null && !closed;
                    if (kept) ready.addLast(made);
                }
                if (w != null) handOver(w, made);
                else if (!kept) made.close();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void handOver(Waiter w, Isolate made) {
        try {
            w.made(made);
        } catch (RuntimeException e) {
            System.err.println("isolate pool: a waiter failed: " + e);
        }
    }

    @Override
    public void close() {
        List<Waiter> left;
        synchronized (this) {
            closed = true;
            left = List.copyOf(waiters);
            waiters.clear();
            notifyAll();
        }
        refiller.interrupt();
        loader.interrupt();
        for (Waiter w : left) w.failed(new IllegalStateException("the sandbox is closing"));
        Isolate i;
        while ((i = ready.pollFirst()) != null) i.close();
    }
}
