package dev.bulwark.server.governance;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Merkle tree over a tenant's audit records, shaped as RFC 6962's (Certificate Transparency):
 * a leaf is {@code SHA-256(0x00 ‖ UTF-8(canonical record))}, an inner node
 * {@code SHA-256(0x01 ‖ left ‖ right)}, and a tree of n leaves splits at the largest power of two
 * below n. The 0x00/0x01 prefixes keep a leaf from being passed off as an inner node.
 *
 * <p>The canonical record is {@link Canonical#text} of the map {@code {session, seq, at, kind, body,
 * prev, hash}} (body as the stored JSON text), so a leaf covers the row exactly as stored,
 * including its chain link.
 */
final class AuditMerkle {
    private static final HexFormat HEX = HexFormat.of();

    private AuditMerkle() {}

    /** The canonical form of one audit record (the text a leaf hashes). */
    static String canonical(String session, long seq, long at, String kind, String body, String prev, String hash) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("session", session);
        m.put("seq", seq);
        m.put("at", at);
        m.put("kind", kind);
        m.put("body", body);
        m.put("prev", prev);
        m.put("hash", hash);
        return Canonical.text(m);
    }

    static byte[] leaf(String canonicalRecord) {
        MessageDigest d = sha();
        d.update((byte) 0);
        d.update(canonicalRecord.getBytes(StandardCharsets.UTF_8));
        return d.digest();
    }

    static byte[] node(byte[] left, byte[] right) {
        MessageDigest d = sha();
        d.update((byte) 1);
        d.update(left);
        d.update(right);
        return d.digest();
    }

    /** The root of the first {@code n} leaves (the hash of the empty string for none). */
    static byte[] root(List<byte[]> leaves, int n) {
        if (n == 0) return sha().digest();
        return subtree(leaves, 0, n);
    }

    private static byte[] subtree(List<byte[]> leaves, int from, int to) {
        int n = to - from;
        if (n == 1) return leaves.get(from);
        int k = split(n);
        return node(subtree(leaves, from, from + k), subtree(leaves, from + k, to));
    }

    /** The largest power of two strictly below n (n ≥ 2). */
    private static int split(int n) {
        return Integer.highestOneBit(n - 1);
    }

    /** The audit path of leaf {@code index} in the tree of the first {@code n} leaves, bottom up. */
    static List<byte[]> path(List<byte[]> leaves, int index, int n) {
        if (index < 0 || index >= n) throw new IllegalArgumentException("leaf " + index + " is not in a tree of " + n);
        List<byte[]> out = new ArrayList<>();
        path(leaves, index, 0, n, out);
        return out;
    }

    private static void path(List<byte[]> leaves, int index, int from, int to, List<byte[]> out) {
        int n = to - from;
        if (n == 1) return;
        int k = split(n);
        if (index < from + k) {
            path(leaves, index, from, from + k, out);
            out.add(subtree(leaves, from + k, to));
        } else {
            path(leaves, index, from + k, to, out);
            out.add(subtree(leaves, from, from + k));
        }
    }

    /** The root an audit path leads to from {@code leaf} at {@code index} in a tree of {@code n}, or null when the path has the wrong length. */
    static byte[] rootFromPath(byte[] leaf, int index, int n, List<byte[]> path) {
        if (index < 0 || index >= n) return null;
        // Walk down to find, per level, whether the leaf is in the left or the right part.
        List<Boolean> leftSide = new ArrayList<>();
        int from = 0, to = n;
        while (to - from > 1) {
            int k = split(to - from);
            if (index < from + k) {
                leftSide.add(true);
                to = from + k;
            } else {
                leftSide.add(false);
                from = from + k;
            }
        }
        if (leftSide.size() != path.size()) return null;
        byte[] h = leaf;
        for (int i = 0; i < path.size(); i++) {
            boolean left = leftSide.get(leftSide.size() - 1 - i);
            h = left ? node(h, path.get(i)) : node(path.get(i), h);
        }
        return h;
    }

    /** The root of the empty tree: SHA-256 of nothing. */
    static byte[] emptyRoot() {
        return sha().digest();
    }

    /**
     * Whether {@code proof} (RFC 6962 §2.1.2, as {@link AuditMerkleStore#consistency} gives it) shows
     * that the tree of {@code m} leaves with root {@code rootM} is a prefix of the tree of {@code n}
     * leaves with root {@code rootN} (0 < m ≤ n). The check follows RFC 9162 §2.1.4.2.
     */
    static boolean consistent(long m, long n, byte[] rootM, byte[] rootN, List<byte[]> proof) {
        if (m <= 0 || m > n) return false;
        if (m == n) return proof.isEmpty() && java.util.Arrays.equals(rootM, rootN);
        List<byte[]> p = new ArrayList<>(proof);
        if (Long.bitCount(m) == 1) p.addFirst(rootM); // m is a whole left subtree: the proof leaves it out
        if (p.isEmpty()) return false;
        long fn = m - 1, sn = n - 1;
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        byte[] fr = p.getFirst(), sr = p.getFirst();
        for (byte[] c : p.subList(1, p.size())) {
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn) {
                fr = node(c, fr);
                sr = node(c, sr);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                sr = node(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && java.util.Arrays.equals(fr, rootM) && java.util.Arrays.equals(sr, rootN);
    }

    static String hex(byte[] b) {
        return HEX.formatHex(b);
    }

    static byte[] unhex(String s) {
        return HEX.parseHex(s);
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
