package dev.bulwark.server.egress;

import java.net.URI;
import java.util.Locale;

/**
 * Where an outbound request goes, read from its URL once, in the form every decision uses.
 *
 * @param scheme {@code http} or {@code https}; for a {@code connect()}, {@code tcp}, {@code tls} or {@code starttls}
 * @param host   the canonical host (see {@link HostName})
 * @param port   the explicit port, or the scheme's default
 * @param path   the raw path ({@code /} when empty), free of dot segments
 * @param uri    the URL to request, with the canonical host
 */
public record EgressTarget(String scheme, HostName host, int port, String path, URI uri) {

    /** Parses a worker's URL; IllegalArgumentException (with a message for the worker) when it cannot be fetched. */
    public static EgressTarget parse(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (Exception e) {
            throw new IllegalArgumentException("Invalid URL: " + url);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("Fetch API cannot load: " + url);
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isEmpty()) throw new IllegalArgumentException("Invalid URL: " + url);
        if (authority.indexOf('@') >= 0) {
            throw new IllegalArgumentException("URLs with credentials are not fetched by this node; use an Authorization header");
        }
        String hostPart = authority;
        int port = scheme.equals("https") ? 443 : 80;
        int colon = portColon(authority);
        if (colon >= 0) {
            hostPart = authority.substring(0, colon);
            String p = authority.substring(colon + 1);
            if (!p.isEmpty()) {
                if (!p.matches("[0-9]{1,5}")) throw new IllegalArgumentException("Invalid URL: " + url);
                port = Integer.parseInt(p);
                if (port < 1 || port > 65_535) throw new IllegalArgumentException("Invalid URL: " + url);
            }
        }
        HostName host = HostName.parse(hostPart);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (hasDotSegment(path)) throw new IllegalArgumentException("Invalid URL (dot segments in the path): " + url);
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        URI canonical = URI.create(scheme + "://" + inUri(host) + ":" + port + path + query);
        return new EgressTarget(scheme, host, port, path, canonical);
    }

    /**
     * Parses the target of a worker's {@code connect()} as the prelude sends it: {@code tcp://host:port}
     * (plain), {@code tls://host:port} or {@code starttls://host:port} (plain until the worker's
     * {@code startTls()}); the port is required and nothing may follow it.
     * IllegalArgumentException (with a message for the worker) when it is not one.
     */
    public static EgressTarget parseSocket(String url) {
        int sep = url.indexOf("://");
        String scheme = sep < 0 ? "" : url.substring(0, sep);
        if (!scheme.equals("tcp") && !scheme.equals("tls") && !scheme.equals("starttls")) {
            throw new IllegalArgumentException("connect(): not a socket address");
        }
        String authority = url.substring(sep + 3);
        int colon = portColon(authority);
        if (colon <= 0 || !authority.substring(colon + 1).matches("[0-9]{1,5}")) {
            throw new IllegalArgumentException("Specified address is missing port.");
        }
        int port = Integer.parseInt(authority.substring(colon + 1));
        if (port < 1 || port > 65_535) throw new IllegalArgumentException("Specified address has an invalid port: " + port);
        HostName host;
        try {
            host = HostName.parse(authority.substring(0, colon));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Specified address could not be parsed.");
        }
        return new EgressTarget(scheme, host, port, "/", URI.create(scheme + "://" + inUri(host) + ":" + port + "/"));
    }

    /** Where an authority's port begins (its last ':' outside an IPv6 literal's brackets), or -1. */
    private static int portColon(String authority) {
        return authority.startsWith("[") ? authority.indexOf(':', authority.indexOf(']')) : authority.lastIndexOf(':');
    }

    /** A host as a URI's authority spells it: an IPv6 address in brackets. */
    private static String inUri(HostName host) {
        return host.literal() != null && host.name().indexOf(':') >= 0 ? "[" + host.name() + "]" : host.name();
    }

    /** "." or ".." segments, also percent-encoded, which a server might resolve past an allowed path prefix. */
    private static boolean hasDotSegment(String path) {
        String p = path.replace("%2e", ".").replace("%2E", ".");
        for (String segment : p.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) return true;
        }
        return false;
    }
}
