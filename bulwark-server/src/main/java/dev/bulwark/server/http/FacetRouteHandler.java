package dev.bulwark.server.http;

import dev.bulwark.objects.java.HttpHeader;
import dev.bulwark.objects.java.JavaRequest;
import dev.bulwark.objects.java.JavaResponse;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.node.DeployedWorker;
import dev.bulwark.server.node.FacetRoute;
import dev.bulwark.server.node.LogHub;
import dev.bulwark.server.node.Node;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Serves a request a project's {@link FacetRoute} takes (issue 14): straight to the built-in
 * supervisor object in the node, on the request's virtual thread (it blocks while the facet
 * answers; the supervisor's own gate is open meanwhile). What the supervisor receives is what the
 * worker's {@code env.PLATFORM.getByName(name).fetch(request)} would have passed on: the client's
 * method, headers (as the front door gives them to workers) and body, the URL with the prefix cut.
 * The built-in supervisor forwards no WebSocket upgrade (its answer carries no socket).
 */
final class FacetRouteHandler {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FacetRouteHandler.class);

    private FacetRouteHandler() {}

    static void serve(Node node, FacetRoute route, DeployedWorker worker, Request request, Response response,
                      Callback callback) throws Exception {
        String requestId = LogHub.requestId(node.nextInvocationId());
        if (SocketUpgrade.isUpgrade(request)) {
            ErrorResponse.write(response, callback, 501, "not_implemented",
                    "the built-in facet supervisor does not forward WebSocket upgrades", requestId);
            return;
        }
        long limit = worker.limits().requestBodyBytes();
        if (FrontDoor.refusedAsDeclaredTooLarge(request, response, callback, limit, requestId)) return;
        String method = request.getMethod();
        byte[] body = null;
        if (!method.equals("GET") && !method.equals("HEAD")) {
            body = FrontDoor.readWhole(request, response, callback, (int) Math.min(Integer.MAX_VALUE - 8, limit + 1), limit, requestId);
            if (body == null) return;
        }
        HttpURI uri = request.getHttpURI();
        String url = uri.getScheme() + "://" + uri.getAuthority() + route.rest(uri.getPath())
                + (uri.getQuery() == null ? "" : "?" + uri.getQuery());
        List<HttpHeader> headers = new ArrayList<>();
        for (Message.Header h : ClientHeaders.forWorker(request, node.settings().frontDoor(), requestId)) {
            headers.add(new HttpHeader(h.name(), h.value()));
        }
        JavaResponse answer;
        try {
            answer = node.javaObjects().namespace(route.tenant(), FacetRoute.CLASS_NAME).getByName(route.objectName())
                    .fetch(new JavaRequest(method, url, headers, body));
        } catch (RpcError e) {
            // Its message is the object system's own (an internal failure names only a reference).
            log.debug("the facet route of {} failed: {}", worker.name(), e.toString());
            ErrorResponse.write(response, callback, ErrorCode.INTERNAL, e.getMessage(), requestId);
            return;
        }
        response.setStatus(answer.status());
        for (HttpHeader h : answer.headers()) {
            // As ResponseRelay: no hop-by-hop field passes; the length is the whole body's (Jetty's own).
            String name = h.name().toLowerCase(java.util.Locale.ROOT);
            if (!name.startsWith(":") && !name.equals("content-length") && ResponseRelay.passes(name)) {
                response.getHeaders().add(h.name(), h.value());
            }
        }
        byte[] out = answer.body();
        if (method.equals("HEAD") || out.length == 0) response.write(true, null, callback);
        else response.write(true, ByteBuffer.wrap(out), callback);
    }
}
