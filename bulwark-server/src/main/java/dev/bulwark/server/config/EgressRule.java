package dev.bulwark.server.config;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One entry of the egress allowlist: an outbound request is allowed when every part that the rule
 * names matches (an empty set or an empty prefix matches anything).
 *
 * @param host       a host pattern as in {@link EgressSettings#isHostPattern}
 * @param schemes    {@code http}, {@code https} and/or {@code tcp} (a worker's {@code connect()},
 *                   with or without TLS); empty: {@code http} and {@code https}. Raw TCP is allowed only
 *                   by a rule that names {@code tcp}
 * @param ports      allowed ports; empty: any
 * @param pathPrefix the URL path must start with this (e.g. {@code /v1/}); empty: any path
 * @param methods    upper-case HTTP methods; empty: any
 * @param workers    the rule applies only to these workers; empty: every worker
 * @param tenants    the rule applies only to these tenants; empty: every tenant
 */
public record EgressRule(String host, Set<String> schemes, Set<Integer> ports, String pathPrefix, Set<String> methods,
                         Set<String> workers, Set<String> tenants) {

    /** The scheme of a worker's {@code connect()} (cloudflare:sockets), plain or TLS. */
    public static final String TCP = "tcp";

    public EgressRule {
        if (!EgressSettings.isHostPattern(host)) throw new IllegalArgumentException("not a host pattern: " + host);
        schemes = Set.copyOf(schemes);
        for (String s : schemes) {
            if (!s.equals("http") && !s.equals("https") && !s.equals(TCP)) {
                throw new IllegalArgumentException("not a scheme: " + s);
            }
        }
        ports = Set.copyOf(ports);
        pathPrefix = pathPrefix == null ? "" : pathPrefix;
        if (!pathPrefix.isEmpty() && !pathPrefix.startsWith("/")) {
            throw new IllegalArgumentException("a path prefix starts with '/': " + pathPrefix);
        }
        methods = Set.copyOf(methods);
        workers = Set.copyOf(workers);
        tenants = Set.copyOf(tenants);
    }

    /** A rule from a plain {@code egress.allow} host pattern: any HTTP(S) request, any port, path and method, for everyone. */
    public static EgressRule anyRequestTo(String hostPattern) {
        return new EgressRule(hostPattern, Set.of(), Set.of(), "", Set.of(), Set.of(), Set.of());
    }

    /**
     * @param host a canonical host (lower case, no trailing dot, IPv6 without brackets)
     * @param path the URL's raw path; dot segments are refused before this is asked
     */
    public boolean allows(String scheme, String host, int port, String path, String method, String worker,
                          String tenant) {
        return (schemes.isEmpty() ? !scheme.equals(TCP) : schemes.contains(scheme))
                && EgressSettings.hostMatches(this.host, host)
                && (ports.isEmpty() || ports.contains(port))
                && (pathPrefix.isEmpty() || path.startsWith(pathPrefix))
                && (methods.isEmpty() || methods.contains(method.toUpperCase(Locale.ROOT)))
                && (workers.isEmpty() || workers.contains(worker))
                && (tenants.isEmpty() || tenants.contains(tenant));
    }

    static List<EgressRule> fromHostPatterns(List<String> patterns) {
        return patterns.stream().map(EgressRule::anyRequestTo).toList();
    }
}
