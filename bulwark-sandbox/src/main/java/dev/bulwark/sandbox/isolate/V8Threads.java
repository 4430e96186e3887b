package dev.bulwark.sandbox.isolate;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Starts the threads that run V8 (the carriers) from one thread made right after V8 was
 * initialized, never from whatever thread happens to need one.
 *
 * <p>Why: on CPUs with memory protection keys (PKU; this VM has them) V8 protects some of its
 * memory with a key it allocates when it initializes ({@code pkey_alloc}), and each thread's
 * rights to that key live in its own PKRU register, which a new thread inherits from the thread
 * that started it. A thread that already existed when V8 allocated the key, and every thread it
 * starts later, has no right to read that memory: V8 code on such a carrier dies with SIGSEGV
 * ({@code si_code} 4, SEGV_PKUERR, at an address in V8's key-1 mapping), seen as the "libjavet
 * SIGSEGV" of WPT runs (docs/notes/isocost.md). Carriers were started by the thread that enqueued
 * work, which can be any thread (a test's, a timer, the socket reader made before V8). The thread
 * made here by {@link #init} inherits the initializing thread's rights, and so does every carrier
 * it starts.
 */
final class V8Threads {
    private static final LinkedBlockingQueue<Runnable> STARTS = new LinkedBlockingQueue<>();
    private static volatile Thread starter;

    private V8Threads() {}

    /** Call on the thread that initialized V8 (right after {@code V8Host.getV8I18nInstance()}); idempotent. */
    static synchronized void init() {
        if (starter != null) return;
        starter = Thread.ofPlatform().name("v8-thread-starter").daemon(true).start(() -> {
            while (true) {
                try {
                    STARTS.take().run();
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /**
     * Starts {@code builder}'s thread running {@code task} from the starter thread (on this thread
     * before {@link #init}, or when this is the starter); returns it once started.
     */
    static Thread start(Thread.Builder.OfPlatform builder, Runnable task) {
        Thread s = starter;
        if (s == null || Thread.currentThread() == s) return builder.start(task);
        CompletableFuture<Thread> started = new CompletableFuture<>();
        STARTS.add(() -> {
            try {
                started.complete(builder.start(task));
            } catch (Throwable e) {
                started.completeExceptionally(e);
            }
        });
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return started.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the thread is being started: wait for it, then pass the interrupt on
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) throw r;
                    if (e.getCause() instanceof Error err) throw err;
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}
