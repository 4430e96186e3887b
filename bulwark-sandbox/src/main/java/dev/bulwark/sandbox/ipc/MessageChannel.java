package dev.bulwark.sandbox.ipc;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One end of a node-sandbox connection over a Unix domain socket. Sends are thread-safe;
 * receives are for a single reader thread.
 *
 * <p>{@link #send} writes and flushes at once. {@link #post} hands the message to a writer thread
 * that flushes only when it has nothing more to write, so a burst (a response head, its body and
 * its end) leaves in one system call instead of one per message.
 */
public final class MessageChannel implements Closeable {
    private final SocketChannel socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final java.util.concurrent.LinkedBlockingQueue<Message> outgoing = new java.util.concurrent.LinkedBlockingQueue<>();
    private volatile Thread writer;
    private volatile IOException writeFailure;

    private final int maxIncomingFrame;

    public MessageChannel(SocketChannel socket) {
        this(socket, MessageCodec.MAX_FRAME);
    }

    /** @param maxIncomingFrame the largest frame this end accepts (see {@link MessageCodec#read(DataInputStream, int)}) */
    public MessageChannel(SocketChannel socket, int maxIncomingFrame) {
        this.maxIncomingFrame = maxIncomingFrame;
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(socket), 64 << 10));
        this.out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(socket), 64 << 10));
    }

    public void send(Message message) throws IOException {
        writeLock.lock();
        try {
            MessageCodec.write(out, message);
            out.flush();
            dirtySince = 0;
            if (dev.bulwark.sandbox.trace.LatencyTrace.ON) dev.bulwark.sandbox.trace.LatencyTrace.stampMessage("chan.send:", message, 0);
        } finally {
            writeLock.unlock();
        }
    }

    /** Writes a message into the send buffer without flushing it (see {@link #flush}). */
    public void write(Message message) throws IOException {
        writeLock.lock();
        try {
            MessageCodec.write(out, message);
        } finally {
            writeLock.unlock();
        }
    }

    /** Sends whatever {@link #write} buffered. */
    public void flush() throws IOException {
        writeLock.lock();
        try {
            out.flush();
            dirtySince = 0;
            dev.bulwark.sandbox.trace.LatencyTrace.stamp("chan.flush", 0);
        } finally {
            writeLock.unlock();
        }
    }

    /** How long messages written without {@code now} may wait in the buffer for a flush. */
    static final long MAX_UNFLUSHED_NANOS = 2_000_000;
    /** When a message was left unflushed in the buffer (nanoTime, never 0), or 0 (guarded by writeLock). */
    private long dirtySince;

    /**
     * Writes frames made by {@link MessageCodec#frame} in order, as one piece. With {@code now} they leave at once (with
     * whatever waited in the buffer); without, they may wait for the next flush of this channel
     * (another write with {@code now}, {@link #flushIfDirty}, or this call a little later): for
     * messages nobody waits on, which then travel with the next ones instead of costing the
     * peer's reader a wake-up of their own. They never wait more than {@link #MAX_UNFLUSHED_NANOS}
     * past the next write, and {@link #flushIfDirty} sends them when the writer goes idle.
     */
    public void writeFrames(java.util.List<byte[]> frames, boolean now) throws IOException {
        writeLock.lock();
        try {
            for (byte[] f : frames) out.write(f);
            long t = System.nanoTime();
            if (now || (dirtySince != 0 && t - dirtySince > MAX_UNFLUSHED_NANOS)) {
                out.flush();
                dirtySince = 0;
                dev.bulwark.sandbox.trace.LatencyTrace.stamp("chan.framesFlushed", frames.size());
            } else if (dirtySince == 0) {
                dirtySince = t == 0 ? 1 : t;
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Sends what {@link #writeFrames} left in the buffer, if anything. */
    public void flushIfDirty() throws IOException {
        writeLock.lock();
        try {
            if (dirtySince == 0) return;
            out.flush();
            dirtySince = 0;
            dev.bulwark.sandbox.trace.LatencyTrace.stamp("chan.flushIfDirty", 0);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Queues a message for the writer thread (started on first use). Order is kept among posted
     * messages; a write failure is reported by the next call.
     */
    public void post(Message message) throws IOException {
        IOException failure = writeFailure;
        if (failure != null) throw failure;
        if (writer == null) startWriter();
        outgoing.add(message);
    }

    private synchronized void startWriter() {
        if (writer != null) return;
        writer = Thread.ofPlatform().name("channel-writer").daemon(true).start(() -> {
            try {
                while (true) {
                    Message m = outgoing.take();
                    writeLock.lock();
                    try {
                        do {
                            try {
                                MessageCodec.write(out, m);
                            } catch (MessageCodec.FrameTooLargeException tooLarge) {
                                // Refused before a byte was written: the stream is intact, the message is lost.
                                System.err.println("bulwark: dropped a message: " + tooLarge.getMessage());
                            }
                        } while ((m = outgoing.poll()) != null);
                        out.flush();
                        dirtySince = 0;
                        dev.bulwark.sandbox.trace.LatencyTrace.stamp("chan.writerFlush", 0);
                    } finally {
                        writeLock.unlock();
                    }
                }
            } catch (InterruptedException e) {
                // closing
            } catch (IOException e) {
                writeFailure = e;
            }
        });
    }

    /** Blocks for the next message; EOFException when the peer closed the connection. */
    public Message receive() throws IOException {
        Message m = MessageCodec.read(in, maxIncomingFrame);
        if (dev.bulwark.sandbox.trace.LatencyTrace.ON) dev.bulwark.sandbox.trace.LatencyTrace.stampMessage("chan.recv:", m, 0);
        return m;
    }

    /**
     * Whether bytes of a next message have arrived already (a message whose first bytes are here
     * is being written as one piece: {@link #receive} returns it without waiting on the peer).
     */
    public boolean hasBuffered() throws IOException {
        return in.available() > 0;
    }

    public boolean isOpen() {
        return socket.isOpen();
    }

    @Override
    public void close() throws IOException {
        Thread w = writer;
        if (w != null) w.interrupt();
        socket.close();
    }
}
