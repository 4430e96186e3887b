package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.node.FacetQuotas;
import dev.bulwark.server.node.FacetRecord;
import dev.bulwark.server.node.Node;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The admin endpoints of facets (issue 14), behind the node's admin token:
 * <pre>
 * GET facets                              every facet the node ran since it started, with its records
 * GET facets/quotas/{supervisor|default}  the quotas of one supervisor (its root object id), or the defaults
 * PUT facets/quotas/{supervisor|default}  replaces them: {"maxFacets", "maxBytesPerFacet", "maxBytesTotal",
 *                                          "cpuMsPerPeriod", "periodMs", "requestsPerSecond"} (-1 or absent: none)
 * </pre>
 */
final class AdminFacets {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ID = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_BODY = 4096;

    private final Node node;

    AdminFacets(Node node) {
        this.node = node;
    }

    /** {@code rest} is the path after the admin prefix, starting with {@code facets}. */
    void serve(String rest, Request request, Response response, Callback callback) throws IOException {
        String method = request.getMethod();
        if (rest.equals("facets")) {
            if (!method.equals("GET")) {
                notAllowed(response, callback, "GET");
                return;
            }
            list(response, callback);
            return;
        }
        String[] parts = rest.split("/", -1);
        if (parts.length != 3 || !parts[1].equals("quotas") || !(parts[2].equals("default") || ID.matcher(parts[2]).matches())) {
            ErrorResponse.write(response, callback, 404, "not_found", "no such endpoint: " + FrontDoor.ADMIN_PREFIX + rest, null);
            return;
        }
        String who = parts[2];
        FacetQuotas quotas = node.facetQuotas();
        switch (method) {
            case "GET" -> json(response, callback, limits(who.equals("default") ? quotas.defaults() : quotas.of(who)));
            case "PUT" -> {
                FacetQuotas.Limits limits;
                try (InputStream in = Content.Source.asInputStream(request)) {
                    byte[] body = in.readNBytes(MAX_BODY + 1);
                    if (body.length > MAX_BODY) throw new IllegalArgumentException("the body is larger than " + MAX_BODY + " bytes");
                    limits = parse(JSON.readTree(body));
                } catch (IllegalArgumentException | com.fasterxml.jackson.core.JacksonException e) {
                    ErrorResponse.write(response, callback, 400, "bad_request", "quotas: " + e.getMessage(), null);
                    return;
                }
                if (who.equals("default")) quotas.setDefaults(limits);
                else quotas.set(who, limits);
                json(response, callback, limits(limits));
            }
            default -> notAllowed(response, callback, "GET, PUT");
        }
    }

    private void list(Response response, Callback callback) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("facets");
        for (FacetRecord r : node.facetRecords()) {
            ObjectNode o = list.addObject();
            o.put("id", r.id());
            o.put("tenant", r.tenant());
            o.put("supervisor", r.supervisor());
            o.put("path", r.path());
            o.put("running", r.running());
            o.put("codeHash", r.codeHash());
            o.put("requests", r.requests());
            o.put("errors", r.errors());
            o.put("cpuMs", r.cpuMs());
            o.put("storageBytes", r.storageBytes());
        }
        json(response, callback, root);
    }

    static FacetQuotas.Limits parse(JsonNode n) {
        if (n == null || !n.isObject()) throw new IllegalArgumentException("the body must be a JSON object");
        var names = new java.util.HashSet<String>();
        n.fieldNames().forEachRemaining(names::add);
        names.removeAll(java.util.Set.of("maxFacets", "maxBytesPerFacet", "maxBytesTotal", "cpuMsPerPeriod", "periodMs",
                "requestsPerSecond"));
        if (!names.isEmpty()) throw new IllegalArgumentException("unknown fields " + names);
        long periodMs = number(n, "periodMs", 60_000);
        if (periodMs <= 0) throw new IllegalArgumentException("periodMs must be positive");
        long maxFacets = number(n, "maxFacets", -1);
        if (maxFacets > Integer.MAX_VALUE) throw new IllegalArgumentException("maxFacets is too large");
        return new FacetQuotas.Limits((int) maxFacets, number(n, "maxBytesPerFacet", -1), number(n, "maxBytesTotal", -1),
                number(n, "cpuMsPerPeriod", -1), periodMs, number(n, "requestsPerSecond", -1));
    }

    private static long number(JsonNode n, String field, long dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isIntegralNumber() || v.asLong() < -1) throw new IllegalArgumentException(field + " must be an integer ≥ -1");
        return v.asLong();
    }

    private static ObjectNode limits(FacetQuotas.Limits l) {
        ObjectNode o = JSON.createObjectNode();
        o.put("maxFacets", l.maxFacets());
        o.put("maxBytesPerFacet", l.maxBytesPerFacet());
        o.put("maxBytesTotal", l.maxBytesTotal());
        o.put("cpuMsPerPeriod", l.cpuMsPerPeriod());
        o.put("periodMs", l.periodMs());
        o.put("requestsPerSecond", l.requestsPerSecond());
        return o;
    }

    private static void notAllowed(Response response, Callback callback, String allow) {
        response.getHeaders().put(HttpHeader.ALLOW, allow);
        ErrorResponse.write(response, callback, 405, "method_not_allowed", "this endpoint answers " + allow, null);
    }

    private static void json(Response response, Callback callback, ObjectNode body) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(body.toString().getBytes(StandardCharsets.UTF_8)), callback);
    }
}
