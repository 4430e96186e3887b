package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;

/**
 * The per-tenant roll-up of the session audit chains into one Merkle tree ({@link AuditMerkle})
 * with signed checkpoints ({@link AuditCheckpoints}).
 *
 * <p><b>Leaf order</b> (what makes the tree append-only): each checkpoint stores, unsigned, how many
 * records of each session it covers ({@code counts}). The leaves are, checkpoint after checkpoint,
 * the records each session gained since the previous checkpoint (sessions in id order, records in
 * seq order); records no checkpoint covers yet follow in the same way. So every stored checkpoint
 * stays a prefix of the tree, and its root can be recomputed from today's records.
 *
 * <p>The tenant's sessions are listed in {@code governance/audit/<tenant>.sessions} (one id a line,
 * appended on admission); sessions admitted before this file existed are not rolled up.
 */
final class AuditRollup {
    static final String FORMAT = "bulwark-audit-export/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final AuditCheckpoints checkpoints;
    /** (tenant, session) → the session's audit rows, oldest first (as AuditTrail.rows gives them). */
    private final BiFunction<String, String, List<Map<String, Object>>> rowsOf;

    AuditRollup(Path governanceDir, AuditCheckpoints checkpoints, BiFunction<String, String, List<Map<String, Object>>> rowsOf) {
        this.dir = governanceDir.resolve("audit");
        this.checkpoints = checkpoints;
        this.rowsOf = rowsOf;
    }

    /** Notes a new session of the tenant (forced to disk before the admission answers). */
    synchronized void noteSession(String tenant, String session) throws IOException {
        Files.createDirectories(dir);
        try (FileChannel ch = FileChannel.open(dir.resolve(tenant + ".sessions"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap((session + "\n").getBytes(StandardCharsets.US_ASCII)));
            ch.force(true);
        }
    }

    private Set<String> sessions(String tenant) throws IOException {
        Path f = dir.resolve(tenant + ".sessions");
        Set<String> out = new LinkedHashSet<>();
        if (Files.exists(f)) {
            for (String s : Files.readAllLines(f, StandardCharsets.US_ASCII)) if (!s.isBlank()) out.add(s.trim());
        }
        return out;
    }

    /** One record as it is exported: its id and the row's columns. */
    record Rec(String session, long seq, long at, String kind, String body, String prev, String hash) {
        String id() {
            return session + ":" + seq;
        }

        byte[] leaf() {
            return AuditMerkle.leaf(AuditMerkle.canonical(session, seq, at, kind, body, prev, hash));
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "record");
            m.put("id", id());
            m.put("session", session);
            m.put("seq", seq);
            m.put("at", at);
            m.put("kind", kind);
            m.put("body", body);
            m.put("prev", prev);
            m.put("hash", hash);
            return m;
        }
    }

    /** The tenant's tree: records in leaf order, their leaves, the stored checkpoints. */
    record Tree(List<Rec> records, List<byte[]> leaves, List<Map<String, Object>> checkpoints) {}

    @SuppressWarnings("unchecked")
    synchronized Tree tree(String tenant) throws IOException {
        Map<String, List<Rec>> bySession = new TreeMap<>();
        for (String s : sessions(tenant)) {
            List<Rec> recs = new ArrayList<>();
            for (Map<String, Object> r : rowsOf.apply(tenant, s)) {
                recs.add(new Rec(s, (Long) r.get("seq"), (Long) r.get("at"), (String) r.get("kind"), (String) r.get("body"),
                        (String) r.get("prev"), (String) r.get("hash")));
            }
            bySession.put(s, recs);
        }
        List<Map<String, Object>> cps = checkpoints.all(tenant);
        List<Rec> order = new ArrayList<>();
        Map<String, Integer> taken = new TreeMap<>();
        for (Map<String, Object> cp : cps) {
            Map<String, Object> counts = cp.get("counts") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
            for (Map.Entry<String, Object> e : new TreeMap<>(counts).entrySet()) {
                List<Rec> recs = bySession.getOrDefault(e.getKey(), List.of());
                int from = taken.getOrDefault(e.getKey(), 0);
                int to = Math.min(((Number) e.getValue()).intValue(), recs.size());
                for (int i = from; i < to; i++) order.add(recs.get(i));
                taken.put(e.getKey(), Math.max(from, to));
            }
        }
        for (Map.Entry<String, List<Rec>> e : bySession.entrySet()) {
            List<Rec> recs = e.getValue();
            for (int i = taken.getOrDefault(e.getKey(), 0); i < recs.size(); i++) order.add(recs.get(i));
        }
        List<byte[]> leaves = new ArrayList<>(order.size());
        for (Rec r : order) leaves.add(r.leaf());
        return new Tree(order, leaves, cps);
    }

