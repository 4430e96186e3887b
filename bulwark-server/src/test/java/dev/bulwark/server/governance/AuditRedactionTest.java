package dev.bulwark.server.governance;

import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Tool-call arguments in the audit trail, redacted by field paths and patterns before they are written. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AuditRedactionTest {
    static final AuditRedaction RULES = AuditRedaction.of(List.of("card.number", "contacts.*.email"),
            List.of("sk_live_[A-Za-z0-9]+", "\\b\\d{3}-\\d{2}-\\d{4}\\b"));

    static Map<String, Object> args() {
        Map<String, Object> card = new LinkedHashMap<>();
        card.put("number", "4111111111111111");
        card.put("expiry", "12/30");
        Map<String, Object> c1 = new LinkedHashMap<>(Map.of("email", "a@x.io", "name", "Ann"));
        Map<String, Object> c2 = new LinkedHashMap<>(Map.of("email", "b@x.io", "name", "Bob"));
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("card", card);
        a.put("contacts", List.of(c1, c2));
        a.put("note", "key sk_live_abc123 and ssn 123-45-6789, thanks");
        a.put("count", 3L);
        return a;
    }

    @Test
    void pathsMaskTheirValueAndPatternsMaskMatchesInStrings() {
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) RULES.apply(args());
        assertThat(Canonical.text(out)).isEqualTo(Canonical.text(Map.of(
                "card", Map.of("number", "[redacted]", "expiry", "12/30"),
                "contacts", List.of(Map.of("email", "[redacted]", "name", "Ann"), Map.of("email", "[redacted]", "name", "Bob")),
                "note", "key [redacted] and ssn [redacted], thanks",
                "count", 3L)));
        // A path whose value is an object masks the whole object; a path that is not there changes nothing.
        assertThat(AuditRedaction.of(List.of("card"), List.of()).apply(args()).toString()).contains("card=[redacted]").contains("sk_live_abc123");
        assertThat(Canonical.text(AuditRedaction.of(List.of("nope.deeper"), List.of()).apply(args()))).isEqualTo(Canonical.text(args()));
    }

    @Test
    void badRulesAreRefusedWithTheirText() {
        assertThatThrownBy(() -> AuditRedaction.of(List.of(), List.of("(unclosed"))).hasMessage("redaction pattern '(unclosed' is not a regular expression");
        assertThatThrownBy(() -> AuditRedaction.of(List.of("a..b"), List.of())).hasMessage("redaction path 'a..b': empty segment");
    }

    @TempDir
    Path data;
    Node node;

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    @Test
    void theTrailKeepsRedactedArgumentsOnlyAndTheSecretNeverReachesTheDatabase() throws Exception {
        GovernanceTest t = new GovernanceTest();
        t.data = data;
        node = t.start();
        node.governance().registerTool(new Tool("crm.update", GovernanceTest.JSON.readTree("{\"type\": \"object\"}"),
                Contract.CONTROLLED_MUTATION, 0, call -> "ok"));
        Map<String, Object> s = node.governance().admit("acme", new Admission("alice", "low", List.of("crm.update"), Budgets.DEFAULTS, Map.of()));
        String id = (String) s.get("id");
        String callIt = """
                export default async (input, env) => env.TOOLS.crm.update({
                  card: { number: "4111111111111111", expiry: "12/30" },
                  contacts: [{ email: "a@x.io", name: "Ann" }],
                  note: "key sk_live_abc123 please" });
                """;
        // Without rules: the hash only (the behaviour before rules existed).
        node.governance().run("acme", id, GovernanceTest.code(callIt), null);
        node.governance().auditArguments(RULES);
        node.governance().run("acme", id, GovernanceTest.code(callIt), null);

        List<String> decisions = new ArrayList<>();
        for (Object row : (List<?>) node.governance().audit("acme", id).get("rows")) {
            Map<?, ?> r = (Map<?, ?>) row;
            if (r.get("kind").equals("decision")) decisions.add((String) r.get("body"));
        }
        assertThat(decisions).hasSize(2);
        assertThat(decisions.get(0)).contains("\"argsHash\"").doesNotContain("\"args\"").doesNotContain("4111");
        assertThat(decisions.get(1)).contains("\"args\":{\"card\":{\"number\":\"[redacted]\",\"expiry\":\"12/30\"}")
                .contains("\"email\":\"[redacted]\"").contains("\"name\":\"Ann\"").contains("key [redacted] please")
                .doesNotContain("4111111111111111").doesNotContain("sk_live_abc123").doesNotContain("a@x.io");
        assertThat(node.governance().audit("acme", id).get("firstBroken")).isEqualTo(0L);
        node.close();
        node = null;
        // Not in the session's database file either (WAL included).
        try (Stream<Path> files = Files.walk(data.resolve("node-objects"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1)).as(f.toString())
                        .doesNotContain("sk_live_abc123");
            }
        }
    }
}
