package dev.bulwark.server.http;

import dev.bulwark.server.metrics.NodeMetrics;
import dev.bulwark.server.node.Node;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /cdn-cgi/bulwark/metrics}: the node's Prometheus metrics, for the operator only (the
 * node's admin token, as the other admin endpoints): the labels name tenants and their load.
 */
final class AdminMetrics {
    private AdminMetrics() {}

    static void serve(Node node, boolean authorized, Request request, Response response, Callback callback) {
        if (!authorized) {
            ErrorResponse.write(response, callback, 401, "unauthorized",
                    "metrics need the node's admin token (Authorization: Bearer ..., see <data>/admin.token)", null);
            return;
        }
        if (!request.getMethod().equals("GET")) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET");
            ErrorResponse.write(response, callback, 405, "method_not_allowed", request.getMethod() + " is not allowed here", null);
            return;
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, NodeMetrics.CONTENT_TYPE);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(node.metrics().scrape().getBytes(StandardCharsets.UTF_8)), callback);
    }
}
