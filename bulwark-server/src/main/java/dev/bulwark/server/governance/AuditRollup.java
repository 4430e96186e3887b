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
import java.util.Arrays;
import java.util.HashMap;
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
 *
 * <p><b>Stored tree</b>: the leaves every stored checkpoint covers are also kept, with the tree's
 * interior hashes, in {@code governance/audit/<tenant>.tree/} ({@link AuditMerkleStore}), and the
 * checkpoints' {@code counts} give, per session, which leaf each covered record is. So proving a
 * covered record reads its session's rows and O(log n) stored hashes, and a checkpoint appends only
 * the records it adds. The store is derived data: on first use in a node it is cut back to the latest
 * checkpoint (a crash between appending leaves and storing the checkpoint), and rebuilt from the
 * records when it is missing (made before the store existed) or its root is not the checkpoint's.
 *
 * <p><b>Reading only what is new</b>: a checkpoint reads, per session, only the rows after those the
 * latest checkpoint covers, a page ({@value #PAGE} rows) at a time; the checkpoint a proof of an
 * uncovered record needs reads only that record's session. Checkpoints that cover some sessions'
 * new records and not (yet) others' are valid: the leaf order is defined by each checkpoint's
 * {@code counts}.
 * Exports are written as they are read (records and proofs a page at a time), never built whole.
 */
final class AuditRollup implements AutoCloseable {
    static final String FORMAT = "bulwark-audit-export/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final AuditCheckpoints checkpoints;
    /** (tenant, session) → the session's audit rows, oldest first (as AuditTrail.rows gives them). */
    private final BiFunction<String, String, List<Map<String, Object>>> rowsOf;
    /** At most {@code limit} rows of a session with seq above {@code afterSeq}, oldest first (AuditTrail.rowsAfter). */
    interface RowsAfter {
        List<Map<String, Object>> rows(String tenant, String session, long afterSeq, long limit);
    }

    static final int PAGE = 1024;
    private final RowsAfter rowsAfter;

    /** Per tenant: the stored tree, in step with {@link #index}'s latest checkpoint. */
    private final Map<String, AuditMerkleStore> stores = new HashMap<>();
    /** Per tenant: the stored checkpoints and which leaf each covered record is. */
    private final Map<String, Index> indexes = new HashMap<>();

    AuditRollup(Path governanceDir, AuditCheckpoints checkpoints, BiFunction<String, String, List<Map<String, Object>>> rowsOf) {
        this(governanceDir, checkpoints, rowsOf, (t, s, after, limit) -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Map<String, Object> r : rowsOf.apply(t, s)) {
                if ((Long) r.get("seq") > after && out.size() < limit) out.add(r);
            }
            return out;
        });
    }

    AuditRollup(Path governanceDir, AuditCheckpoints checkpoints, BiFunction<String, String, List<Map<String, Object>>> rowsOf,
                RowsAfter rowsAfter) {
        this.dir = governanceDir.resolve("audit");
        this.checkpoints = checkpoints;
        this.rowsOf = rowsOf;
        this.rowsAfter = rowsAfter;
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
        return checkpoint(tenant, now, null);
    }

    /**
     * The checkpoint over the new records of {@code only} (null: every session of the tenant): reads
     * only the rows after those covered, a page at a time, appending each leaf to the stored tree as it
     * comes (forced before the checkpoint is stored). O(new records · log n) hashing and writes, one
     * object call per session read (and page); never the records already covered.
     */
    private Map<String, Object> checkpoint(String tenant, long now, Set<String> only) throws IOException {
        Index ix = index(tenant);
        AuditMerkleStore store = store(tenant, null);
        long covered = ix.size();
        Set<String> read = new java.util.TreeSet<>(sessions(tenant)); // sessions not listed are not rolled up
        if (only != null) read.retainAll(only);
        {
            if (store.size() > covered) store.truncate(covered); // leaves of a checkpoint that was never stored
            Map<String, Long> counts = new TreeMap<>(ix.counts());
            long size = covered;
            for (String session : read) {
                long count = counts.getOrDefault(session, 0L);
                while (true) {
                    List<Map<String, Object>> page = rowsAfter.rows(tenant, session, count, PAGE);
                    for (Map<String, Object> r : page) {
                        store.append(rec(session, r).leaf());
                        size++;
                    }
                    count += page.size();
                    if (page.size() < PAGE) break;
                }
                if (count > 0) counts.put(session, count);
            }
            if (size == covered) return ix.latest();
            store.force();
            String root = AuditMerkle.hex(store.root(size));
            Map<String, Object> cp = checkpoints.checkpoint(tenant, size, root, now, counts);
            indexes.remove(tenant);
            return cp;
        }
    }

    private static Rec rec(String session, Map<String, Object> r) {
        return new Rec(session, (Long) r.get("seq"), (Long) r.get("at"), (String) r.get("kind"), (String) r.get("body"),
                (String) r.get("prev"), (String) r.get("hash"));
    }

    /** The stored checkpoints of the tenant and, per session, which leaf each covered record is. */
    private record Index(List<Map<String, Object>> checkpoints, Map<String, List<Segment>> segments, List<Run> runs) {
        /** Records at positions [from, to) of a session's rows are the leaves from {@code leaf} on. */
        record Segment(long leaf, long from, long to) {}

        /** The same, with its session: {@link #runs} lists them in leaf order. */
        record Run(String session, long leaf, long from, long to) {}

        @SuppressWarnings("unchecked")
        static Index of(List<Map<String, Object>> cps) {
            Map<String, List<Segment>> segments = new HashMap<>();
            List<Run> runs = new ArrayList<>();
            Map<String, Long> taken = new HashMap<>();
            long leaf = 0;
            for (Map<String, Object> cp : cps) {
                Map<String, Object> counts = cp.get("counts") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
                for (Map.Entry<String, Object> e : new TreeMap<>(counts).entrySet()) {
                    long from = taken.getOrDefault(e.getKey(), 0L);
                    long to = Math.max(from, ((Number) e.getValue()).longValue());
                    if (to > from) {
                        segments.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(new Segment(leaf, from, to));
                        runs.add(new Run(e.getKey(), leaf, from, to));
                    }
                    leaf += to - from;
                    taken.put(e.getKey(), to);
                }
            }
            return new Index(cps, segments, runs);
        }

        /** Per session, how many of its records the latest checkpoint covers. */
        @SuppressWarnings("unchecked")
        Map<String, Long> counts() {
            Map<String, Long> out = new TreeMap<>();
            if (checkpoints.isEmpty()) return out;
            if (checkpoints.getLast().get("counts") instanceof Map<?, ?> m) {
                ((Map<String, Object>) m).forEach((k, v) -> out.put(k, ((Number) v).longValue()));
            }
            return out;
        }

        Map<String, Object> latest() {
            return checkpoints.isEmpty() ? null : checkpoints.getLast();
        }

        long size() {
            return checkpoints.isEmpty() ? 0 : ((Number) checkpoints.getLast().get("size")).longValue();
        }

        /** The leaf of the session's record at {@code position} (0-based in its rows), or -1 when no checkpoint covers it. */
        long leafOf(String session, long position) {
            for (Segment g : segments.getOrDefault(session, List.of())) {
                if (position >= g.from() && position < g.to()) return g.leaf() + position - g.from();
            }
            return -1;
        }
    }

    private Index index(String tenant) throws IOException {
        Index ix = indexes.get(tenant);
        if (ix == null) {
            ix = Index.of(checkpoints.all(tenant));
            indexes.put(tenant, ix);
        }
        return ix;
    }

    /**
     * The tenant's stored tree, opened on first use: cut back to the latest checkpoint, or rebuilt
     * from the records (those of {@code known}, or read now) when it is short or its root is not the
     * checkpoint's. A rebuilt tree holds what the records give, as recomputing did before the store.
     */
    private AuditMerkleStore store(String tenant, Tree known) throws IOException {
        AuditMerkleStore s = stores.get(tenant);
        if (s != null) return s;
        Index ix = index(tenant);
        s = AuditMerkleStore.open(dir.resolve(tenant + ".tree"));
        stores.put(tenant, s);
        long size = ix.size();
        if (s.size() > size) s.truncate(size);
        // Once per tenant and node run (O(n) hashes): the levels are recomputed from the stored leaves,
        // whose root must then be the checkpoint's.
        byte[] root = s.rebuildLevels();
        if (s.size() < size || (size > 0 && !Arrays.equals(root, AuditMerkle.unhex((String) ix.latest().get("root"))))) {
            List<byte[]> leaves = (known != null ? known : tree(tenant)).leaves();
            s.truncate(0);
            for (int i = 0; i < Math.min(size, leaves.size()); i++) s.append(leaves.get(i));
            s.force();
        }
        return s;
    }

    /** The inclusion proof of record {@code id} ({@code <session>:<seq>}) in the latest checkpoint, or null. */
    synchronized Map<String, Object> prove(String tenant, String id, long now) throws IOException {
        Located at = locate(tenant, id, now);
        return at == null ? null : at.proof();
    }

    /** A record, its proof and the checkpoint the proof is in. */
    private record Located(Rec record, Map<String, Object> proof, Map<String, Object> checkpoint) {}

    /**
     * Finds the record and proves it: a record the latest checkpoint covers is found through the
     * index (its session's rows only) and proven from the stored tree; any other is first covered
     * by a new checkpoint (which reads the tenant's records).
     */
    private Located locate(String tenant, String id, long now) throws IOException {
        int colon = id.lastIndexOf(':');
        if (colon <= 0) return null;
        String session = id.substring(0, colon);
        long seq;
        try {
            seq = Long.parseLong(id.substring(colon + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        Located fast = covered(tenant, session, seq);
        if (fast != null) return fast;
        Map<String, Object> cp = checkpoint(tenant, now, Set.of(session));
        if (cp == null) return null;
        fast = covered(tenant, session, seq);
        if (fast != null) return fast;
        // Rows deleted from a session make seq and position disagree: look among every record.
        Tree t = tree(tenant);
        int size = ((Number) cp.get("size")).intValue();
        for (int i = 0; i < Math.min(size, t.records().size()); i++) {
            if (t.records().get(i).id().equals(id)) return new Located(t.records().get(i), proof(tenant, id, i, size), cp);
        }
        return null;
    }

    /** The record and its proof when the latest checkpoint covers it as the (seq − 1)-th row of its session, else null. */
    private Located covered(String tenant, String session, long seq) throws IOException {
        Index ix = index(tenant);
        long leaf = ix.leafOf(session, seq - 1);
        if (leaf < 0 || leaf >= ix.size()) return null;
        List<Map<String, Object>> rows = rowsAfter.rows(tenant, session, seq - 1, 1);
        if (rows.isEmpty()) return null;
        Map<String, Object> r = rows.getFirst();
        if (!Long.valueOf(seq).equals(r.get("seq"))) return null;
        Rec rec = rec(session, r);
        store(tenant, null);
        return new Located(rec, proof(tenant, rec.id(), leaf, ix.size()), ix.latest());
    }

    private Map<String, Object> proof(String tenant, String id, long index, long size) throws IOException {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("type", "proof");
        p.put("record", id);
        p.put("leaf", index);
        p.put("size", size);
        List<String> path = new ArrayList<>();
        for (byte[] h : store(tenant, null).path(index, size)) path.add(AuditMerkle.hex(h));
        p.put("path", path);
        return p;
    }

    /**
     * The consistency proof (RFC 6962 §2.1.2) that the tenant's tree of {@code from} leaves is a
     * prefix of its tree of {@code to} leaves (both at most the latest checkpoint's size), as
     * {@code {type, from, to, path}}; null when the sizes are not 0 < from ≤ to ≤ latest.
     */
    synchronized Map<String, Object> consistency(String tenant, long from, long to) throws IOException {
        Index ix = index(tenant);
        if (from <= 0 || from > to || to > ix.size()) return null;
        AuditMerkleStore s = store(tenant, null);
        if (to > s.size()) return null;
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("type", "consistency");
        p.put("from", from);
        p.put("to", to);
        List<String> path = new ArrayList<>();
        for (byte[] h : s.consistency(from, to)) path.add(AuditMerkle.hex(h));
        p.put("path", path);
        return p;
    }

    /** The proof as {@code bulwark audit prove} shows it: the record, the proof, the checkpoint, the key. */
    synchronized Map<String, Object> proofDocument(String tenant, String id, long now) throws IOException {
        Located at = locate(tenant, id, now);
        if (at == null) return null;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("record", at.record().toMap());
        out.put("proof", at.proof());
        out.put("checkpoint", at.checkpoint());
        out.put("publicKey", checkpoints.publicKeyBase64());
        return out;
    }

    /**
     * The tenant's export as JSONL: a header (format, tenant, the checkpoint public key), every record
     * in leaf order, every stored checkpoint (a new one first made over every session's new records),
     * and one inclusion proof per record in the latest checkpoint. Written to {@code out} as it is
     * read: records a page at a time (one object call per session and page), proofs from the stored
     * tree; nothing holds the whole trail. Records appended after that checkpoint are in the next export.
     */
    synchronized void export(String tenant, long now, java.io.Writer out) throws IOException {
        Map<String, Object> latest = checkpoint(tenant, now, null);
        Index ix = index(tenant);
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("type", "header");
        header.put("format", FORMAT);
        header.put("tenant", tenant);
        header.put("publicKey", checkpoints.publicKeyBase64());
        line(out, header);
        long size = latest == null ? 0 : ((Number) latest.get("size")).longValue();
        covered(tenant, ix, r -> line(out, r.toMap()));
        for (Map<String, Object> cp : ix.checkpoints()) line(out, cp);
        AuditMerkleStore store = store(tenant, null);
        for (Index.Run run : ix.runs()) {
            for (long p = run.from(); p < run.to(); p++) {
                long leaf = run.leaf() + p - run.from();
                if (leaf >= size) break;
                Map<String, Object> proof = new LinkedHashMap<>();
                proof.put("type", "proof");
                proof.put("record", run.session() + ":" + (p + 1));
                proof.put("leaf", leaf);
                proof.put("size", size);
                List<String> path = new ArrayList<>();
                for (byte[] h : store.path(leaf, size)) path.add(AuditMerkle.hex(h));
                proof.put("path", path);
                line(out, proof);
            }
        }
        out.flush();
    }

    /** The export as a string (tests, small tenants). */
    String export(String tenant, long now) throws IOException {
        java.io.StringWriter w = new java.io.StringWriter();
        export(tenant, now, w);
        return w.toString();
    }

    /** The covered records in leaf order, read a page at a time. */
    private void covered(String tenant, Index ix, IoConsumer<Rec> each) throws IOException {
        for (Index.Run run : ix.runs()) {
            long at = run.from();
            while (at < run.to()) {
                List<Map<String, Object>> page = rowsAfter.rows(tenant, run.session(), at, Math.min(PAGE, run.to() - at));
                if (page.isEmpty()) break; // rows missing (deleted): the verifier names what no longer fits
                for (Map<String, Object> r : page) each.accept(rec(run.session(), r));
                at += page.size();
            }
        }
    }

    interface IoConsumer<T> {
        void accept(T t) throws IOException;
    }

    /**
     * The tenant's records as OCSF API Activity events ({@link AuditOcsf}), in leaf order: those
     * checkpoints cover, then each session's newer ones. Written as read; no checkpoint is made.
     */
    synchronized void exportOcsf(String tenant, java.io.Writer out) throws IOException {
        Index ix = index(tenant);
        Map<String, String> actorOf = new HashMap<>();
        IoConsumer<Rec> write = r -> out.write(AuditOcsf.line(tenant, r, actorOf));
        covered(tenant, ix, write);
        Map<String, Long> counts = ix.counts();
        for (String session : new java.util.TreeSet<>(sessions(tenant))) {
            long count = counts.getOrDefault(session, 0L);
            while (true) {
                List<Map<String, Object>> page = rowsAfter.rows(tenant, session, count, PAGE);
                for (Map<String, Object> r : page) write.accept(rec(session, r));
                count += page.size();
                if (page.size() < PAGE) break;
            }
        }
        out.flush();
    }

    String exportOcsf(String tenant) throws IOException {
        java.io.StringWriter w = new java.io.StringWriter();
        exportOcsf(tenant, w);
        return w.toString();
    }

    private static void line(java.io.Writer out, Map<String, Object> m) throws IOException {
        out.write(JSON.writeValueAsString(m));
        out.write('\n');
    }

    /** Closes the stored trees (the node calls this through {@code Governance.close}). */
    @Override
    public synchronized void close() throws IOException {
        for (AuditMerkleStore s : stores.values()) s.close();
        stores.clear();
    }
}
