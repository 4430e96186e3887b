package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks an audit export ({@link AuditRollup#export}) offline and names the first broken link, in
 * this order: the header; each record's hash chain (file order, per session: seq, prev, hash);
 * each checkpoint's signature; each proof (the record it names is the leaf it says, and its path
 * leads to the root of the checkpoint of its size); each checkpoint's root recomputed from the
 * records (catches records added or left out). A verifier that pins the node's key
 * ({@code publicKey}) does not trust the key the export carries.
 */
public final class AuditVerifier {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AuditVerifier() {}

    /** The outcome: {@code firstBroken} is null when everything holds. */
    public record Result(int records, int checkpoints, int proofs, String firstBroken) {
        public boolean ok() {
            return firstBroken == null;
        }
    }

    /**
     * Verifies the export's lines.
     *
     * @param pinnedKey the node's checkpoint public key (X.509 DER, base64), or null to use the export's
     */
    public static Result verify(List<String> lines, String pinnedKey) {
        List<JsonNode> records = new ArrayList<>(), cps = new ArrayList<>(), proofs = new ArrayList<>();
        JsonNode header = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (Exception e) {
                return broken(0, 0, 0, "line " + (i + 1) + ": not JSON");
            }
            String type = n.path("type").asText("");
            switch (type) {
                case "header" -> {
                    if (header != null) return broken(0, 0, 0, "line " + (i + 1) + ": a second header");
                    header = n;
                }
                case "record" -> records.add(n);
                case "checkpoint" -> cps.add(n);
                case "proof" -> proofs.add(n);
                default -> {
                    return broken(0, 0, 0, "line " + (i + 1) + ": unknown line type '" + type + "'");
                }
            }
        }
        int r = records.size(), c = cps.size(), p = proofs.size();
        if (header == null || !AuditRollup.FORMAT.equals(header.path("format").asText())) {
            return broken(r, c, p, "header: missing or not " + AuditRollup.FORMAT);
        }
        String tenant = header.path("tenant").asText();
        String keyText = pinnedKey != null ? pinnedKey : header.path("publicKey").asText();
        if (pinnedKey != null && !pinnedKey.trim().equals(header.path("publicKey").asText())) {
            return broken(r, c, p, "header: the export's public key is not the pinned key");
        }
        PublicKey key = AuditCheckpoints.publicKey(keyText);
        if (key == null) return broken(r, c, p, "header: the public key is not an Ed25519 key");

        // 1. the hash chains
        Map<String, Long> lastSeq = new HashMap<>();
        Map<String, String> lastHash = new HashMap<>();
        Map<String, Integer> leafOf = new HashMap<>();
        List<byte[]> leaves = new ArrayList<>();
        for (JsonNode rec : records) {
            String session = rec.path("session").asText();
            long seq = rec.path("seq").asLong();
            long at = rec.path("at").asLong();
            String kind = rec.path("kind").asText(), body = rec.path("body").asText();
            String prev = rec.path("prev").asText(), hash = rec.path("hash").asText();
            String id = session + ":" + seq;
            if (!id.equals(rec.path("id").asText())) return broken(r, c, p, "record " + rec.path("id").asText() + ": its id is not session:seq");
            if (seq != lastSeq.getOrDefault(session, 0L) + 1) {
                return broken(r, c, p, "record " + id + ": out of sequence (expected seq " + (lastSeq.getOrDefault(session, 0L) + 1) + ")");
            }
            if (!prev.equals(lastHash.getOrDefault(session, AuditTrail.GENESIS))) {
                return broken(r, c, p, "record " + id + ": its prev is not the previous record's hash");
            }
            if (!AuditTrail.hash(prev, seq, at, kind, body).equals(hash)) {
                return broken(r, c, p, "record " + id + ": its hash does not match its content");
            }
            lastSeq.put(session, seq);
            lastHash.put(session, hash);
            leafOf.put(id, leaves.size());
            leaves.add(AuditMerkle.leaf(AuditMerkle.canonical(session, seq, at, kind, body, prev, hash)));
        }
        // 2. the checkpoint signatures
        Map<Long, String> rootOfSize = new HashMap<>();
        for (int i = 0; i < cps.size(); i++) {
            JsonNode cp = cps.get(i);
            long size = cp.path("size").asLong();
            String root = cp.path("root").asText();
            if (size < 0 || size > Integer.MAX_VALUE) return broken(r, c, p, "checkpoint " + (i + 1) + ": its size is out of range");
            if (!tenant.equals(cp.path("tenant").asText())
                    || !AuditCheckpoints.verify(key, cp.path("tenant").asText(), size, root, cp.path("at").asLong(), cp.path("signature").asText())) {
                return broken(r, c, p, "checkpoint " + (i + 1) + " (size " + size + "): its signature does not verify");
            }
            rootOfSize.put(size, root);
        }
        // 3. the inclusion proofs
        for (JsonNode proof : proofs) {
            String id = proof.path("record").asText();
            int leaf = proof.path("leaf").asInt(-1);
            long size = proof.path("size").asLong();
            Integer actual = leafOf.get(id);
            if (actual == null || actual != leaf) return broken(r, c, p, "proof of record " + id + ": no such record at leaf " + leaf);
            String root = rootOfSize.get(size);
            if (root == null) return broken(r, c, p, "proof of record " + id + ": no checkpoint of size " + size);
            List<byte[]> path = new ArrayList<>();
            try {
                for (JsonNode h : proof.path("path")) path.add(AuditMerkle.unhex(h.asText()));
            } catch (IllegalArgumentException e) {
                return broken(r, c, p, "proof of record " + id + ": a path hash is not hex");
            }
            byte[] got = size > Integer.MAX_VALUE ? null : AuditMerkle.rootFromPath(leaves.get(leaf), leaf, (int) size, path);
            if (got == null || !Arrays.equals(got, unhexOrEmpty(root))) {
                return broken(r, c, p, "record " + id + ": not included in checkpoint of size " + size + " (its proof fails)");
            }
        }
        // 4. the checkpoint roots from the records
        for (int i = 0; i < cps.size(); i++) {
            JsonNode cp = cps.get(i);
            long size = cp.path("size").asLong();
            if (size > leaves.size()) {
                return broken(r, c, p, "checkpoint " + (i + 1) + " (size " + size + "): covers more records than the export has (" + leaves.size() + ")");
            }
            if (!Arrays.equals(AuditMerkle.root(leaves, (int) size), unhexOrEmpty(cp.path("root").asText()))) {
                return broken(r, c, p, "checkpoint " + (i + 1) + " (size " + size + "): its root does not match the records");
            }
        }
        return new Result(r, c, p, null);
    }

    private static byte[] unhexOrEmpty(String s) {
        try {
            return AuditMerkle.unhex(s);
        } catch (IllegalArgumentException e) {
            return new byte[0];
        }
    }

    private static Result broken(int r, int c, int p, String what) {
        return new Result(r, c, p, what);
    }
}
