package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One subrequest's upstream response being streamed to a worker: how far the node may send ahead
 * of the worker's acknowledgements, and whether the worker (or the node) gave up on it.
 */
final class Upstream {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long sent, acknowledged;
    private volatile boolean canceled;
    private volatile Runnable onCancel = () -> { };
    /** Chunks (byte[]), a {@link StartTls} and the end (an {@link UploadEnd}) of a streamed request body, one per pull. */
    private final java.util.concurrent.BlockingQueue<Object> upload = new java.util.concurrent.ArrayBlockingQueue<>(2);

    /** The end of a streamed request body: complete ({@code error} null) or broken. */
    record UploadEnd(String error) {}

    /** A connect() socket's startTls(): TLS begins after the pieces before it (TcpTunnel). */
    record StartTls() {}

    /** A piece of the streamed request body arrived; false when the sandbox sent more than was pulled. */
    boolean uploaded(Object chunkOrEnd) {
        return upload.offer(chunkOrEnd);
    }

    /** The next piece of the streamed request body, or null when canceled or past the deadline. */
    Object nextUpload(long deadlineNanos) throws InterruptedException {
        while (!canceled) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) return null;
            Object next = upload.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
            if (next != null) return next;
        }
        return null;
    }

    /** Runs once if the upstream is canceled (now, if it already was). */
    void onCancel(Runnable r) {
        onCancel = r;
        if (canceled) r.run();
    }

    boolean isCanceled() {
        return canceled;
    }

    void cancel() {
        lock.lock();
        try {
            if (canceled) return;
            canceled = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        onCancel.run();
    }

    void acknowledge(long bytes) {
        lock.lock();
        try {
            acknowledged = Math.min(sent, acknowledged + Math.max(0, bytes));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void sent(long bytes) {
        lock.lock();
        try {
            sent += bytes;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until one more chunk fits in the window. False when canceled or when the deadline
     * passed first (a worker that stopped reading).
     */
    boolean awaitRoom(long deadlineNanos) throws InterruptedException {
        lock.lock();
        try {
            while (!canceled && sent - acknowledged + Message.STREAM_CHUNK > Message.SUBREQUEST_WINDOW) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) return false;
                changed.await(left, TimeUnit.NANOSECONDS);
            }
            return !canceled;
        } finally {
            lock.unlock();
        }
    }
}
