package dev.bulwark.server.config;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a worker's outbound {@code fetch} may go. The default allows nothing: no outbound fetch at all.
 *
 * @param allow                host patterns, lower case: {@code api.example.com} (that host only),
 *                             {@code *.example.org} (any subdomain, at any depth, not the apex),
 *                             {@code *} (any host)
 * @param allowPrivateNetworks whether an allowed host may resolve to a loopback, private, link-local or
 *                             otherwise non-public address (checked by whoever connects, after resolution)
 */
public record EgressSettings(List<String> allow, boolean allowPrivateNetworks) {

    public static final EgressSettings NONE = new EgressSettings(List.of(), false);

    private static final Pattern HOST_PATTERN = Pattern.compile(
            "\\*|(\\*\\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*");

    public EgressSettings {
        allow = List.copyOf(allow);
        for (String pattern : allow) {
            if (!isHostPattern(pattern)) throw new IllegalArgumentException("not a host pattern: " + pattern);
        }
    }

    /** Whether {@code pattern} is a valid, lower-case entry of {@link #allow}. */
    public static boolean isHostPattern(String pattern) {
        return pattern.length() <= 255 && HOST_PATTERN.matcher(pattern).matches();
    }

    /** Whether {@code host} (a DNS name or IP literal, any case, optionally ending in '.') matches {@link #allow}. */
    public boolean allowsHost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        for (String pattern : allow) {
            if (pattern.equals("*")) return true;
            if (pattern.startsWith("*.") ? h.endsWith(pattern.substring(1)) : h.equals(pattern)) return true;
        }
        return false;
    }
}