    /**
     * Signs and stores a checkpoint over every record of the tenant now, unless the latest one
     * already covers them all; returns the latest checkpoint (null when the tenant has no record).
     */
    synchronized Map<String, Object> checkpoint(String tenant, long now) throws IOException {
        Tree t = tree(tenant);
        Map<String, Object> last = t.checkpoints().isEmpty() ? null : t.checkpoints().getLast();
        if (t.leaves().isEmpty()) return last;
        if (last != null && ((Number) last.get("size")).intValue() == t.leaves().size()) return last;
        Map<String, Long> counts = new TreeMap<>();
        for (Rec r : t.records()) counts.merge(r.session(), 1L, Long::sum);
        String root = AuditMerkle.hex(AuditMerkle.root(t.leaves(), t.leaves().size()));
        return checkpoints.checkpoint(tenant, t.leaves().size(), root, now, counts);
    }

    /** The inclusion proof of record {@code id} ({@code <session>:<seq>}) in the latest checkpoint, or null. */
    synchronized Map<String, Object> prove(String tenant, String id, long now) throws IOException {
        Map<String, Object> cp = checkpoint(tenant, now);
        if (cp == null) return null;
        Tree t = tree(tenant);
        int size = ((Number) cp.get("size")).intValue();
        for (int i = 0; i < Math.min(size, t.records().size()); i++) {
            if (t.records().get(i).id().equals(id)) return proof(t, i, size, cp);
        }
        return null;
    }

    private Map<String, Object> proof(Tree t, int index, int size, Map<String, Object> cp) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("type", "proof");
        p.put("record", t.records().get(index).id());
        p.put("leaf", (long) index);
        p.put("size", (long) size);
        List<String> path = new ArrayList<>();
        for (byte[] h : AuditMerkle.path(t.leaves(), index, size)) path.add(AuditMerkle.hex(h));
        p.put("path", path);
        return p;
    }

    /** The proof as {@code bulwark audit prove} shows it: the record, the proof, the checkpoint, the key. */
    synchronized Map<String, Object> proofDocument(String tenant, String id, long now) throws IOException {
        Map<String, Object> proof = prove(tenant, id, now);
        if (proof == null) return null;
        Tree t = tree(tenant);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("record", t.records().get(((Number) proof.get("leaf")).intValue()).toMap());
        out.put("proof", proof);
        out.put("checkpoint", t.checkpoints().getLast());
        out.put("publicKey", checkpoints.publicKeyBase64());
        return out;
    }

    /**
     * The tenant's export as JSONL: a header (format, tenant, the checkpoint public key), every record
     * in leaf order, every stored checkpoint (a new one first made if records are not covered), and
     * one inclusion proof per record in the latest checkpoint.
     */
    synchronized String export(String tenant, long now) throws IOException {
        Map<String, Object> latest = checkpoint(tenant, now);
        Tree t = tree(tenant);
        StringBuilder out = new StringBuilder();
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("type", "header");
        header.put("format", FORMAT);
        header.put("tenant", tenant);
        header.put("publicKey", checkpoints.publicKeyBase64());
        line(out, header);
        for (Rec r : t.records()) line(out, r.toMap());
        for (Map<String, Object> cp : t.checkpoints()) line(out, cp);
        if (latest != null) {
            int size = ((Number) latest.get("size")).intValue();
            for (int i = 0; i < Math.min(size, t.records().size()); i++) line(out, proof(t, i, size, latest));
        }
        return out.toString();
    }

    /** The tenant's records as OCSF API Activity events ({@link AuditOcsf}), in leaf order. */
    synchronized String exportOcsf(String tenant) throws IOException {
        return AuditOcsf.export(tenant, tree(tenant).records());
    }

    private static void line(StringBuilder out, Map<String, Object> m) {
        try {
            out.append(JSON.writeValueAsString(m)).append('\n');
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
