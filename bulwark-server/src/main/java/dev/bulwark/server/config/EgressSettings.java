package dev.bulwark.server.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a worker's outbound {@code fetch} may go. The default allows nothing: no outbound fetch at all.
 *
 * @param allow                  host patterns, lower case: {@code api.example.com} (that host only),
 *                               {@code *.example.org} (any subdomain, at any depth, not the apex),
 *                               {@code *} (any host); each allows any HTTP(S) request to a matching host
 *                               (never a {@code connect()}: raw TCP needs a rule naming {@code tcp})
 * @param allowPrivateNetworks   whether an allowed host may resolve to a private (RFC 1918, unique
 *                               local), link-local or carrier-grade NAT address. Never loopback, this
 *                               host's own addresses, cloud metadata or reserved ranges
 * @param rules                  finer allowlist entries (scheme, host, port, path prefix, method, per
 *                               worker or tenant); a request is allowed when {@code allow} or any rule allows it
 * @param testOnlyAllowLoopback  TESTS ONLY: let allowed requests reach loopback addresses (a local test
 *                               upstream). Never set in production: it opens the node's own ports to workers
 * @param maxResponseBytes       largest upstream response body passed to a worker (counted while streaming)
 * @param timeoutMs              longest one outbound request may take, head and body
 * @param maxConcurrent          outbound requests in flight in the whole node
 * @param maxConcurrentPerTenant outbound requests in flight for one tenant
 */
public record EgressSettings(List<String> allow, boolean allowPrivateNetworks, List<EgressRule> rules,
                             boolean testOnlyAllowLoopback, long maxResponseBytes, long timeoutMs, int maxConcurrent,
                             int maxConcurrentPerTenant) {

    public static final long DEFAULT_MAX_RESPONSE_BYTES = 1L << 30;
    public static final long DEFAULT_TIMEOUT_MS = 120_000;
    public static final int DEFAULT_MAX_CONCURRENT = 256;
    public static final int DEFAULT_MAX_CONCURRENT_PER_TENANT = 64;

    public static final EgressSettings NONE = new EgressSettings(List.of(), false);

    private static final Pattern HOST_PATTERN = Pattern.compile(
            "\\*|(\\*\\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*");

    public EgressSettings {
        allow = List.copyOf(allow);
        for (String pattern : allow) {
            if (!isHostPattern(pattern)) throw new IllegalArgumentException("not a host pattern: " + pattern);
        }
        rules = List.copyOf(rules);
        if (maxResponseBytes <= 0 || timeoutMs <= 0 || maxConcurrent <= 0 || maxConcurrentPerTenant <= 0) {
            throw new IllegalArgumentException("egress limits must be positive");
        }
    }

    public EgressSettings(List<String> allow, boolean allowPrivateNetworks) {
        this(allow, allowPrivateNetworks, List.of(), false, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS,
                DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_CONCURRENT_PER_TENANT);
    }

    /** The same settings with loopback upstreams allowed: for tests against a local upstream only. */
    public EgressSettings withTestOnlyLoopbackAllowed() {
        return new EgressSettings(allow, allowPrivateNetworks, rules, true, maxResponseBytes, timeoutMs, maxConcurrent,
                maxConcurrentPerTenant);
    }

    public EgressSettings withRules(List<EgressRule> more) {
        List<EgressRule> all = new ArrayList<>(rules);
        all.addAll(more);
        return new EgressSettings(allow, allowPrivateNetworks, all, testOnlyAllowLoopback, maxResponseBytes, timeoutMs,
                maxConcurrent, maxConcurrentPerTenant);
    }

    public EgressSettings withLimits(long maxResponseBytes, long timeoutMs, int maxConcurrent, int maxConcurrentPerTenant) {
        return new EgressSettings(allow, allowPrivateNetworks, rules, testOnlyAllowLoopback, maxResponseBytes, timeoutMs,
                maxConcurrent, maxConcurrentPerTenant);
    }

    /** Whether {@code pattern} is a valid, lower-case entry of {@link #allow}. */
    public static boolean isHostPattern(String pattern) {
        return pattern.length() <= 255 && HOST_PATTERN.matcher(pattern).matches();
    }

    /** Whether {@code host} (a DNS name or IP literal, any case, optionally ending in '.') matches {@link #allow}. */
    public boolean allowsHost(String host) {
        for (String pattern : allow) {
            if (hostMatches(pattern, host)) return true;
        }
        return false;
    }

    /** Whether a request is allowed by {@link #allow} or by one of the {@link #rules}. */
    public boolean allows(String scheme, String host, int port, String path, String method, String worker,
                          String tenant) {
        if (!scheme.equals(EgressRule.TCP) && allowsHost(host)) return true;
        for (EgressRule r : rules) {
            if (r.allows(scheme, host, port, path, method, worker, tenant)) return true;
        }
        return false;
    }

    static boolean hostMatches(String pattern, String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        if (pattern.equals("*")) return true;
        return pattern.startsWith("*.") ? h.endsWith(pattern.substring(1)) : h.equals(pattern);
    }
}
