package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checkpoints read only new records, and exports are written as they are read: a trail of several
 * pages per session (rows served by a fake session store that counts what it hands out), checked
 * against the tree recomputed from every record and against the offline verifier
 * ({@code bulwark audit verify}).
 */
class AuditStreamTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final Map<String, List<Map<String, Object>>> rows = new HashMap<>();
    /** Rows handed out, per session, and the largest single read. */
    private final Map<String, Long> read = new HashMap<>();
    private long largestRead;
    /** Whether reading a session's every row is allowed (only for the test's own recomputed tree). */
    private boolean wholeSessionsAllowed;

    private AuditRollup.Tree recomputed(AuditRollup r) throws Exception {
        wholeSessionsAllowed = true;
        try {
            return r.tree("acme");
        } finally {
            wholeSessionsAllowed = false;
        }
    }

    private void append(String session, int n) {
        List<Map<String, Object>> rs = rows.computeIfAbsent(session, s -> new ArrayList<>());
        for (int i = 0; i < n; i++) {
            long seq = rs.size() + 1;
            String prev = rs.isEmpty() ? AuditTrail.GENESIS : (String) rs.getLast().get("hash");
            String kind = seq == 1 ? "admitted" : "decision";
            String body = seq == 1 ? "{\"actor\":\"agent-" + session + "\"}" : "{\"tool\":\"t.x\",\"n\":" + seq + "}";
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("seq", seq);
            r.put("at", 1000L + seq);
            r.put("kind", kind);
            r.put("body", body);
            r.put("prev", prev);
            r.put("hash", AuditTrail.hash(prev, seq, 1000L + seq, kind, body));
            rs.add(r);
        }
    }

    private AuditRollup rollup() throws Exception {
        return new AuditRollup(dir, AuditCheckpoints.load(dir), (t, s) -> {
            if (!wholeSessionsAllowed) throw new AssertionError("every row of " + s + " was asked for");
            return rows.getOrDefault(s, List.of());
        }, (t, s, after, limit) -> {
            List<Map<String, Object>> all = rows.getOrDefault(s, List.of());
            List<Map<String, Object>> out = new ArrayList<>(all.subList((int) Math.min(after, all.size()),
                    (int) Math.min(after + limit, all.size())));
            read.merge(s, (long) out.size(), Long::sum);
            largestRead = Math.max(largestRead, out.size());
            return out;
        });
    }

    /** A writer that notes how many rows had been read when its first record line came. */
    final class Watching extends Writer {
        final StringBuilder text = new StringBuilder();
        long readAtFirstRecord = -1;

        @Override
        public void write(char[] b, int off, int len) {
            String s = new String(b, off, len);
            if (readAtFirstRecord < 0 && (s.contains("\"type\":\"record\"") || s.contains("\"class_uid\""))) {
                readAtFirstRecord = read.values().stream().mapToLong(Long::longValue).sum();
            }
            text.append(s);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    @Test
    void checkpointsReadOnlyNewRecordsAndExportsStreamWhatTheyRead() throws Exception {
        int perSession = 3 * AuditRollup.PAGE + 17;
        List<String> sessions = List.of("ses_a", "ses_b", "ses_c");
        try (AuditRollup r = rollup()) {
            for (String s : sessions) {
                r.noteSession("acme", s);
                append(s, perSession);
            }
            // The first checkpoint reads every record once, a page at a time.
            r.checkpoint("acme", 1);
            assertThat(read).containsEntry("ses_a", (long) perSession).containsEntry("ses_b", (long) perSession)
                    .containsEntry("ses_c", (long) perSession);
            assertThat(largestRead).isEqualTo(AuditRollup.PAGE);

            // New records: the next checkpoint reads exactly them.
            read.clear();
            append("ses_b", 5);
            append("ses_c", 2);
            r.checkpoint("acme", 2);
            assertThat(read).containsEntry("ses_a", 0L).containsEntry("ses_b", 5L).containsEntry("ses_c", 2L);

            // A proof of a record no checkpoint covers reads only its own session's new records (and the record).
            read.clear();
            append("ses_a", 3);
            append("ses_b", 4);
            Map<String, Object> doc = r.proofDocument("acme", "ses_a:" + (perSession + 2), 3);
            assertThat(read).containsOnlyKeys("ses_a").containsEntry("ses_a", 3L + 1);
            // ... against the tree recomputed from every record (ses_b's 4 newest are not in it yet).
            AuditRollup.Tree t = recomputed(r);
            @SuppressWarnings("unchecked")
            Map<String, Object> proof = (Map<String, Object>) doc.get("proof");
            int size = ((Number) proof.get("size")).intValue();
            assertThat(size).isEqualTo(3 * perSession + 5 + 2 + 3);
            int leaf = ((Number) proof.get("leaf")).intValue();
            assertThat(t.records().get(leaf).id()).isEqualTo("ses_a:" + (perSession + 2));
            List<String> want = new ArrayList<>();
            for (byte[] h : AuditMerkle.path(t.leaves(), leaf, size)) want.add(AuditMerkle.hex(h));
            assertThat(proof.get("path")).isEqualTo(want);
            assertThat(AuditMerkle.hex(AuditMerkle.root(t.leaves(), size)))
                    .isEqualTo(((Map<?, ?>) doc.get("checkpoint")).get("root"));

            // The export: a last checkpoint over ses_b's 4, then written while it is read.
            read.clear();
            largestRead = 0;
            Watching out = new Watching();
            r.export("acme", 4, out);
            assertThat(read).containsEntry("ses_b", 4L + perSession + 5 + 4).containsEntry("ses_a", perSession + 3L)
                    .containsEntry("ses_c", perSession + 2L);
            assertThat(largestRead).isLessThanOrEqualTo(AuditRollup.PAGE);
            // Its first record went out after the checkpoint's 4 rows and at most one page of the export's own reads.
            assertThat(out.readAtFirstRecord).isBetween(4L + 1, 4L + AuditRollup.PAGE);

            List<String> lines = out.text.toString().lines().toList();
            AuditRollup.Tree all = recomputed(r);
            int n = all.records().size();
            assertThat(n).isEqualTo(3 * perSession + 5 + 2 + 3 + 4);
            List<String> recordIds = new ArrayList<>();
            List<String> proofIds = new ArrayList<>();
            int checkpointLines = 0;
            for (String line : lines) {
                JsonNode j = JSON.readTree(line);
                switch (j.get("type").asText()) {
                    case "record" -> recordIds.add(j.get("id").asText());
                    case "proof" -> {
                        proofIds.add(j.get("record").asText());
                        assertThat(j.get("size").asInt()).isEqualTo(n);
                    }
                    case "checkpoint" -> checkpointLines++;
                    default -> assertThat(j.get("type").asText()).isEqualTo("header");
                }
            }
            List<String> leafOrder = all.records().stream().map(AuditRollup.Rec::id).toList();
            assertThat(recordIds).isEqualTo(leafOrder);
            assertThat(proofIds).isEqualTo(leafOrder);
            assertThat(checkpointLines).isEqualTo(4);
            assertThat(lines).hasSize(1 + n + 4 + n);
            // What `bulwark audit verify` checks: chains, signatures, every proof, the roots.
            AuditVerifier.Result v = AuditVerifier.verify(lines, null);
            assertThat(v.firstBroken()).isNull();
            assertThat(v.records()).isEqualTo(n);
            assertThat(v.proofs()).isEqualTo(n);
            assertThat(v.checkpoints()).isEqualTo(4);
            // One record edited: the verifier names it.
            List<String> edited = lines.stream().map(l -> l.contains("\"id\":\"ses_b:77\"") ? l.replace("\"at\":1077", "\"at\":1078") : l)
                    .toList();
            assertThat(edited).isNotEqualTo(lines);
            assertThat(AuditVerifier.verify(edited, null).firstBroken()).isEqualTo("record ses_b:77: its hash does not match its content");

            // OCSF: one event per record, in leaf order, written as read, each with its session's actor.
            read.clear();
            Watching ocsf = new Watching();
            r.exportOcsf("acme", ocsf);
            assertThat(ocsf.readAtFirstRecord).isBetween(1L, (long) AuditRollup.PAGE);
            List<String> events = ocsf.text.toString().lines().toList();
            assertThat(events).hasSize(n);
            JsonNode last = JSON.readTree(events.getLast());
            assertThat(last.get("class_uid").asInt()).isEqualTo(6003);
            assertThat(last.at("/actor/user/name").asText()).isEqualTo("agent-" + all.records().getLast().session());
        }
    }
}
