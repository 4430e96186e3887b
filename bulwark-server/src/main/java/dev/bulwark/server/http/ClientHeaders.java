package dev.bulwark.server.http;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.config.FrontDoorSettings;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.server.Request;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The headers a worker sees for a client's request. Workers code trusts {@code CF-Connecting-IP},
 * {@code CF-IPCountry} and the other {@code cf-} headers because on Cloudflare only Cloudflare
 * sets them; here a client could send its own. So a client's {@code cf-*} headers (and
 * {@code X-Forwarded-For}, {@code X-Real-IP}, {@code True-Client-IP}) are dropped and the node
 * sets what it knows itself, unless the peer is a trusted proxy (then they pass as sent, and the
 * node fills in only what is missing). {@code request.cf} travels in one internal header,
 * {@link #REQUEST_CF}, that the sandbox's prelude removes before the worker sees the request.
 */
final class ClientHeaders {
    /** Internal: the JSON of {@code request.cf}. Never taken from a client, trusted or not. */
    static final String REQUEST_CF = "cf-bulwark-request-cf";
    /** What Cloudflare puts in CF-IPCountry when it does not know the country; a node has no GeoIP. */
    static final String UNKNOWN_COUNTRY = "XX";

    private ClientHeaders() {}

    static List<Message.Header> forWorker(Request request, FrontDoorSettings settings, String requestId) {
        String peer = peerAddress(request);
        InetSocketAddress remote = request.getConnectionMetaData().getRemoteSocketAddress() instanceof InetSocketAddress a
                ? a : null;
        boolean trusted = remote != null && settings.trusts(remote.getAddress());
        List<Message.Header> headers = new ArrayList<>();
        String country = null, acceptEncoding = null;
        boolean hasRay = false, hasIp = false, hasCountry = false, hasVisitor = false, hasForwardedFor = false;
        for (HttpField f : request.getHeaders()) {
            String name = f.getLowerCaseName();
            if (name.equals(REQUEST_CF)) continue;
            if (name.equals("accept-encoding")) acceptEncoding = f.getValue();
            if (!trusted && isClientClaim(name)) continue;
            switch (name) {
                case "cf-ray" -> hasRay = true;
                case "cf-connecting-ip" -> hasIp = true;
                case "cf-ipcountry" -> {
                    hasCountry = true;
                    country = f.getValue();
                }
                case "cf-visitor" -> hasVisitor = true;
                case "x-forwarded-for" -> hasForwardedFor = true;
                default -> { }
            }
            headers.add(new Message.Header(f.getName(), f.getValue()));
        }
        String scheme = request.getHttpURI().getScheme() == null ? "http" : request.getHttpURI().getScheme();
        if (!hasRay) headers.add(new Message.Header("cf-ray", requestId));
        if (!hasIp && peer != null) headers.add(new Message.Header("cf-connecting-ip", peer));
        if (!hasCountry) headers.add(new Message.Header("cf-ipcountry", UNKNOWN_COUNTRY));
        if (!hasVisitor) headers.add(new Message.Header("cf-visitor", "{\"scheme\":\"" + scheme + "\"}"));
        if (!hasForwardedFor && peer != null) headers.add(new Message.Header("x-forwarded-for", peer));
        if (!trusted || request.getHeaders().get("x-forwarded-proto") == null) {
            headers.removeIf(h -> h.name().equalsIgnoreCase("x-forwarded-proto"));
            headers.add(new Message.Header("x-forwarded-proto", scheme));
        }
        headers.add(new Message.Header(REQUEST_CF, requestCf(request, settings, acceptEncoding, trusted ? country : null)));
        return headers;
    }

    /**
     * Headers only a proxy in front may set; from any other peer they are forgeries. Except
     * {@code CF-EW-Via}, the loop counter (invocations left down a chain of workers): a client can
     * only lower its own count with it (the node caps it at its limit), and a worker calling
     * back into this node must keep it.
     */
    static boolean isClientClaim(String lowerName) {
        return (lowerName.startsWith("cf-") && !lowerName.equals("cf-ew-via")) || lowerName.equals("x-forwarded-for")
                || lowerName.equals("x-real-ip")
                || lowerName.equals("true-client-ip") || lowerName.equals("x-forwarded-proto");
    }

    /**
     * What Workers puts in {@code request.cf} that a self-hosted node knows: the node's colo, the
     * HTTP protocol, the client's Accept-Encoding, TLS (none on this plain-HTTP front door), and the
     * country only when a trusted proxy said it.
     */
    private static String requestCf(Request request, FrontDoorSettings settings, String acceptEncoding, String country) {
        // Written by hand (strings quoted by Jackson's encoder): a JSON tree per request cost more
        // than the rest of the request's headers.
        StringBuilder cf = new StringBuilder(128).append('{');
        field(cf, "colo", settings.colo());
        String protocol = request.getConnectionMetaData().getProtocol();
        cf.append(',');
        field(cf, "httpProtocol", "HTTP/2.0".equals(protocol) ? "HTTP/2" : protocol);
        if (acceptEncoding != null) {
            cf.append(',');
            field(cf, "clientAcceptEncoding", acceptEncoding);
        }
        cf.append(",\"tlsVersion\":\"\",\"tlsCipher\":\"\"");
        if (country != null && country.matches("[A-Za-z0-9]{2}")) {
            cf.append(',');
            field(cf, "country", country.toUpperCase(Locale.ROOT));
        }
        return cf.append('}').toString();
    }

    private static void field(StringBuilder json, String name, String value) {
        json.append('"').append(name).append("\":");
        if (value == null) {
            json.append("null");
            return;
        }
        json.append('"');
        com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(value, json);
        json.append('"');
    }

    private static String peerAddress(Request request) {
        SocketAddress a = request.getConnectionMetaData().getRemoteSocketAddress();
        if (a instanceof InetSocketAddress inet && inet.getAddress() != null) return inet.getAddress().getHostAddress();
        return null;
    }
}
