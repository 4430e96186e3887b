package dev.bulwark.server.governance;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The stored audit tree: the same roots and proofs as recomputing from every leaf, consistency proofs, repair. */
class AuditMerkleStoreTest {
    @TempDir
    Path dir;

    private static AuditMerkleStore filled(Path dir, List<byte[]> leaves) throws Exception {
        AuditMerkleStore s = AuditMerkleStore.open(dir);
        for (byte[] l : leaves) s.append(l);
        s.force();
        return s;
    }

    private static List<String> hex(List<byte[]> hs) {
        List<String> out = new ArrayList<>();
        for (byte[] h : hs) out.add(AuditMerkle.hex(h));
        return out;
    }

    @Test
    void storedProofsEqualTheRecomputedOnesAtManySizes() throws Exception {
        for (int n : new int[] {1, 2, 3, 7, 8, 9, 1000}) {
            List<byte[]> l = AuditMerkleTest.leaves(n);
            try (AuditMerkleStore s = filled(dir.resolve("n" + n), l)) {
                assertThat(s.size()).isEqualTo(n);
                assertThat(s.root(n)).as("root n=%d", n).isEqualTo(AuditMerkle.root(l, n));
                for (int i = 0; i < n; i++) {
                    assertThat(hex(s.path(i, n))).as("n=%d i=%d", n, i).isEqualTo(hex(AuditMerkle.path(l, i, n)));
                    assertThat(s.leaf(i)).isEqualTo(l.get(i));
                }
            }
        }
    }

    @Test
    void everyPrefixOfTheStoredTreeHasTheRecomputedRootAndProofs() throws Exception {
        List<byte[]> l = AuditMerkleTest.leaves(33);
        try (AuditMerkleStore s = filled(dir, l)) {
            for (int m = 1; m <= 33; m++) {
                assertThat(s.root(m)).as("m=%d", m).isEqualTo(AuditMerkle.root(l, m));
                for (int i = 0; i < m; i++) assertThat(hex(s.path(i, m))).as("m=%d i=%d", m, i).isEqualTo(hex(AuditMerkle.path(l, i, m)));
            }
            assertThat(s.root(0)).isEqualTo(AuditMerkle.root(l, 0));
        }
    }

    @Test
    void consistencyProofsShowEveryEarlierTreeIsAPrefix() throws Exception {
        List<byte[]> l = AuditMerkleTest.leaves(33);
        try (AuditMerkleStore s = filled(dir, l)) {
            for (int n = 1; n <= 33; n++) {
                for (int m = 1; m <= n; m++) {
                    List<byte[]> proof = s.consistency(m, n);
                    assertThat(AuditMerkle.consistent(m, n, AuditMerkle.root(l, m), AuditMerkle.root(l, n), proof))
                            .as("m=%d n=%d", m, n).isTrue();
                }
            }
            // RFC 6962 §2.1.3's example shapes: 3 → 7 is [c, d, g, l] i.e. 4 hashes; 4 → 7 is [l] (one), 6 → 7 is [i, j, k] (three).
            assertThat(s.consistency(3, 7)).hasSize(4);
            assertThat(s.consistency(4, 7)).hasSize(1);
            assertThat(s.consistency(6, 7)).hasSize(3);
            assertThat(s.consistency(7, 7)).isEmpty();
        }
    }

