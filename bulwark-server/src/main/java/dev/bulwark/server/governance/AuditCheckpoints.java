package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Signed checkpoints of a tenant's audit Merkle tree. The node's checkpoint key is an Ed25519 key of
 * its own beside the envelope key ({@code governance/audit.key}, PKCS#8, owner-only;
 * {@code audit.pub}, X.509), so rotating one does not touch the other. Checkpoints are appended, one
 * JSON line each and forced to disk, to {@code governance/audit/<tenant>.checkpoints.jsonl}.
 *
 * <p>What is signed is the UTF-8 text {@code "bulwark-audit-checkpoint/1\n" tenant "\n" size "\n"
 * root-hex "\n" at}: nothing else in the line is covered by the signature.
 */
final class AuditCheckpoints {
    static final String DOMAIN = "bulwark-audit-checkpoint/1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_-]{0,62}");
    private static final Base64.Encoder B64 = Base64.getEncoder();

    private final Path dir;
    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private AuditCheckpoints(Path dir, PrivateKey privateKey, PublicKey publicKey) {
        this.dir = dir;
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /** Loads (or makes on first use) the checkpoint key under {@code governanceDir}. */
    static AuditCheckpoints load(Path governanceDir) throws IOException {
        try {
            KeyPair pair = KeyFiles.ed25519(governanceDir, "audit");
            return new AuditCheckpoints(governanceDir.resolve("audit"), pair.getPrivate(), pair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IOException("the audit checkpoint key in " + governanceDir + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** The public key, X.509 DER in base64 (what an export carries and a verifier may pin). */
    String publicKeyBase64() {
        return B64.encodeToString(publicKey.getEncoded());
    }

    static byte[] signedText(String tenant, long size, String root, long at) {
        return (DOMAIN + "\n" + tenant + "\n" + size + "\n" + root + "\n" + at).getBytes(StandardCharsets.UTF_8);
    }

    /** Signs a checkpoint of the tenant's tree (size leaves, root) and appends it durably; returns it. */
    synchronized Map<String, Object> checkpoint(String tenant, long size, String root, long at, Map<String, Long> counts)
            throws IOException {
        if (!TENANT.matcher(tenant).matches()) throw new IllegalArgumentException("bad tenant");
        Map<String, Object> cp = new LinkedHashMap<>();
        cp.put("type", "checkpoint");
        cp.put("tenant", tenant);
        cp.put("size", size);
        cp.put("root", root);
        cp.put("at", at);
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(privateKey);
            s.update(signedText(tenant, size, root, at));
            cp.put("signature", B64.encodeToString(s.sign()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
        cp.put("counts", counts); // not signed: the leaf order it gives is checked through the root
        Files.createDirectories(dir);
        try (var ch = java.nio.channels.FileChannel.open(file(tenant), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ch.write(java.nio.ByteBuffer.wrap((JSON.writeValueAsString(cp) + "\n").getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        return cp;
    }

    /** Every checkpoint stored for the tenant, oldest first. */
    @SuppressWarnings("unchecked")
    synchronized List<Map<String, Object>> all(String tenant) throws IOException {
        if (!TENANT.matcher(tenant).matches()) throw new IllegalArgumentException("bad tenant");
        Path f = file(tenant);
        List<Map<String, Object>> out = new ArrayList<>();
        if (!Files.exists(f)) return out;
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) out.add(longs(JSON.readValue(line, Map.class)));
        }
        return out;
    }

    /** Jackson reads small numbers as Integer; the node's JSON values hold integers as Long. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> longs(Map<String, Object> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, switch (v) {
            case Integer i -> (long) i;
            case Map<?, ?> inner -> longs((Map<String, Object>) inner);
            default -> v;
        }));
        return out;
    }

    private Path file(String tenant) {
        return dir.resolve(tenant + ".checkpoints.jsonl");
    }

    /** Whether {@code signatureBase64} is the key's signature of the checkpoint's text. */
    static boolean verify(PublicKey key, String tenant, long size, String root, long at, String signatureBase64) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(signedText(tenant, size, root, at));
            return s.verify(Base64.getDecoder().decode(signatureBase64));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            return false;
        }
    }

    static PublicKey publicKey(String base64) {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64.trim())));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            return null;
        }
    }
}
