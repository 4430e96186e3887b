package dev.bulwark.server.http;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.server.node.LogHub;
import dev.bulwark.server.node.Node;
import dev.bulwark.server.node.TenantWorkers;
import dev.bulwark.server.node.WorkerCodeJson;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.regex.Pattern;

/**
 * The tenant API: {@code /cdn-cgi/bulwark/api/v1/workers...}, authenticated per tenant with a key
 * from {@code api.keys} ({@code Authorization: Bearer <key>}). Every operation acts inside the
 * tenant the key belongs to ({@link TenantWorkers}); nothing in a request names a tenant.
 *
 * <pre>
 * GET    v1/workers?cursor=&amp;limit=      the tenant's ids, a page at a time
 * PUT    v1/workers/{id}                  load WorkerCode (JSON) under id, replacing one loaded
 * DELETE v1/workers/{id}                  unload
 * POST   v1/workers/{id}/call             RPC: {"entrypoint"?, "method", "args"?} → {"result": ...}
 * ANY    v1/workers/{id}/fetch/{path}     forwards the request as a fetch of the worker (its entrypoint
 *                                          from the Bulwark-Entrypoint header), response streamed back
 * </pre>
 * Errors are {@code {"error":{"code","message"}}}: 401 unauthorized, 404 not_found, 413
 * code_too_large / request_too_large, 400 invalid_worker_code / worker_load_failed / bad_request.
 */
