package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The immutable terms of one dispatch of code in a session, signed by the node
 * ({@link EnvelopeKeys#seal}): the session, tenant and actor; the SHA-256 of the code; the policy
 * set's hash and version; the tool ACL; the budgets; the session's deadline and this envelope's
 * expiry (epoch milliseconds); and a random nonce. The worker never holds it: the capability in its
 * env ({@code env.TOOLS}) does, in the node.
 */
public record Envelope(String id, String session, String tenant, String actor, String codeHash, String policyHash,
                       String policyVersion, List<String> tools, Budgets budgets, long deadline, long expiry,
                       String nonce, long issuedAt) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public Envelope {
        tools = List.copyOf(tools);
    }

    /** The bytes that are signed: JSON in a fixed field order. */
    byte[] bytes() {
        ObjectNode o = JSON.createObjectNode();
        o.put("v", 1);
        o.put("id", id);
        o.put("session", session);
        o.put("tenant", tenant);
        o.put("actor", actor);
        o.put("codeHash", codeHash);
        o.put("policyHash", policyHash);
        o.put("policyVersion", policyVersion);
        var t = o.putArray("tools");
        tools.forEach(t::add);
        var b = o.putObject("budgets");
        b.put("toolCalls", budgets.toolCalls());
        b.put("cpuMs", budgets.cpuMs());
        b.put("wallMs", budgets.wallMs());
        b.put("spendUnits", budgets.spendUnits());
        o.put("deadline", deadline);
        o.put("expiry", expiry);
        o.put("nonce", nonce);
        o.put("issuedAt", issuedAt);
        return o.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The envelope in {@code bytes} (whose signature was checked); IllegalArgumentException if malformed. */
    static Envelope parse(byte[] bytes) {
        try {
            JsonNode o = JSON.readTree(bytes);
            if (o == null || o.path("v").asInt() != 1) throw new IllegalArgumentException("unknown envelope version");
            List<String> tools = new ArrayList<>();
            o.path("tools").forEach(t -> tools.add(t.textValue()));
            JsonNode b = o.path("budgets");
            return new Envelope(text(o, "id"), text(o, "session"), text(o, "tenant"), text(o, "actor"), text(o, "codeHash"),
                    text(o, "policyHash"), text(o, "policyVersion"), tools,
                    new Budgets(b.path("toolCalls").asLong(), b.path("cpuMs").asLong(), b.path("wallMs").asLong(),
                            b.path("spendUnits").asLong()),
                    o.path("deadline").asLong(), o.path("expiry").asLong(), text(o, "nonce"), o.path("issuedAt").asLong());
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("malformed envelope", e);
        }
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException("envelope field " + field + " is missing");
        return v.textValue();
    }
}
