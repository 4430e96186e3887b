package dev.bulwark.server.node;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Tenant names as directory names: a safe name stays; any other becomes a hash of itself. */
final class TenantNames {
    private TenantNames() {}

    static String directoryName(String tenant) {
        if (tenant.matches("[A-Za-z0-9][A-Za-z0-9_-]{0,63}")) return tenant;
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(tenant.getBytes(StandardCharsets.UTF_8));
            return "x-" + HexFormat.of().formatHex(digest, 0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
