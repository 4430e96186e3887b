package dev.bulwark.server.governance;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The roll-up with its stored tree: proofs equal those recomputed from every record, a lost or
 * damaged store is rebuilt, checkpoints are consistent with each other, a tampered record fails.
 */
class AuditRollupStoreTest {
    @TempDir
    Path dir;

    /** Sessions' rows as AuditTrail keeps them: seq from 1, chained. */
    private final Map<String, List<Map<String, Object>>> rows = new HashMap<>();

    private void append(String session, int n) {
        List<Map<String, Object>> rs = rows.computeIfAbsent(session, s -> new ArrayList<>());
        for (int i = 0; i < n; i++) {
            long seq = rs.size() + 1;
            String prev = rs.isEmpty() ? "0".repeat(64) : (String) rs.getLast().get("hash");
            String body = "{\"n\":" + seq + "}";
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("seq", seq);
            r.put("at", 1000L + seq);
            r.put("kind", "decision");
            r.put("body", body);
            r.put("prev", prev);
            r.put("hash", AuditTrail.hash(prev, seq, 1000L + seq, "decision", body));
            rs.add(r);
        }
    }

    private AuditRollup rollup() throws Exception {
        return new AuditRollup(dir, AuditCheckpoints.load(dir), (t, s) -> rows.getOrDefault(s, List.of()));
    }

    private void admit(AuditRollup r, String session) throws Exception {
        r.noteSession("acme", session);
        rows.put(session, new ArrayList<>());
    }

    /** The proof of every record recomputed from all leaves, the way the roll-up did before the store. */
    @SuppressWarnings("unchecked")
    private static void assertProofsAreTheRecomputedOnes(AuditRollup r) throws Exception {
        AuditRollup.Tree t = r.tree("acme");
        Map<String, Object> cp = t.checkpoints().getLast();
        int size = ((Number) cp.get("size")).intValue();
        byte[] root = AuditMerkle.unhex((String) cp.get("root"));
        assertThat(AuditMerkle.root(t.leaves(), size)).isEqualTo(root);
        for (int i = 0; i < size; i++) {
            Map<String, Object> doc = r.proofDocument("acme", t.records().get(i).id(), 0);
            Map<String, Object> proof = (Map<String, Object>) doc.get("proof");
            assertThat(proof.get("leaf")).isEqualTo((long) i);
            assertThat(proof.get("size")).isEqualTo((long) size);
            List<String> want = new ArrayList<>();
            for (byte[] h : AuditMerkle.path(t.leaves(), i, size)) want.add(AuditMerkle.hex(h));
            assertThat(proof.get("path")).as("record %s", t.records().get(i).id()).isEqualTo(want);
            assertThat(((Map<String, Object>) doc.get("record")).get("id")).isEqualTo(t.records().get(i).id());
            assertThat(doc.get("checkpoint")).isEqualTo(cp);
        }
    }

    @Test
    void proofsFromTheStoredTreeEqualTheRecomputedOnesAcrossCheckpoints() throws Exception {
        try (AuditRollup r = rollup()) {
            admit(r, "ses_a");
            admit(r, "ses_b");
            append("ses_a", 3);
            append("ses_b", 4);
            r.checkpoint("acme", 1);
            append("ses_a", 2);
            admit(r, "ses_c");
            append("ses_c", 1);
            r.checkpoint("acme", 2);
            append("ses_b", 990); // 1,000 records in all
            r.checkpoint("acme", 3);
            assertProofsAreTheRecomputedOnes(r);
            assertThat(r.tree("acme").checkpoints()).hasSize(3);
            // A proof of a covered record makes no new checkpoint; one of a record no checkpoint covers does.
            append("ses_c", 1);
            r.proofDocument("acme", "ses_a:1", 4);
            assertThat(r.tree("acme").checkpoints()).hasSize(3);
            Map<String, Object> doc = r.proofDocument("acme", "ses_c:2", 5);
            assertThat(doc).isNotNull();
            assertThat(r.tree("acme").checkpoints()).hasSize(4);
            assertProofsAreTheRecomputedOnes(r);
            assertThat(r.proofDocument("acme", "ses_c:3", 6)).isNull();
            assertThat(r.proofDocument("acme", "ses_zz:1", 6)).isNull();
        }
    }

