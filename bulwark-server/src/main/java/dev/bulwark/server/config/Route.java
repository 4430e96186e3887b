package dev.bulwark.server.config;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One of a worker's wrangler {@code routes}: which requests reach it. A pattern is
 * {@code host/path}: the host may begin with {@code *} (any prefix, e.g. {@code *.example.com} or
 * {@code *example.com}), the path may end with {@code *} (any suffix). A custom domain is a bare host
 * and takes every path of exactly that host. Scheme, port and query are not part of the match.
 *
 * @param pattern      as written, lower case
 * @param customDomain whether it is a custom domain (a host without a path)
 */
public record Route(String pattern, boolean customDomain) {
    private static final Pattern HOST = Pattern.compile("\\*?[a-z0-9._-]*[a-z0-9]|\\*");

    public Route {
        pattern = pattern.toLowerCase(Locale.ROOT);
        if (!isValid(pattern, customDomain)) throw new IllegalArgumentException("not a route pattern: " + pattern);
    }

    /** Whether {@code pattern} (lower case) is a route pattern, or a custom domain host if {@code customDomain}. */
    static boolean isValid(String pattern, boolean customDomain) {
        if (pattern.length() > 1024 || pattern.contains("://") || pattern.contains("?")) return false;
        int slash = pattern.indexOf('/');
        if (customDomain) return slash < 0 && !pattern.contains("*") && HOST.matcher(pattern).matches();
        if (slash < 0) return false;
        String host = pattern.substring(0, slash), path = pattern.substring(slash);
        if (!HOST.matcher(host).matches()) return false;
        int star = path.indexOf('*');
        return star < 0 || star == path.length() - 1;
    }

    private String hostPart() {
        int slash = pattern.indexOf('/');
        return slash < 0 ? pattern : pattern.substring(0, slash);
    }

    private String pathPart() {
        int slash = pattern.indexOf('/');
        return slash < 0 ? "/*" : pattern.substring(slash);
    }

    /** Whether a request for {@code host} (lower case, no port) and {@code path} matches. */
    public boolean matches(String host, String path) {
        String h = hostPart();
        boolean hostOk = h.startsWith("*") ? host.endsWith(h.substring(1)) : host.equals(h);
        if (!hostOk) return false;
        String p = pathPart();
        String target = path == null || path.isEmpty() ? "/" : path;
        return p.endsWith("*") ? target.startsWith(p.substring(0, p.length() - 1)) : target.equals(p);
    }

    /**
     * How specific the route is, for choosing among several that match: an exact host beats a
     * wildcard one, then the longer host, then the longer path.
     */
    public long specificity() {
        String h = hostPart(), p = pathPart();
        long exactHost = h.startsWith("*") ? 0 : 1;
        long exactPath = p.endsWith("*") ? 0 : 1;
        return (exactHost << 40) | ((long) h.length() << 20) | ((long) p.length() << 1) | exactPath;
    }
}
