package dev.bulwark.sandbox.ipc;

import dev.bulwark.sandbox.jvm.Libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.SocketChannel;

/**
 * Writes to a blocking socket that never block: {@code send(2)} with {@code MSG_DONTWAIT} on the
 * socket's descriptor, which takes what fits in the socket's buffer now and returns. Java has no
 * such write on a blocking channel, and its descriptor is not public: it is read through
 * {@code sun.nio.ch.SelChImpl}, which needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED}
 * (the launcher and the tests pass it). Without it, or without native access, {@link #of} is null
 * and callers keep their blocking way.
 */
final class NonBlockingSend {
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_NOSIGNAL = 0x4000;
    /** send(int, const void *, size_t, int); critical: it never blocks, and may read the Java array in place. */
    private static final MethodHandle SEND = Libc.find("send", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
            Linker.Option.critical(true)).orElse(null);
    private static final MethodHandle FD = fdGetter();

    private final int fd;
    private boolean closed;

    private NonBlockingSend(int fd) {
        this.fd = fd;
    }

    /** The non-blocking sender of {@code socket}, or null where this JVM cannot make one (see above). */
    static NonBlockingSend of(SocketChannel socket) {
        if (SEND == null || FD == null || !System.getProperty("os.name", "").startsWith("Linux")) return null;
        try {
            int fd = (int) FD.invoke(socket);
            return fd >= 0 ? new NonBlockingSend(fd) : null;
        } catch (Throwable e) {
            return null;
        }
    }

    private static MethodHandle fdGetter() {
        try {
            Class<?> selCh = Class.forName("sun.nio.ch.SelChImpl");
            return java.lang.invoke.MethodHandles.lookup().unreflect(selCh.getMethod("getFDVal"));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // sun.nio.ch not exported to us
        }
    }

    /**
     * Sends what fits of {@code b} now: the bytes sent, 0 when none could be (the buffer is full,
     * the peer is gone, the descriptor is closed; whoever writes next finds out which).
     */
    synchronized int send(byte[] b) {
        if (closed) return 0;
        try {
            long n = (long) SEND.invokeExact(fd, MemorySegment.ofArray(b), (long) b.length, MSG_DONTWAIT | MSG_NOSIGNAL);
            return n < 0 ? 0 : (int) n;
        } catch (Throwable e) {
            return 0;
        }
    }

    /**
     * No send after this: the descriptor may be closed and its number reused by another file. Waits
     * only for a send under way, which does not block.
     */
    synchronized void close() {
        closed = true;
    }
}
