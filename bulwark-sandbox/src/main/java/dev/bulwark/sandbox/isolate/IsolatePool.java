package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Host;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.options.V8RuntimeOptions;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValuePromise;

import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;

/**
 * Isolates made ahead of time from the prelude snapshot, with their host functions installed,
 * so that loading a worker costs a module compile and not an isolate. A background thread keeps
 * the pool full.
 */
final class IsolatePool implements AutoCloseable {
    private final V8Host v8;
    private final byte[] snapshot;
    private final int size;
    private final SandboxServices services;
    private final LinkedBlockingDeque<Isolate> ready = new LinkedBlockingDeque<>();
    private final Thread refiller;
    private volatile boolean closed;

    IsolatePool(V8Host v8, byte[] snapshot, int size, SandboxServices services) {
        this.v8 = v8;
        this.snapshot = snapshot;
        this.size = size;
        this.services = services;
        this.refiller = Thread.ofPlatform().name("isolate-pool").daemon(true).stackSize(Isolate.STACK_BYTES)
                .start(this::refill);
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

    /**
     * Makes the prelude snapshot: the prelude evaluated once, serialized into V8's startup blob.
     * Neither the prelude nor the warm-up may leave an Intl object (formatter, collator, segmenter…)
     * reachable: V8 aborts the process when it snapshots one ("global handle not serialized").
     */
    static byte[] snapshot(V8Host v8) throws JavetException {
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

    /** A ready isolate: from the pool when there is one, made now when not. */
    Isolate take() throws JavetException {
        Isolate isolate = ready.pollFirst();
        synchronized (this) {
            notifyAll();
        }
        return isolate != null ? isolate : create();
    }

    int readyCount() {
        return ready.size();
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

    private void refill() {
        while (!closed) {
            try {
                synchronized (this) {
                    // Checked under the lock take() notifies with, so no wake-up is missed.
                    while (ready.size() >= size && !closed) wait(TimeUnit.SECONDS.toMillis(1));
                }
                if (!closed) ready.addLast(create());
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                System.err.println("isolate pool: could not make an isolate: " + e);
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        refiller.interrupt();
        Isolate i;
        while ((i = ready.pollFirst()) != null) i.close();
    }
}
