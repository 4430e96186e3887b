package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.server.governance.GovernanceException;
import dev.bulwark.server.governance.GovernanceExceptions;
import dev.bulwark.server.governance.Governance;
import dev.bulwark.server.node.Node;
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
import java.util.Map;

/**
 * Governance over the tenant API (issue 15), under {@code /cdn-cgi/bulwark/api/v1/sessions}, with
 * the tenant's key ({@link TenantApi} authenticates and hands over the tenant):
 *
 * <pre>
 * POST v1/sessions                {actor, risk?, tools, budgets?, metadata?} → 201 the session
 * GET  v1/sessions/{id}           the session: terms, status, terminationReason, counters
 * POST v1/sessions/{id}/run       {code: WorkerCode, input?, lane?} → {envelope, result, lane}
 *                                 (lane: interactive | long | approval; a full lane answers 429 lane_full /
 *                                 lane_queue_full or 503 lane_queue_timeout, with Retry-After)
 * GET  v1/sessions/{id}/audit     {rows, firstBroken}
 * POST v1/sessions/{id}/end       {reason?} → the session
 * GET  v1/sessions/{id}/ledger    {session, ledger: [{key, tool, state, unknown?, outcome?, argsHash, createdAt, updatedAt}]}
 * POST v1/sessions/{id}/ledger    {key, state: "applied" | "not_applied" | "reverted", value?, operator} → the row
 *                                 (settles an outcome_unknown row)
 * POST v1/sessions/{id}/rollback  {operator} → {session, reverted: [keys, newest first]}
 * GET  v1/approvals?state=         the tenant's approvals (pending, escalated, approved, rejected, expired, used)
 * POST v1/approvals/{id}          {decision: "approve" | "reject"}, header Bulwark-Approver-Key → the approval
 * GET  v1/audit/export            the tenant's audit export, JSONL (records, checkpoints, proofs);
 *                                 ?format=ocsf: the records as OCSF 1.1 API Activity events
 * GET  v1/audit/proof/{session}:{seq}  {record, proof, checkpoint, publicKey}
 * </pre>
 * Errors are {@code {"error":{"code","message","policy","rule","retryable"}}}.
 */
final class SessionsApi {
    static final int MAX_BODY_BYTES = 100 << 20;
    static final int MAX_ADMISSION_BYTES = 64 << 10;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The header that carries an approver's key on {@code POST v1/approvals/{id}}. */
    static final String APPROVER_KEY = "Bulwark-Approver-Key";

    private final Node node;

    SessionsApi(Node node) {
        this.node = node;
    }

    /** {@code parts}: the path split as TenantApi splits it ({@code v1, sessions, id?, action?}). */
    void handle(String tenant, String[] parts, Request request, Response response, Callback callback) {
        String method = request.getMethod();
        try {
            Governance gov = node.governance();
            if (parts[1].equals("approvals")) {
                approvals(gov, tenant, parts, request, response, callback);
                return;
            }
            if (parts[1].equals("audit")) {
                audit(gov, tenant, parts, request, response, callback);
                return;
            }
            if (parts.length == 2 || parts.length == 3 && parts[2].isEmpty()) {
                if (!method.equals("POST")) throw GovernanceExceptions.methodNotAllowed(method);
                Object body = readJson(request, MAX_ADMISSION_BYTES);
                Map<String, Object> session = gov.admit(tenant, GovernanceExceptions.admission(body));
                write(response, callback, 201, JsonValues.toJson(session));
                return;
            }
            String id = parts[2];
            String action = parts.length > 3 ? parts[3] : "";
            if (parts.length > 4) throw GovernanceExceptions.notFound();
            switch (action) {
                case "" -> {
                    if (!method.equals("GET")) throw GovernanceExceptions.methodNotAllowed(method);
                    write(response, callback, 200, JsonValues.toJson(gov.session(tenant, id)));
                }
                case "audit" -> {
                    if (!method.equals("GET")) throw GovernanceExceptions.methodNotAllowed(method);
                    write(response, callback, 200, JsonValues.toJson(gov.audit(tenant, id)));
                }
                case "end" -> {
                    if (!method.equals("POST")) throw GovernanceExceptions.methodNotAllowed(method);
                    Object body = request.getLength() == 0 ? Map.of() : readJson(request, MAX_ADMISSION_BYTES);
                    Object reason = body instanceof Map<?, ?> m ? m.get("reason") : null;
                    write(response, callback, 200, JsonValues.toJson(gov.end(tenant, id,
                            reason instanceof String s && s.matches("[a-z_]{1,32}") ? s : "completed")));
                }
                case "run" -> {
                    if (!method.equals("POST")) throw GovernanceExceptions.methodNotAllowed(method);
                    run(gov, tenant, id, request, response, callback);
                }
                case "ledger" -> LedgerApi.ledger(gov, tenant, id, method, readJsonIfPost(request, method), response, callback);
                case "rollback" -> LedgerApi.rollback(gov, tenant, id, method, readJsonIfPost(request, method), response, callback);
                default -> throw GovernanceExceptions.notFound();
            }
        } catch (GovernanceException e) {
            fail(response, callback, e);
        } catch (RuntimeException e) {
            // Never a Java message to the client: the detail goes to the node's log.
            org.slf4j.LoggerFactory.getLogger(SessionsApi.class).error("governance request failed", e);
            fail(response, callback, GovernanceExceptions.internal());
        }
    }

