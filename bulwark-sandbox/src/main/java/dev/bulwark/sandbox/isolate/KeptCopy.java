package dev.bulwark.sandbox.isolate;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A large file this JVM made once (inflated from a jar), kept open so that later copies of it are
 * made from it, a kernel-side file copy, instead of inflating it again: a JVM that starts several
 * nodes one after another (tests, an application embedding nodes) deploys Javet's library and ICU's
 * data into each node's run directory, which is removed when that node closes. The open channel
 * still reads the file after its directory is gone (its disk space is freed when the JVM exits).
 */
final class KeptCopy {
    private final FileChannel channel;
    private final long size;

    private KeptCopy(FileChannel channel, long size) {
        this.channel = channel;
        this.size = size;
    }

    /** Keeps {@code file} (just written and checked by the caller) open for later copies. */
    static KeptCopy of(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        return new KeptCopy(channel, channel.size());
    }

    /** Lets the kept file go (a deploy that found it changed keeps a new one instead). */
    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing held that matters
        }
    }

    long size() {
        return size;
    }

    /**
     * Writes the kept file's bytes into {@code target} (replacing what it holds); false, with
     * {@code target} in any state, if the kept file is no longer the size it had.
     */
    boolean copyTo(Path target) throws IOException {
        try {
            if (channel.size() != size) return false;
        } catch (java.nio.channels.ClosedChannelException e) {
            return false; // let go by another deploy meanwhile
        }
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            long done = 0;
            while (done < size) {
                long n = channel.transferTo(done, size - done, out);
                if (n <= 0) break;
                done += n;
            }
        } catch (java.nio.channels.ClosedChannelException e) {
            return false; // let go by another deploy meanwhile
        }
        return Files.size(target) == size;
    }
}
