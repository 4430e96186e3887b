package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.governance.Governance;
import dev.bulwark.server.governance.GovernanceExceptions;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.util.Map;

/**
 * The operator's side of a session's ledger (under {@link SessionsApi}, with the tenant's key):
 * list it, settle an {@code outcome_unknown} row, roll the session back. Every change is audited in
 * the session's trail with the operator's name.
 */
final class LedgerApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LedgerApi() {}

    static void ledger(Governance gov, String tenant, String id, String method, Object body, Response response, Callback callback) {
        switch (method) {
            case "GET" -> {
                ObjectNode out = JSON.createObjectNode();
                out.put("session", id);
                out.set("ledger", JsonValues.toJson(gov.ledger(tenant, id)));
                SessionsApi.write(response, callback, 200, out);
            }
            case "POST" -> {
                if (!(body instanceof Map<?, ?> m) || !(m.get("key") instanceof String key) || !(m.get("state") instanceof String state)
                        || !(m.get("operator") instanceof String operator)) {
                    throw GovernanceExceptions.badRequest("the body must be {\"key\": string, \"state\": \"applied\" | \"not_applied\""
                            + " | \"reverted\", \"value\"?: any, \"operator\": string}");
                }
                SessionsApi.write(response, callback, 200, JsonValues.toJson(gov.settle(tenant, id, key, state, m.get("value"), operator)));
            }
            default -> throw GovernanceExceptions.methodNotAllowed(method);
        }
    }

    static void rollback(Governance gov, String tenant, String id, String method, Object body, Response response, Callback callback) {
        if (!method.equals("POST")) throw GovernanceExceptions.methodNotAllowed(method);
        if (!(body instanceof Map<?, ?> m) || !(m.get("operator") instanceof String operator)) {
            throw GovernanceExceptions.badRequest("the body must be {\"operator\": string}");
        }
        SessionsApi.write(response, callback, 200, JsonValues.toJson(gov.rollback(tenant, id, operator)));
    }
}