    @Test
    void aConsistencyProofFailsForAnotherHistory() throws Exception {
        List<byte[]> l = AuditMerkleTest.leaves(20);
        try (AuditMerkleStore s = filled(dir, l)) {
            List<byte[]> proof = s.consistency(6, 20);
            byte[] rootM = AuditMerkle.root(l, 6), rootN = AuditMerkle.root(l, 20);
            // An old tree whose leaf 2 was rewritten is not a prefix of today's.
            List<byte[]> edited = new ArrayList<>(l);
            edited.set(2, AuditMerkle.leaf(AuditMerkle.canonical("ses_x", 3, 1002, "k", "{\"x\":1}", "p", "h2")));
            assertThat(AuditMerkle.consistent(6, 20, AuditMerkle.root(edited, 6), rootN, proof)).isFalse();
            // Nor is today's tree with a rewritten leaf the continuation of the old one.
            assertThat(AuditMerkle.consistent(6, 20, rootM, AuditMerkle.root(edited, 20), proof)).isFalse();
            // A bent hash, a missing hash or another old size do not verify (the sizes themselves are signed in the checkpoints).
            for (int i = 0; i < proof.size(); i++) {
                List<byte[]> bent = new ArrayList<>(proof);
                byte[] h = bent.get(i).clone();
                h[5] ^= 1;
                bent.set(i, h);
                assertThat(AuditMerkle.consistent(6, 20, rootM, rootN, bent)).as("hash %d", i).isFalse();
            }
            assertThat(AuditMerkle.consistent(6, 20, rootM, rootN, proof.subList(0, proof.size() - 1))).isFalse();
            assertThat(AuditMerkle.consistent(7, 20, rootM, rootN, proof)).isFalse();
            assertThat(AuditMerkle.consistent(0, 20, rootM, rootN, proof)).isFalse();
        }
    }

    @Test
    void reopeningRepairsLevelsACrashLeftShortAndTruncateCutsBack() throws Exception {
        List<byte[]> l = AuditMerkleTest.leaves(100);
        try (AuditMerkleStore s = filled(dir, l)) {
            assertThat(s.size()).isEqualTo(100);
        }
        // A crash after writing leaves but before their parents: level 1 lost its last entries, level 3 is gone.
        try (FileChannel ch = FileChannel.open(dir.resolve("L1"), StandardOpenOption.WRITE)) {
            ch.truncate(10 * 32);
        }
        Files.delete(dir.resolve("L3"));
        try (AuditMerkleStore s = AuditMerkleStore.open(dir)) {
            assertThat(s.size()).isEqualTo(100);
            assertThat(s.root(100)).isEqualTo(AuditMerkle.root(l, 100));
            assertThat(hex(s.path(77, 100))).isEqualTo(hex(AuditMerkle.path(l, 77, 100)));
            s.truncate(37);
            assertThat(s.size()).isEqualTo(37);
            assertThat(s.root(37)).isEqualTo(AuditMerkle.root(l, 37));
            s.append(AuditMerkleTest.leaves(100).get(37));
            assertThat(s.root(38)).isEqualTo(AuditMerkle.root(l, 38));
        }
        try (AuditMerkleStore s = AuditMerkleStore.open(dir)) {
            assertThat(s.size()).isEqualTo(38);
            for (int i = 0; i < 38; i++) assertThat(hex(s.path(i, 38))).isEqualTo(hex(AuditMerkle.path(l, i, 38)));
        }
    }

    @Test
    void rebuildingTheLevelsReplacesADamagedInteriorHash() throws Exception {
        List<byte[]> l = AuditMerkleTest.leaves(9);
        try (AuditMerkleStore s = filled(dir, l)) {
            assertThat(s.root(9)).isEqualTo(AuditMerkle.root(l, 9));
        }
        Path l3 = dir.resolve("L3"); // the block of leaves 0..7
        byte[] b = Files.readAllBytes(l3);
        b[0] ^= 1;
        Files.write(l3, b);
        try (AuditMerkleStore s = AuditMerkleStore.open(dir)) {
            assertThat(s.root(9)).isNotEqualTo(AuditMerkle.root(l, 9)); // opening trusts the stored levels
            assertThat(s.rebuildLevels()).isEqualTo(AuditMerkle.root(l, 9));
            assertThat(s.root(9)).isEqualTo(AuditMerkle.root(l, 9));
            assertThat(hex(s.path(8, 9))).isEqualTo(hex(AuditMerkle.path(l, 8, 9)));
        }
    }
}