    @Test
    void aLostOrDamagedStoreIsRebuiltFromTheRecords() throws Exception {
        try (AuditRollup r = rollup()) {
            admit(r, "ses_a");
            append("ses_a", 9);
            r.checkpoint("acme", 1);
        }
        // A tenant checkpointed before the store existed: no tree directory.
        try (Stream<Path> files = Files.walk(dir.resolve("audit/acme.tree"))) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        try (AuditRollup r = rollup()) {
            assertProofsAreTheRecomputedOnes(r);
        }
        // A damaged leaf in the store: its root is not the checkpoint's, so it is rebuilt.
        Path l0 = dir.resolve("audit/acme.tree/L0");
        byte[] b = Files.readAllBytes(l0);
        b[40] ^= 1;
        Files.write(l0, b);
        try (AuditRollup r = rollup()) {
            assertProofsAreTheRecomputedOnes(r);
        }
    }

    @Test
    void consistencyProofsLinkEveryCheckpointToTheLatest() throws Exception {
        try (AuditRollup r = rollup()) {
            admit(r, "ses_a");
            admit(r, "ses_b");
            for (int round = 1; round <= 6; round++) {
                append("ses_a", round);
                append("ses_b", 7 - round);
                r.checkpoint("acme", round);
            }
            List<Map<String, Object>> cps = r.tree("acme").checkpoints();
            Map<String, Object> last = cps.getLast();
            long n = (Long) last.get("size");
            for (Map<String, Object> cp : cps) {
                long m = (Long) cp.get("size");
                Map<String, Object> p = r.consistency("acme", m, n);
                assertThat(p).containsEntry("from", m).containsEntry("to", n);
                List<byte[]> path = new ArrayList<>();
                for (Object h : (List<?>) p.get("path")) path.add(AuditMerkle.unhex((String) h));
                assertThat(AuditMerkle.consistent(m, n, AuditMerkle.unhex((String) cp.get("root")),
                        AuditMerkle.unhex((String) last.get("root")), path)).as("from %d", m).isTrue();
            }
            assertThat(r.consistency("acme", 0, n)).isNull();
            assertThat(r.consistency("acme", 3, n + 1)).isNull();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aRecordEditedAfterItsCheckpointNoLongerLeadsToTheRoot() throws Exception {
        try (AuditRollup r = rollup()) {
            admit(r, "ses_a");
            append("ses_a", 8);
            Map<String, Object> cp = r.checkpoint("acme", 1);
            // The row edited and its hash recomputed by someone without the key (the chain link to it stays).
            Map<String, Object> row = rows.get("ses_a").get(4);
            row.put("body", "{\"n\":999}");
            row.put("hash", AuditTrail.hash((String) row.get("prev"), 5, (Long) row.get("at"), "decision", "{\"n\":999}"));
            Map<String, Object> doc = r.proofDocument("acme", "ses_a:5", 2);
            Map<String, Object> rec = (Map<String, Object>) doc.get("record");
            Map<String, Object> proof = (Map<String, Object>) doc.get("proof");
            byte[] leaf = AuditMerkle.leaf(AuditMerkle.canonical("ses_a", 5, (Long) rec.get("at"), (String) rec.get("kind"),
                    (String) rec.get("body"), (String) rec.get("prev"), (String) rec.get("hash")));
            List<byte[]> path = new ArrayList<>();
            for (Object h : (List<?>) proof.get("path")) path.add(AuditMerkle.unhex((String) h));
            assertThat(AuditMerkle.hex(AuditMerkle.rootFromPath(leaf, 4, 8, path))).isNotEqualTo(cp.get("root"));
            // An untouched record still proves.
            Map<String, Object> ok = (Map<String, Object>) r.proofDocument("acme", "ses_a:2", 2).get("proof");
            Map<String, Object> okRec = rows.get("ses_a").get(1);
            byte[] okLeaf = AuditMerkle.leaf(AuditMerkle.canonical("ses_a", 2, (Long) okRec.get("at"), "decision",
                    (String) okRec.get("body"), (String) okRec.get("prev"), (String) okRec.get("hash")));
            List<byte[]> okPath = new ArrayList<>();
            for (Object h : (List<?>) ok.get("path")) okPath.add(AuditMerkle.unhex((String) h));
            assertThat(AuditMerkle.hex(AuditMerkle.rootFromPath(okLeaf, 1, 8, okPath))).isEqualTo(cp.get("root"));
        }
    }
}