    /** {@code v1/audit/export} and {@code v1/audit/proof/<record id>} (the roll-up, see AuditRollup). */
    private void audit(Governance gov, String tenant, String[] parts, Request request, Response response, Callback callback) {
        String method = request.getMethod();
        if (!method.equals("GET")) throw GovernanceExceptions.methodNotAllowed(method);
        if (parts.length == 3 && parts[2].equals("export")) {
            String format = Request.extractQueryParameters(request).getValue("format");
            if (format != null && !format.equals("jsonl") && !format.equals("ocsf")) {
                throw GovernanceExceptions.badRequest("format must be jsonl or ocsf");
            }
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-ndjson; charset=utf-8");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            // Streamed as it is read (chunked): a failure before the first byte still answers a structured
            // error (the response is not committed); after it, the response is aborted.
            java.io.OutputStream out = org.eclipse.jetty.io.Content.Sink.asOutputStream(response);
            try {
                if ("ocsf".equals(format)) gov.auditExportOcsf(tenant, out);
                else gov.auditExport(tenant, out);
                out.close();
            } catch (java.io.IOException e) {
                if (response.isCommitted()) {
                    callback.failed(e);
                    return;
                }
                throw new java.io.UncheckedIOException(e);
            } catch (RuntimeException e) {
                if (response.isCommitted()) {
                    org.slf4j.LoggerFactory.getLogger(SessionsApi.class).error("audit export failed while streaming", e);
                    callback.failed(e);
                    return;
                }
                throw e;
            }
            callback.succeeded();
            return;
        }
        if (parts.length == 4 && parts[2].equals("proof")) {
            write(response, callback, 200, JsonValues.toJson(gov.auditProof(tenant, parts[3])));
            return;
        }
        throw GovernanceExceptions.notFound();
    }

    private void approvals(Governance gov, String tenant, String[] parts, Request request, Response response, Callback callback) {
        String method = request.getMethod();
        if (parts.length == 2 || parts.length == 3 && parts[2].isEmpty()) {
            if (!method.equals("GET")) throw GovernanceExceptions.methodNotAllowed(method);
            String state = Request.extractQueryParameters(request).getValue("state");
            ObjectNode out = JSON.createObjectNode();
            out.set("approvals", JsonValues.toJson(gov.approvals(tenant, state == null || state.isEmpty() ? null : state)));
            write(response, callback, 200, out);
            return;
        }
        if (parts.length > 3) throw GovernanceExceptions.notFound();
        if (!method.equals("POST")) throw GovernanceExceptions.methodNotAllowed(method);
        Object body = readJson(request, MAX_ADMISSION_BYTES);
        if (!(body instanceof Map<?, ?> m) || !(m.get("decision") instanceof String decision)) {
            throw GovernanceExceptions.badRequest("the body must be {\"decision\": \"approve\" | \"reject\"}");
        }
        // Who decides is the approver whose key this is (the tenant's key only says which tenant).
        String approverKey = request.getHeaders().get(APPROVER_KEY);
        write(response, callback, 200, JsonValues.toJson(gov.decideApproval(tenant, parts[2], decision, approverKey)));
    }

    private void run(Governance gov, String tenant, String id, Request request, Response response, Callback callback) {
        long arrived = System.nanoTime();
        gov.session(tenant, id); // 404 before the body is read
        JsonNode tree = readTree(request, MAX_BODY_BYTES);
        if (!tree.isObject() || !tree.path("code").isObject()) {
            throw GovernanceExceptions.badRequest("the body must be {\"code\": WorkerCode, \"input\"?: any}");
        }
        WorkerCode code;
        try {
            code = WorkerCodeJson.read(tree.get("code"));
        } catch (WorkerCode.Invalid e) {
            throw GovernanceExceptions.invalidCode(e.getMessage());
        }
        JsonNode input = tree.get("input");
        JsonNode lane = tree.get("lane");
        if (lane != null && !lane.isTextual()) throw GovernanceExceptions.badRequest("lane is one of interactive, long, approval");
        Governance.LanedRun laned = gov.run(tenant, id, code, input == null || input.isNull() ? null : JsonValues.fromJson(input),
                lane == null ? null : lane.asText());
        Governance.Run run = laned.run();
        ObjectNode out = JSON.createObjectNode();
        out.put("envelope", run.envelope());
        JsonNode result;
        try {
            result = JsonValues.toJson(run.result());
        } catch (IllegalArgumentException e) {
            throw GovernanceExceptions.resultNotJson(e.getMessage());
        }
        out.set("result", result);
        out.put("lane", laned.lane().label());
        // Recorded as the answer is handed to Jetty (before, so a client that has it finds it counted).
        gov.metrics().firstByte(laned.lane(), System.nanoTime() - arrived);
        write(response, callback, 200, out);
    }

    private static Object readJsonIfPost(Request request, String method) {
        return method.equals("POST") ? readJson(request, MAX_ADMISSION_BYTES) : null;
    }

    private static Object readJson(Request request, int max) {
        return JsonValues.fromJson(readTree(request, max));
    }

    private static JsonNode readTree(Request request, int max) {
        if (request.getLength() > max) throw GovernanceExceptions.tooLarge(max);
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] body = in.readNBytes(max + 1);
            if (body.length > max) throw GovernanceExceptions.tooLarge(max);
            JsonNode tree = JSON.readTree(body);
            if (tree == null) throw GovernanceExceptions.badRequest("the body is empty");
            return tree;
        } catch (IOException e) {
            throw GovernanceExceptions.badRequest("the body is not JSON");
        }
    }

    static void write(Response response, Callback callback, int status, JsonNode body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(body.toString().getBytes(StandardCharsets.UTF_8)), callback);
    }

    private static void fail(Response response, Callback callback, GovernanceException e) {
        ObjectNode root = JSON.createObjectNode();
        root.set("error", JsonValues.toJson(e.errorMap()));
        if (e.retryAfterSeconds() > 0) response.getHeaders().put(HttpHeader.RETRY_AFTER, String.valueOf(e.retryAfterSeconds()));
        else if (e.status() == 503) response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        write(response, callback, e.status(), root);
    }
}
