package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The audit records as OCSF 1.1 "API Activity" events (class_uid 6003, category_uid 6), one JSON
 * object a line, for SIEMs. Mapping: {@code api.operation} is the record's kind, or the tool for
 * decision / effect / approval / ledger rows; {@code activity_id} 1 Create (admitted), 2 Read (a
 * read-only tool's decision or effect), 4 Delete (terminated), 99 Other (the rest, named in
 * {@code activity_name}); {@code status_id} 2 Failure for a deny or a refused envelope, else 1
 * Success; {@code actor.user.name} the session's actor (from its admitted row);
 * {@code metadata.uid} the record id; {@code unmapped} holds the record's body, seq and chain hash.
 * The OCSF export carries no checkpoints or proofs: verify with the JSONL export.
 */
final class AuditOcsf {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String VERSION = "1.1.0";

    private AuditOcsf() {}

    /**
     * One record's event line. {@code actorOf} (session → actor) is filled from each session's
     * {@code admitted} record, its first, which comes before the session's others in leaf order.
     */
    static String line(String tenant, AuditRollup.Rec r, Map<String, String> actorOf) {
        if (r.kind().equals("admitted")) actorOf.put(r.session(), body(r).path("actor").asText(null));
        return event(tenant, r, actorOf.get(r.session())) + "\n";
    }

    private static JsonNode body(AuditRollup.Rec r) {
        try {
            return JSON.readTree(r.body());
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    static ObjectNode event(String tenant, AuditRollup.Rec r, String actor) {
        JsonNode body = body(r);
        String tool = body.path("tool").asText(null);
        boolean failure = r.kind().equals("refused") || "deny".equals(body.path("decision").asText());
        int activity = switch (r.kind()) {
            case "admitted" -> 1;
            case "terminated" -> 4;
            case "decision", "effect" -> "read_only".equals(body.path("contract").asText()) ? 2 : 99;
            default -> 99;
        };
        ObjectNode e = JSON.createObjectNode();
        e.put("class_uid", 6003);
        e.put("class_name", "API Activity");
        e.put("category_uid", 6);
        e.put("category_name", "Application Activity");
        e.put("activity_id", activity);
        e.put("activity_name", switch (activity) {
            case 1 -> "Create";
            case 2 -> "Read";
            case 4 -> "Delete";
            default -> r.kind();
        });
        e.put("type_uid", 6003L * 100 + activity);
        e.put("time", r.at());
        e.put("severity_id", failure ? 3 : 1);
        e.put("severity", failure ? "Medium" : "Informational");
        e.put("status_id", failure ? 2 : 1);
        e.put("status", failure ? "Failure" : "Success");
        if (failure && body.path("error").has("code")) e.put("status_code", body.path("error").path("code").asText());
        ObjectNode user = e.putObject("actor").putObject("user");
        user.put("name", actor == null ? "unknown" : actor);
        user.put("uid", actor == null ? "unknown" : actor);
        ObjectNode api = e.putObject("api");
        api.put("operation", tool != null ? tool : r.kind());
        api.putObject("service").put("name", "bulwark-governance");
        e.putObject("src_endpoint").put("name", "session:" + r.session());
        ObjectNode meta = e.putObject("metadata");
        meta.put("version", VERSION);
        meta.put("uid", r.id());
        meta.put("tenant_uid", tenant);
        ObjectNode product = meta.putObject("product");
        product.put("name", "Bulwark");
        product.put("vendor_name", "Bulwark");
        ObjectNode unmapped = e.putObject("unmapped");
        unmapped.put("kind", r.kind());
        unmapped.put("seq", r.seq());
        unmapped.put("hash", r.hash());
        unmapped.set("body", body);
        return e;
    }
}
