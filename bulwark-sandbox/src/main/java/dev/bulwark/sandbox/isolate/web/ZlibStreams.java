package dev.bulwark.sandbox.isolate.web;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The compression streams open in one isolate, by handle. Each holds native zlib memory (about
 * 256 KiB for a compressor), so an isolate may have at most {@link #MAX_OPEN} open at once, and
 * those an invocation opened are freed when it ends, whether or not its code closed them.
 * Invocations end on other threads than the isolate's, hence the lock per stream.
 */
public final class ZlibStreams {
    public static final int MAX_OPEN = 128;

    private record Entry(ZlibCodec codec, long invocation) {}

    private final Map<Integer, Entry> open = new ConcurrentHashMap<>();
    private int next = 1;

    /** Opens a stream for the invocation; returns its handle. */
    public int open(ZlibFormat format, boolean compress, long invocation) throws ZlibCodec.ZlibException {
        if (open.size() >= MAX_OPEN) {
            throw new ZlibCodec.ZlibException("Too many compression streams are open (at most " + MAX_OPEN + ").");
        }
        int handle;
        do {
            handle = next;
            next = next == Integer.MAX_VALUE ? 1 : next + 1;
        } while (open.containsKey(handle));
        open.put(handle, new Entry(ZlibCodec.create(format, compress), invocation));
        return handle;
    }

    public byte[] push(int handle, byte[] input, boolean finish) throws ZlibCodec.ZlibException {
        Entry e = open.get(handle);
        if (e == null) throw new ZlibCodec.ZlibException("The compression stream is closed.");
        synchronized (e) {
            if (open.get(handle) != e) throw new ZlibCodec.ZlibException("The compression stream is closed.");
            return e.codec.push(input, finish);
        }
    }

    public void close(int handle) {
        Entry e = open.remove(handle);
        if (e != null) end(e);
    }

    public void invocationEnded(long invocation) {
        open.forEach((handle, e) -> {
            if (e.invocation == invocation && open.remove(handle, e)) end(e);
        });
    }

    public void closeAll() {
        open.forEach((handle, e) -> {
            if (open.remove(handle, e)) end(e);
        });
    }

    public int openCount() {
        return open.size();
    }

    private static void end(Entry e) {
        synchronized (e) {
            e.codec.end();
        }
    }
}
