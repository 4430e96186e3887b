package dev.bulwark.server.governance;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.governance.GovernanceTest.code;
import static dev.bulwark.server.governance.GovernanceTest.map;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session object checks an envelope's signature once per token and remembers the envelope
 * (calls of a run present the same token): a token it has already accepted must not open the door
 * to anything else. Once the real token was used, a token with the same signature and other terms,
 * or the same terms and another signature, is still refused; and the remembered envelope is still
 * held to its state, expiry and policy hash on every call.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EnvelopeReuseTest {
    @TempDir
    Path data;
    final GovernanceTest base = new GovernanceTest();

    @AfterEach
    void stop() {
        base.stop();
    }

    @Test
    void anEnvelopeAlreadyVerifiedIsStillCheckedOnEveryCall() throws Exception {
        base.data = data;
        base.start();
        Governance gov = base.node.governance();
        String session = (String) gov.admit("acme", new Admission("alice", "low", List.of("tickets.open"), Budgets.DEFAULTS,
                Map.of())).get("id");
        var stub = base.node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(session);
        String token = (String) map(stub.call("dispatch", "c0de")).get("token");
        Map<String, Object> args = Map.of("title", "x");
        assertThat(gov.mediate("acme", session, token, 1, "tickets.open", args, "k1")).containsEntry("ok", true);

        String[] parts = token.split("\\.");
        String terms = new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8);
        // Other terms under the signature the session already accepted.
        String otherActor = Base64.getUrlEncoder().withoutPadding().encodeToString(
                terms.replace("\"alice\"", "\"admin\"").getBytes(StandardCharsets.UTF_8)) + "." + parts[1];
        assertThat(code(gov.mediate("acme", session, otherActor, 2, "tickets.open", args, "k2"))).isEqualTo("envelope_invalid");
        // The accepted terms under another signature (one character of it changed).
        char last = parts[1].charAt(parts[1].length() / 2);
        String otherSignature = parts[0] + "." + parts[1].substring(0, parts[1].length() / 2) + (last == 'A' ? 'B' : 'A')
                + parts[1].substring(parts[1].length() / 2 + 1);
        assertThat(code(gov.mediate("acme", session, otherSignature, 2, "tickets.open", args, "k3"))).isEqualTo("envelope_invalid");
        // The real token goes on working, in sequence (the refusals did not take a number).
        assertThat(gov.mediate("acme", session, token, 2, "tickets.open", args, "k4")).containsEntry("ok", true);

        // The remembered envelope is held to the policies in force...
        gov.policies(new PolicyBundle("v2", Map.of("all.cedar", "permit(principal, action, resource);")));
        assertThat(code(gov.mediate("acme", session, token, 3, "tickets.open", args, "k5"))).isEqualTo("policy_changed");
        gov.policies(PolicyBundle.DEFAULT);
        // ...to its expiry...
        long now = System.currentTimeMillis();
        gov.clock = () -> now + Governance.DEFAULT_ENVELOPE_TTL_MS + 1_000;
        assertThat(code(gov.mediate("acme", session, token, 3, "tickets.open", args, "k6"))).isEqualTo("envelope_expired");
        gov.clock = System::currentTimeMillis;
        assertThat(gov.mediate("acme", session, token, 3, "tickets.open", args, "k7")).containsEntry("ok", true);
        // ...and to its state: retired, it is dead.
        stub.call("retire", gov.keys().open(token).id());
        assertThat(code(gov.mediate("acme", session, token, 4, "tickets.open", args, "k8"))).isEqualTo("envelope_replayed");

        assertThat(base.opened).hasSize(3);
    }
}
