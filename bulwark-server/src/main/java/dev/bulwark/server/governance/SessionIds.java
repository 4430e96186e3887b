package dev.bulwark.server.governance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The session ids this node issues: {@code ses_} + 12 random bytes + a MAC of the tenant and those
 * bytes under the node's own key. A forged id, or another tenant's, is refused (404) without
 * touching storage; the key lives in the governance directory so ids outlive restarts.
 */
final class SessionIds {
    private static final Pattern SESSION_ID = Pattern.compile("ses_[0-9a-f]{40}");
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_-]{0,62}");

    private final byte[] key;

    private SessionIds(byte[] key) {
        this.key = key;
    }

    /** The ids keyed by {@code file}, made (owner-only) on first use. */
    static SessionIds load(Path file) throws IOException {
        if (Files.exists(file)) return new SessionIds(Files.readAllBytes(file));
        byte[] key = new byte[32];
        Governance.RANDOM.nextBytes(key);
        KeyFiles.writeOwnerOnly(file, key);
        return new SessionIds(key);
    }

    /** A new session id of {@code tenant}. */
    String issue(String tenant) {
        byte[] random = new byte[12];
        Governance.RANDOM.nextBytes(random);
        return "ses_" + HexFormat.of().formatHex(random) + mac(tenant, random);
    }

    /** {@code id} if it is a session id this node issued for {@code tenant}; else 404 (storage untouched). */
    String known(String tenant, String id) {
        checkTenant(tenant);
        if (id == null || !SESSION_ID.matcher(id).matches()) throw notFound();
        byte[] random = HexFormat.of().parseHex(id, 4, 28);
        if (!MessageDigest.isEqual(mac(tenant, random).getBytes(StandardCharsets.US_ASCII),
                id.substring(28).getBytes(StandardCharsets.US_ASCII))) {
            throw notFound();
        }
        return id;
    }

    private String mac(String tenant, byte[] random) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(tenant.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            return HexFormat.of().formatHex(mac.doFinal(random), 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing", e);
        }
    }

    static void checkTenant(String tenant) {
        if (tenant == null || !TENANT.matcher(tenant).matches()) throw new IllegalArgumentException("not a tenant name: " + tenant);
    }

    static GovernanceException notFound() {
        return GovernanceException.of(404, "not_found", "no such session");
    }
}
