package dev.bulwark.server.governance;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A tenant's audit Merkle tree ({@link AuditMerkle}) kept on disk with its interior hashes, so that
 * appending a leaf and producing an inclusion or consistency proof read O(log n) stored hashes
 * instead of recomputing subtrees from every record.
 *
 * <p>Layout: one file per level, {@code L0} (the leaves), {@code L1}, ...; entry {@code i} of level
 * {@code k} (32 bytes at offset {@code 32·i}) is the hash of the complete, aligned subtree of leaves
 * {@code [i·2^k, (i+1)·2^k)}. In RFC 6962's shape every left subtree is such a block and every right
 * subtree is either one or ends at the tree's right edge, whose hash is combined from O(log n) blocks.
 * Appending a leaf writes it to {@code L0} and, while a level gains its second entry of a pair, the
 * pair's parent to the level above: O(log n) writes.
 *
 * <p>The files are derived data: the signed checkpoints and the session records stay the evidence.
 * {@link #truncate} cuts them back to a checkpoint's size after a crash between appending leaves and
 * storing the checkpoint.
 */
final class AuditMerkleStore implements AutoCloseable {
    private static final int H = 32;

    private final Path dir;
    private final List<FileChannel> levels = new ArrayList<>();
    private long size;

    private AuditMerkleStore(Path dir) {
        this.dir = dir;
    }

    /** Opens (or creates) the store in {@code dir}; the higher levels are repaired to match {@code L0}. */
    static AuditMerkleStore open(Path dir) throws IOException {
        Files.createDirectories(dir);
        AuditMerkleStore s = new AuditMerkleStore(dir);
        s.size = s.level(0).size() / H;
        s.truncate(s.size);
        return s;
    }

    long size() {
        return size;
    }

    private FileChannel level(int k) throws IOException {
        while (levels.size() <= k) {
            levels.add(FileChannel.open(dir.resolve("L" + levels.size()), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE));
        }
        return levels.get(k);
    }

    private byte[] read(int k, long i) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(H);
        FileChannel ch = level(k);
        long pos = i * H;
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) throw new IOException("audit tree level " + k + " is short at entry " + i);
        }
        return b.array();
    }

    private void write(int k, long i, byte[] h) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(h);
        FileChannel ch = level(k);
        while (b.hasRemaining()) ch.write(b, i * H + b.position());
    }

    /** Appends one leaf hash: O(log n) writes (not forced; see {@link #force}). */
    void append(byte[] leaf) throws IOException {
        if (leaf.length != H) throw new IllegalArgumentException("a leaf hash has 32 bytes");
        long i = size;
        write(0, i, leaf);
        byte[] h = leaf;
        int k = 0;
        while ((i & 1) == 1) { // this entry closes a pair: store the pair's parent one level up
            h = AuditMerkle.node(read(k, i - 1), h);
            i >>= 1;
            k++;
            write(k, i, h);
        }
        size++;
    }

    /** Forces every level to disk. */
    void force() throws IOException {
        for (FileChannel ch : levels) ch.force(false);
    }

    /**
     * Cuts the tree back to its first {@code n} leaves (n ≤ size) and makes every level hold exactly
     * the complete blocks of those leaves, recomputing the parents a crash may have left unwritten.
     */
    void truncate(long n) throws IOException {
        if (n > size) throw new IllegalArgumentException("the audit tree has " + size + " leaves, not " + n);
        level(0).truncate(n * H);
        size = n;
        int top = 64 - Long.numberOfLeadingZeros(n); // levels 1..top-1 hold blocks of these leaves
        while (Files.exists(dir.resolve("L" + Math.max(top, 1)))) top = Math.max(top, 1) + 1;
        for (int k = 1; k < top; k++) {
            long want = n >> k;
            FileChannel ch = level(k);
            long have = Math.min(ch.size() / H, want);
            ch.truncate(have * H);
            for (long i = have; i < want; i++) write(k, i, AuditMerkle.node(read(k - 1, 2 * i), read(k - 1, 2 * i + 1)));
        }
    }

    /**
     * Recomputes every level above the leaves from the leaves (O(n), in memory, one write per
     * level), so that a damaged interior hash cannot survive; returns the root of all leaves.
     */
    byte[] rebuildLevels() throws IOException {
        if (size == 0) {
            truncate(0);
            return AuditMerkle.emptyRoot();
        }
        byte[] below = new byte[(int) Math.multiplyExact(size, H)];
        ByteBuffer in = ByteBuffer.wrap(below);
        while (in.hasRemaining()) {
            if (level(0).read(in, in.position()) < 0) throw new IOException("audit tree leaves are short");
        }
        for (int k = 1; (size >> k) > 0; k++) {
            int count = (int) (size >> k);
            byte[] here = new byte[count * H];
            byte[] l = new byte[H], r = new byte[H];
            for (int i = 0; i < count; i++) {
                System.arraycopy(below, 2 * i * H, l, 0, H);
                System.arraycopy(below, (2 * i + 1) * H, r, 0, H);
                System.arraycopy(AuditMerkle.node(l, r), 0, here, i * H, H);
            }
            FileChannel ch = level(k);
            ch.truncate(0);
            ByteBuffer out = ByteBuffer.wrap(here);
            while (out.hasRemaining()) ch.write(out, out.position());
            below = here;
        }
        truncate(size); // drops levels above the top
        return root(size);
    }

    /** The leaf hash at {@code index}. */
    byte[] leaf(long index) throws IOException {
        if (index < 0 || index >= size) throw new IllegalArgumentException("leaf " + index + " is not in a tree of " + size);
        return read(0, index);
    }

    /** The root of the first {@code n} leaves (n ≤ size): O(log n) reads. */
    byte[] root(long n) throws IOException {
        if (n > size || n < 0) throw new IllegalArgumentException("the audit tree has " + size + " leaves, not " + n);
        if (n == 0) return AuditMerkle.emptyRoot();
        return hash(0, n);
    }

    /** The hash of RFC 6962's subtree of leaves [from, to): a stored block, or split in two. */
    private byte[] hash(long from, long to) throws IOException {
        long n = to - from;
        if (Long.bitCount(n) == 1 && from % n == 0) return read(Long.numberOfTrailingZeros(n), from / n);
        long k = split(n);
        return AuditMerkle.node(hash(from, from + k), hash(from + k, to));
    }

    private static long split(long n) {
        return Long.highestOneBit(n - 1);
    }

    /** The audit path of leaf {@code index} in the tree of the first {@code n} leaves, bottom up (as {@link AuditMerkle#path}). */
    List<byte[]> path(long index, long n) throws IOException {
        if (n > size) throw new IllegalArgumentException("the audit tree has " + size + " leaves, not " + n);
        if (index < 0 || index >= n) throw new IllegalArgumentException("leaf " + index + " is not in a tree of " + n);
        List<byte[]> out = new ArrayList<>();
        long from = 0, to = n;
        while (to - from > 1) {
            long k = split(to - from);
            if (index < from + k) {
                out.add(hash(from + k, to));
                to = from + k;
            } else {
                out.add(hash(from, from + k));
                from = from + k;
            }
        }
        return out.reversed();
    }

    /**
     * The consistency proof (RFC 6962 §2.1.2, SUBPROOF) between the tree of the first {@code m}
     * leaves and that of the first {@code n} (0 < m ≤ n ≤ size): O(log n) hashes.
     */
    List<byte[]> consistency(long m, long n) throws IOException {
        if (n > size) throw new IllegalArgumentException("the audit tree has " + size + " leaves, not " + n);
        if (m <= 0 || m > n) throw new IllegalArgumentException("no consistency proof from " + m + " to " + n);
        List<byte[]> out = new ArrayList<>();
        subproof(m, 0, n, true, out);
        return out;
    }

    private void subproof(long m, long from, long to, boolean whole, List<byte[]> out) throws IOException {
        long n = to - from;
        if (m == n) {
            if (!whole) out.add(hash(from, to));
            return;
        }
        long k = split(n);
        if (m <= k) {
            subproof(m, from, from + k, whole, out);
            out.add(hash(from + k, to));
        } else {
            subproof(m - k, from + k, to, false, out);
            out.add(hash(from, from + k));
        }
    }

    @Override
    public void close() throws IOException {
        for (FileChannel ch : levels) ch.close();
        levels.clear();
    }
}
