package dev.bulwark.sandbox.ipc;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One end of a node-sandbox connection over Unix domain sockets. Sends are thread-safe;
 * receives are for a single reader thread.
 *
 * <p>The node and a sandbox talk over two sockets, one per direction ({@link #MessageChannel(
 * SocketChannel, SocketChannel, int, boolean)}). On a single full-duplex Unix socket, every read
 * of one end frees buffer space charged to the other end and Linux wakes whatever sleeps on that
 * other end's wait queue ({@code unix_write_space}): the peer's reader, blocked for its next
 * message, woke for nothing once per message it had sent (docs/notes/duplex.md).
 *
 * <p>{@link #send} writes and flushes at once. {@link #post} hands the message to a writer thread
 * that flushes only when it has nothing more to write, so a burst (a response head, its body and
 * its end) leaves in one system call instead of one per message. A channel made with direct posts
 * (the node's end) first tries to write a posted message at once, without blocking, when nothing
 * posted before it is still unwritten: the writer thread is then needed only when the socket's
 * buffer is full (see {@link #post}).
 */
public final class MessageChannel implements Closeable {
    private final SocketChannel inSocket;
    private final SocketChannel outSocket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Posted messages for the writer thread: a {@link Message}, or a frame already encoded (byte[]). */
    private final java.util.concurrent.LinkedBlockingQueue<Object> outgoing = new java.util.concurrent.LinkedBlockingQueue<>();
    /** Posted messages not written into the buffer yet (queued, or taken by the writer): a direct post waits behind them. */
    private final java.util.concurrent.atomic.AtomicInteger unwritten = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Thread writer;
    private volatile IOException writeFailure;
    /** Writes that never block, for direct posts; null: every post goes through the writer thread. */
    private final NonBlockingSend direct;
    private final Buffer buffer;
    /**
     * What a direct post could send only part of: the rest of its frame, written before anything
     * else goes into the buffer (guarded by writeLock).
     */
    private byte[] rest;

    private final int maxIncomingFrame;

    /** Both directions over one socket (tests, and any peer that is not a node and its sandbox). */
    public MessageChannel(SocketChannel socket) {
        this(socket, socket, MessageCodec.MAX_FRAME, false);
    }

    /**
     * @param in               the socket this end reads, which the peer only writes
     * @param out              the socket this end writes, which the peer only reads (may be {@code in})
     * @param maxIncomingFrame the largest frame this end accepts (see {@link MessageCodec#read(DataInputStream, int)})
     * @param directPosts      whether {@link #post} may write at once (where this JVM can write without
     *                         blocking: otherwise posts go through the writer thread as without it)
     */
    public MessageChannel(SocketChannel in, SocketChannel out, int maxIncomingFrame, boolean directPosts) {
        this.maxIncomingFrame = maxIncomingFrame;
        this.inSocket = in;
        this.outSocket = out;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(in), 64 << 10));
        this.buffer = new Buffer(Channels.newOutputStream(out));
        this.out = new DataOutputStream(buffer);
        this.direct = directPosts ? NonBlockingSend.of(out) : null;
    }

    /**
     * The connecting end (a sandbox): two connections to the listening end's socket, in this order:
     * the first carries what this end sends, the second what it receives. The listener takes them
     * in the same order ({@link #accept}): a Unix socket's backlog is first come, first served, and
     * only this process connects to the path it was given.
     */
    public static MessageChannel connect(Path socket) throws IOException {
        SocketChannel out = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        try {
            SocketChannel in = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            return new MessageChannel(in, out, MessageCodec.MAX_FRAME, false);
        } catch (IOException e) {
            out.close();
            throw e;
        }
    }

    /** The listening end (the node): takes the two connections of {@link #connect}, blocking for each. */
    public static MessageChannel accept(ServerSocketChannel server, int maxIncomingFrame, boolean directPosts)
            throws IOException {
        SocketChannel in = server.accept();
        try {
            SocketChannel out = server.accept();
            return new MessageChannel(in, out, maxIncomingFrame, directPosts);
        } catch (IOException e) {
            in.close();
            throw e;
        }
    }

    /** The send buffer, which says whether it holds anything. */
    private static final class Buffer extends BufferedOutputStream {
        Buffer(java.io.OutputStream socket) {
            super(socket, 64 << 10);
        }

        boolean empty() {
            return count == 0;
        }
    }

    /** Whether posts try to write at once (see {@link #post}). */
    public boolean postsDirectly() {
        return direct != null;
    }

    /** The rest of a frame a direct post sent in part goes first (under writeLock). */
    private void writeRest() throws IOException {
        if (rest == null) return;
        out.write(rest);
        rest = null;
    }

    public void send(Message message) throws IOException {
        writeLock.lock();
        try {
            writeRest();
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
            writeRest();
            MessageCodec.write(out, message);
        } finally {
            writeLock.unlock();
        }
    }

    /** Sends whatever {@link #write} buffered. */
    public void flush() throws IOException {
        writeLock.lock();
        try {
            writeRest();
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
            writeRest();
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

    /** Frames up to this size may be posted directly; a larger one goes to the writer. */
    static final int DIRECT_MAX = 64 << 10;

    /**
     * Queues a message for the writer thread (started on first use). Order is kept among posted
     * messages; a write failure is reported by the next call.
     *
     * <p>With direct posts, a message posted when every message posted before it is written and
     * the send buffer is empty is written at once, by the posting thread, as far as the socket
     * takes it without blocking (a reader thread relaying an answer must never wait on another
     * sandbox's socket: two sandboxes could wait on each other). What does not fit, and everything
     * posted after it, goes through the writer thread as before. This saves the hand-off to the
     * writer (a wake-up) on the common path, where the socket has room.
     */
    public void post(Message message) throws IOException {
        IOException failure = writeFailure;
        if (failure != null) throw failure;
        Object queued = message;
        if (direct != null && unwritten.get() == 0 && writeLock.tryLock()) {
            try {
                // Under the lock: nothing posted before is still queued or in the writer's hands,
                // nothing waits in the buffer (send, write, writeFrames), no rest is left.
                if (unwritten.get() == 0 && rest == null && buffer.empty()) {
                    byte[] frame = MessageCodec.frame(message);
                    int n = frame.length <= DIRECT_MAX ? direct.send(frame) : 0;
                    if (n == frame.length) {
                        if (dev.bulwark.sandbox.trace.LatencyTrace.ON) dev.bulwark.sandbox.trace.LatencyTrace.stampMessage("chan.direct:", message, 0);
                        return;
                    }
                    if (n > 0) {
                        rest = java.util.Arrays.copyOfRange(frame, n, frame.length);
                        queued = NOTHING; // wakes the writer, which writes the rest first
                    } else {
                        queued = frame;
                    }
                }
            } catch (MessageCodec.FrameTooLargeException tooLarge) {
                // Refused before a byte was written, as the writer refuses it.
                System.err.println("bulwark: dropped a message: " + tooLarge.getMessage());
                return;
            } finally {
                writeLock.unlock();
            }
        }
        if (writer == null) startWriter();
        unwritten.incrementAndGet();
        outgoing.add(queued);
    }

    /** A frame of nothing: queued to wake the writer for a {@link #rest}. */
    private static final byte[] NOTHING = new byte[0];

    private synchronized void startWriter() {
        if (writer != null) return;
        writer = Thread.ofPlatform().name("channel-writer").daemon(true).start(() -> {
            try {
                while (true) {
                    Object m = outgoing.take();
                    writeLock.lock();
                    try {
                        writeRest();
                        do {
                            try {
                                if (m instanceof byte[] frame) out.write(frame);
                                else MessageCodec.write(out, (Message) m);
                            } catch (MessageCodec.FrameTooLargeException tooLarge) {
                                // Refused before a byte was written: the stream is intact, the message is lost.
                                System.err.println("bulwark: dropped a message: " + tooLarge.getMessage());
                            }
                            unwritten.decrementAndGet();
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
        return inSocket.isOpen() && outSocket.isOpen();
    }

    @Override
    public void close() throws IOException {
        Thread w = writer;
        if (w != null) w.interrupt();
        if (direct != null) direct.close(); // before the descriptor's number can be reused
        try {
            outSocket.close();
        } finally {
            inSocket.close();
        }
    }
}
