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
 * One end of a node-sandbox connection over a Unix domain socket. Sends are thread-safe and
 * flushed per message; receives are for a single reader thread.
 */
public final class MessageChannel implements Closeable {
    private final SocketChannel socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final ReentrantLock writeLock = new ReentrantLock();

    public MessageChannel(SocketChannel socket) {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(socket), 64 << 10));
        this.out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(socket), 64 << 10));
    }

    public void send(Message message) throws IOException {
        writeLock.lock();
        try {
            MessageCodec.write(out, message);
            out.flush();
        } finally {
            writeLock.unlock();
        }
    }

    /** Blocks for the next message; EOFException when the peer closed the connection. */
    public Message receive() throws IOException {
        return MessageCodec.read(in);
    }

    public boolean isOpen() {
        return socket.isOpen();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
