package dev.bulwark.server.governance;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The Merkle tree of the audit roll-up: RFC 6962's shape, proofs for every leaf, and what breaks them. */
class AuditMerkleTest {
    static List<byte[]> leaves(int n) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(AuditMerkle.leaf(AuditMerkle.canonical("ses_x", i + 1, 1000 + i, "k", "{}", "p", "h" + i)));
        return out;
    }

    @Test
    void theTreeHasRfc6962Shape() {
        List<byte[]> l = leaves(3);
        // Three leaves split at 2: ((0,1),2).
        assertThat(AuditMerkle.root(l, 3)).isEqualTo(AuditMerkle.node(AuditMerkle.node(l.get(0), l.get(1)), l.get(2)));
        assertThat(AuditMerkle.root(l, 1)).isEqualTo(l.get(0));
        // The leaf is domain-separated from an inner node: 0x00 prefix, not the bare hash of the text.
        String text = AuditMerkle.canonical("ses_x", 1, 1000, "k", "{}", "p", "h0");
        assertThat(AuditMerkle.hex(l.get(0))).isNotEqualTo(Canonical.sha256(text));
        assertThat(text).isEqualTo("{\"at\":L1000,\"body\":\"{}\",\"hash\":\"h0\",\"kind\":\"k\",\"prev\":\"p\",\"seq\":L1,\"session\":\"ses_x\"}");
    }

    @Test
    void everyLeafOfEveryTreeSizeHasAProofThatLeadsToTheRoot() {
        for (int n = 1; n <= 33; n++) {
            List<byte[]> l = leaves(n);
            byte[] root = AuditMerkle.root(l, n);
            for (int i = 0; i < n; i++) {
                List<byte[]> path = AuditMerkle.path(l, i, n);
                assertThat(AuditMerkle.rootFromPath(l.get(i), i, n, path)).as("n=%d i=%d", n, i).isEqualTo(root);
            }
        }
    }

    @Test
    void aChangedLeafOrPathOrIndexDoesNotLeadToTheRoot() {
        List<byte[]> l = leaves(11);
        byte[] root = AuditMerkle.root(l, 11);
        List<byte[]> path = AuditMerkle.path(l, 6, 11);
        byte[] other = AuditMerkle.leaf(AuditMerkle.canonical("ses_x", 7, 1006, "k", "{\"x\":1}", "p", "h6"));
        assertThat(AuditMerkle.rootFromPath(other, 6, 11, path)).isNotEqualTo(root);
        assertThat(AuditMerkle.rootFromPath(l.get(6), 5, 11, path)).isNotEqualTo(root);
        List<byte[]> bent = new ArrayList<>(path);
        byte[] first = bent.getFirst().clone();
        first[0] ^= 1;
        bent.set(0, first);
        assertThat(Arrays.equals(AuditMerkle.rootFromPath(l.get(6), 6, 11, bent), root)).isFalse();
        assertThat(AuditMerkle.rootFromPath(l.get(6), 6, 11, path.subList(0, path.size() - 1))).isNull();
        // A prefix of the tree has its own root: the checkpoint of size 8 is not the one of size 11.
        assertThat(AuditMerkle.root(l, 8)).isNotEqualTo(root);
    }
}