final class TenantApi {
    static final String PREFIX = "/cdn-cgi/bulwark/api/";
    /** A WorkerCode's JSON: 64 MiB of code, base64 (4/3) of binary modules, escapes and the env. */
    static final long MAX_LOAD_BODY_BYTES = 100L << 20;
    static final int MAX_CALL_BODY_BYTES = 8 << 20;
    static final int MAX_PAGE = 1000;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final String ENTRYPOINT_HEADER = "bulwark-entrypoint";
    private static final ObjectMapper JSON = new ObjectMapper();
    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength((int) MAX_LOAD_BODY_BYTES).build());
    }

    private final Node node;
    private final FrontDoor frontDoor;
    private final SessionsApi sessions;
    /** Loads parse up to 100 MiB of JSON each: a few at a time keep the node's heap bounded. */
    private final Semaphore loads = new Semaphore(2);

    TenantApi(Node node, FrontDoor frontDoor) {
        this.node = node;
        this.frontDoor = frontDoor;
        this.sessions = new SessionsApi(node);
    }

    /** A refusal: the status, code and message of the JSON error. */
    private record Refusal(int status, String code, String message) {}

    void handle(String rest, Request request, Response response, Callback callback) throws Exception {
        String tenant = node.settings().api().tenantOf(bearer(request));
        if (tenant == null) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
            fail(response, callback, new Refusal(401, "unauthorized", "a tenant API key is required (Authorization: Bearer <key>)"));
            return;
        }
        String[] parts = rest.split("/", 5);
        String method = request.getMethod();
        if (parts.length >= 2 && parts[0].equals("v1") && (parts[1].equals("sessions") || parts[1].equals("approvals")
                || parts[1].equals("audit"))) {
            sessions.handle(tenant, rest.split("/", -1), request, response, callback); // governance (issue 15)
            return;
        }
        if (parts.length < 2 || !parts[0].equals("v1") || !parts[1].equals("workers")) {
            fail(response, callback, new Refusal(404, "not_found", "no such endpoint"));
            return;
        }
        if (parts.length == 2 || parts.length == 3 && parts[2].isEmpty()) {
            if (method.equals("GET")) list(tenant, request, response, callback);
            else fail(response, callback, methodNotAllowed(method));
            return;
        }
        String id = parts[2];
        if (!ID.matcher(id).matches()) {
            fail(response, callback, new Refusal(400, "bad_request", "a worker id is 1 to 128 of A-Z a-z 0-9 . _ : -"));
            return;
        }
        if (parts.length == 3) {
            switch (method) {
                case "PUT" -> load(tenant, id, request, response, callback);
                case "DELETE" -> {
                    if (node.tenantWorkers().unload(tenant, id)) ok(response, callback, JSON.createObjectNode().put("id", id).put("unloaded", true));
                    else fail(response, callback, notFound(id));
                }
                default -> fail(response, callback, methodNotAllowed(method));
            }
            return;
        }
        switch (parts[3]) {
            case "call" -> {
                if (parts.length == 4 && method.equals("POST")) call(tenant, id, request, response, callback);
                else fail(response, callback, new Refusal(404, "not_found", "no such endpoint"));
            }
            case "fetch" -> fetch(tenant, id, parts.length == 5 ? parts[4] : "", request, response, callback);
            default -> fail(response, callback, new Refusal(404, "not_found", "no such endpoint"));
        }
    }

    private void list(String tenant, Request request, Response response, Callback callback) {
        var query = Request.extractQueryParameters(request);
        String cursor = query.getValue("cursor");
        int limit = 100;
        String l = query.getValue("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_PAGE) {
                fail(response, callback, new Refusal(400, "bad_request", "limit must be an integer from 1 to " + MAX_PAGE));
                return;
            }
        }
        TenantWorkers.Page page = node.tenantWorkers().list(tenant, cursor == null || cursor.isEmpty() ? null : cursor, limit);
        ObjectNode body = JSON.createObjectNode();
        ArrayNode workers = body.putArray("workers");
        for (String id : page.ids()) workers.addObject().put("id", id);
        if (page.cursor() == null) body.putNull("cursor");
        else body.put("cursor", page.cursor());
        ok(response, callback, body);
    }

    private void load(String tenant, String id, Request request, Response response, Callback callback) throws Exception {
        long declared = request.getLength();
        if (declared > MAX_LOAD_BODY_BYTES) {
            fail(response, callback, new Refusal(413, "request_too_large", "the request body is over " + MAX_LOAD_BODY_BYTES
                    + " bytes; a bundle may have at most 64 MiB of code"));
            return;
        }
        if (!loads.tryAcquire(30, java.util.concurrent.TimeUnit.SECONDS)) {
            fail(response, callback, new Refusal(503, "sandbox_unavailable", "too many loads at once; retry"));
            return;
        }
        try {
            byte[] body = readBounded(request, MAX_LOAD_BODY_BYTES);
            if (body == null) {
                fail(response, callback, new Refusal(413, "request_too_large", "the request body is over " + MAX_LOAD_BODY_BYTES
                        + " bytes; a bundle may have at most 64 MiB of code"));
                return;
            }
            WorkerCode code;
            try {
                JsonNode tree = JSON.readTree(body);
                body = null; // let the raw body go before the modules are made
                code = WorkerCodeJson.read(tree);
            } catch (WorkerCode.Invalid e) {
                fail(response, callback, e.tooLarge() ? new Refusal(413, ErrorCode.CODE_TOO_LARGE.code(), e.getMessage())
                        : new Refusal(400, "invalid_worker_code", e.getMessage()));
                return;
            } catch (IOException e) {
                fail(response, callback, new Refusal(400, "bad_request", "the body is not JSON"));
                return;
            }
            switch (node.tenantWorkers().load(tenant, id, code)) {
                case TenantWorkers.Outcome.Ready r -> ok(response, callback, JSON.createObjectNode().put("id", id).put("loaded", true));
                case TenantWorkers.Outcome.Refused r -> fail(response, callback, new Refusal(r.status(), r.code(),
                        // The tenant's own code failed to load: its error (module:line:col) is the tenant's to see.
                        r.code().equals(ErrorCode.WORKER_LOAD_FAILED.code()) || r.code().equals("quota_exceeded") ? r.message()
                                : ErrorResponse.clientMessage(ErrorCode.fromCode(r.code()), r.message())));
            }
        } finally {
            loads.release();
        }
    }

    private void call(String tenant, String id, Request request, Response response, Callback callback) throws Exception {
        byte[] body = readBounded(request, MAX_CALL_BODY_BYTES);
        if (body == null) {
            fail(response, callback, new Refusal(413, "request_too_large", "an RPC call's body may have at most " + MAX_CALL_BODY_BYTES + " bytes"));
            return;
        }
        String method, entrypoint = null;
        byte[] args;
        try {
            JsonNode call = JSON.readTree(body);
            if (call == null || !call.isObject() || !call.path("method").isTextual()) {
                throw new IllegalArgumentException("the body must be {\"method\": string, \"args\"?: array, \"entrypoint\"?: string}");
            }
            method = call.get("method").textValue();
            JsonNode e = call.get("entrypoint");
            if (e != null && !e.isNull()) {
                if (!e.isTextual()) throw new IllegalArgumentException("entrypoint must be a string");
                entrypoint = e.textValue();
            }
            JsonNode a = call.get("args");
            if (a != null && !a.isNull() && !a.isArray()) throw new IllegalArgumentException("args must be an array");
            args = StructuredValues.encode(a == null || a.isNull() ? List.of() : JsonValues.fromJson(a), TenantWorkers.MAX_CALL_PAYLOAD);
        } catch (IOException e) {
            fail(response, callback, new Refusal(400, "bad_request", "the body is not JSON"));
            return;
        } catch (IllegalArgumentException e) {
            fail(response, callback, new Refusal(400, "bad_request", e.getMessage()));
            return;
        }
        CompletableFuture<Message> answer = new CompletableFuture<>();
        node.tenantWorkers().rpc(tenant, id, entrypoint, method, args, answer::complete);
        Message outcome;
        try {
            outcome = answer.get(node.tenantWorkers().answerTimeoutMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            outcome = new Message.CallFailed(0, ErrorCode.SANDBOX_UNAVAILABLE.code(), ErrorCode.SANDBOX_UNAVAILABLE.description());
        }
        switch (outcome) {
            case Message.RpcResult r when r.threw() -> {
                Object thrown = decodeOrNull(r.value());
                String message = thrown instanceof RpcError e ? e.toString() : "the worker threw a value";
                fail(response, callback, new Refusal(500, ErrorCode.WORKER_THREW.code(), message));
            }
            case Message.RpcResult r -> {
                JsonNode result;
                try {
                    result = JsonValues.toJson(StructuredValues.decode(r.value()));
                } catch (IllegalArgumentException | RpcError e) {
                    fail(response, callback, new Refusal(500, "result_not_json", "the result cannot be written as JSON: " + e.getMessage()));
                    return;
                }
                ObjectNode out = JSON.createObjectNode();
                out.set("result", result);
                ok(response, callback, out);
            }
            case Message.CallFailed f -> fail(response, callback, refusal(f));
            default -> fail(response, callback, new Refusal(500, ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description()));
        }
    }

    private void fetch(String tenant, String id, String path, Request request, Response response, Callback callback) throws Exception {
        switch (node.tenantWorkers().target(tenant, id)) {
            case TenantWorkers.Outcome.Refused r -> fail(response, callback, new Refusal(r.status(), r.code(),
                    r.code().equals(ErrorCode.NOT_FOUND.code()) ? r.message() : ErrorResponse.clientMessage(ErrorCode.fromCode(r.code()), r.message())));
            case TenantWorkers.Outcome.Ready(var w) -> {
                long invocationId = node.nextInvocationId();
                String requestId = LogHub.requestId(invocationId);
                var uri = request.getHttpURI();
                String url = uri.getScheme() + "://" + uri.getAuthority() + "/" + path + (uri.getQuery() == null ? "" : "?" + uri.getQuery());
                String entrypoint = request.getHeaders().get(ENTRYPOINT_HEADER);
                // The tenant's key and the node's own header never reach the worker.
                List<Message.Header> headers = ClientHeaders.forWorker(request, node.settings().frontDoor(), requestId).stream()
                        .filter(h -> !h.name().equalsIgnoreCase("authorization") && !h.name().equalsIgnoreCase(ENTRYPOINT_HEADER))
                        .toList();
                frontDoor.invoke(request, response, callback, w.tenant(), new Address.Worker(w.name(), entrypoint), w.limits(),
                        invocationId, requestId, url, headers, true);
            }
        }
    }

    private static Object decodeOrNull(byte[] value) {
        try {
            return StructuredValues.decode(value);
        } catch (RpcError e) {
            return null;
        }
    }

    private static Refusal refusal(Message.CallFailed f) {
        ErrorCode code = ErrorCode.fromCode(f.code());
        return new Refusal(code.status(), code.code(), code == ErrorCode.NOT_FOUND ? f.message() : ErrorResponse.clientMessage(code, f.message()));
    }

    private static Refusal notFound(String id) {
        return new Refusal(404, "not_found", "no dynamic worker '" + id + "' is loaded for this tenant");
    }

    private static Refusal methodNotAllowed(String method) {
        return new Refusal(405, "method_not_allowed", method + " is not allowed here");
    }

    /** The body, or null when it is longer than {@code max} (read no further than that). */
    private static byte[] readBounded(Request request, long max) throws IOException {
        if (request.getLength() > max) return null;
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] body = in.readNBytes((int) max + 1);
            return body.length > max ? null : body;
        }
    }

    private static String bearer(Request request) {
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth == null || auth.length() < 7 || !auth.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) return null;
        return auth.substring(7).trim();
    }

    private static void ok(Response response, Callback callback, JsonNode body) {
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(body.toString().getBytes(StandardCharsets.UTF_8)), callback);
    }

    private static void fail(Response response, Callback callback, Refusal r) {
        ErrorResponse.write(response, callback, r.status(), r.code(), r.message(), null);
    }
}
