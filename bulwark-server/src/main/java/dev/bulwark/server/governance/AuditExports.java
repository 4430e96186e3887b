package dev.bulwark.server.governance;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The audit trails as operators read them: one session's trail with its first broken link, the
 * tenant's export (JSONL with signed checkpoints and inclusion proofs, or OCSF events) written as
 * it is read, and the inclusion proof of one record. It owns the tenant's roll-up of its sessions'
 * trails ({@link AuditRollup}), which reads the rows from the session objects.
 */
final class AuditExports implements AutoCloseable {
    private final Governance gov;
    private final AuditRollup rollup;

    AuditExports(Governance gov, Path governanceDir) throws IOException {
        this.gov = gov;
        this.rollup = new AuditRollup(governanceDir, AuditCheckpoints.load(governanceDir), this::rows, this::rowsAfter);
    }

    /** A session admitted now: its trail is part of the tenant's exports from now on. */
    void noteSession(String tenant, String id) {
        try {
            rollup.noteSession(tenant, id);
        } catch (IOException e) {
            throw new UncheckedIOException("the tenant's audit session list cannot be written", e);
        }
    }

    /** See {@link Governance#audit}. */
    @SuppressWarnings("unchecked")
    Map<String, Object> trail(String tenant, String id) {
        gov.session(tenant, id);
        List<Map<String, Object>> rows = (List<Map<String, Object>>) ((Map<String, Object>) gov.stub(tenant, id).call("audit"))
                .get("rows");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("session", id);
        out.put("rows", rows);
        out.put("firstBroken", AuditTrail.firstBroken(rows));
        return out;
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> rows(String tenant, String id) {
        Object out = gov.stub(tenant, id).call("audit");
        return out instanceof Map<?, ?> m && m.get("rows") instanceof List<?> rows ? (List<Map<String, Object>>) rows : List.of();
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> rowsAfter(String tenant, String id, long afterSeq, long limit) {
        Object out = gov.stub(tenant, id).call("auditAfter", afterSeq, limit);
        return out instanceof Map<?, ?> m && m.get("rows") instanceof List<?> rows ? (List<Map<String, Object>>) rows : List.of();
    }

    /** See {@link Governance#auditExport(String, OutputStream)}. */
    void export(String tenant, OutputStream out) throws IOException {
        SessionIds.checkTenant(tenant);
        Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 64 << 10);
        rollup.export(tenant, gov.now(), w);
        w.flush();
    }

    /** See {@link Governance#auditExportOcsf(String, OutputStream)}. */
    void exportOcsf(String tenant, OutputStream out) throws IOException {
        SessionIds.checkTenant(tenant);
        Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 64 << 10);
        rollup.exportOcsf(tenant, w);
        w.flush();
    }

    /** See {@link Governance#auditExport(String)}. */
    String export(String tenant) {
        SessionIds.checkTenant(tenant);
        try {
            return rollup.export(tenant, gov.now());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** See {@link Governance#auditExportOcsf(String)}. */
    String exportOcsf(String tenant) {
        SessionIds.checkTenant(tenant);
        try {
            return rollup.exportOcsf(tenant);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** See {@link Governance#auditProof}. */
    Map<String, Object> proof(String tenant, String recordId) {
        SessionIds.checkTenant(tenant);
        int colon = recordId == null ? -1 : recordId.indexOf(':');
        if (colon < 0) throw SessionIds.notFound();
        gov.known(tenant, recordId.substring(0, colon));
        try {
            Map<String, Object> doc = rollup.proofDocument(tenant, recordId, gov.now());
            if (doc == null) throw SessionIds.notFound();
            return doc;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        rollup.close();
    }
}
