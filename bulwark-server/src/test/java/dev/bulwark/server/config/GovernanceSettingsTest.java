package dev.bulwark.server.config;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static dev.bulwark.server.config.Fixtures.project;
import static dev.bulwark.server.config.Fixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code governance} settings: tools (webhook or worker entrypoint) and the policy directory. */
class GovernanceSettingsTest {
    @TempDir
    Path dir;

    @BeforeEach
    void worker() {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01" }""");
    }

    static final String TOOLS = """
            [governance]
            policies = "policies"
            policy_version = "v7"
            policy_mode = "log-only"

            [[governance.tools]]
            name = "tickets.open"
            contract = "controlled_mutation"
            cost = 2
            args_schema = { type = "object", required = ["title"], properties = { title = { type = "string" } } }
            webhook = { url = "https://tickets.example.com/hook", headers = { Authorization = "Bearer ${TICKETS_TOKEN}" } }

            [[governance.tools]]
            name = "payments.refund"
            contract = "privileged"
            args_schema = { type = "object" }
            service = { worker = "payments", entrypoint = "Tools", method = "refund" }
            """;

    @Test
    void toolsAndPoliciesAreRead() throws Exception {
        Files.createDirectory(dir.resolve("policies"));
        write(dir, ".dev.vars", "TICKETS_TOKEN=s3cret-value\n");
        write(dir, "bulwark.toml", TOOLS);

        ProjectConfig project = ProjectLoader.load(dir);
        GovernanceSettings g = project.settings().governance();

        assertThat(g.policyDir()).isEqualTo(dir.resolve("policies").toAbsolutePath().normalize());
        assertThat(g.policyVersion()).isEqualTo("v7");
        assertThat(g.policyMode()).isEqualTo("log-only");
        assertThat(g.tools()).hasSize(2);
        GovernanceSettings.ToolSetting ticket = g.tools().get(0);
        assertThat(ticket.name()).isEqualTo("tickets.open");
        assertThat(ticket.contract()).isEqualTo("controlled_mutation");
        assertThat(ticket.cost()).isEqualTo(2);
        assertThat(ticket.argsSchema().toString())
                .isEqualTo("{\"type\":\"object\",\"required\":[\"title\"],\"properties\":{\"title\":{\"type\":\"string\"}}}");
        // The settings keep the reference; the secret's value is filled in by the node, never stored here.
        assertThat(ticket.implementation()).isEqualTo(new GovernanceSettings.Webhook(
                URI.create("https://tickets.example.com/hook"), Map.of("Authorization", "Bearer ${TICKETS_TOKEN}")));
        assertThat(g.tools().get(1)).isEqualTo(new GovernanceSettings.ToolSetting("payments.refund",
                g.tools().get(1).argsSchema(), "privileged", 0, new GovernanceSettings.Entrypoint("payments", "Tools", "refund")));
        assertThat(project.settings().toString()).doesNotContain("s3cret-value");
    }

    @Test
    void withoutTheSectionThereIsNoGovernance() throws Exception {
        assertThat(ProjectLoader.load(dir).settings().governance()).isEqualTo(GovernanceSettings.NONE);
        assertThat(GovernanceSettings.NONE.isEmpty()).isTrue();
    }

    @Test
    void theWranglerFilesSectionWorksToo() throws Exception {
        project(dir, """
                { "name": "w", "main": "index.js", "compatibility_date": "2025-09-01",
                  "bulwark": { "governance": { "tools": [ { "name": "notes.read", "contract": "read_only",
                    "args_schema": { "type": "object" }, "service": { "worker": "w", "method": "read" } } ] } } }""");
        GovernanceSettings g = ProjectLoader.load(dir).settings().governance();
        assertThat(g.tools()).extracting(GovernanceSettings.ToolSetting::name).containsExactly("notes.read");
        assertThat(g.tools().getFirst().implementation()).isEqualTo(new GovernanceSettings.Entrypoint("w", null, "read"));
        assertThat(g.policyDir()).isNull();
    }

    private void refused(String toml, String message) {
        write(dir, "bulwark.toml", toml);
        assertThatThrownBy(() -> ProjectLoader.load(dir)).as(toml).isInstanceOf(ConfigException.class)
                .hasMessageContaining(message);
    }

    private static String tool(String extra) {
        return """
                [[governance.tools]]
                name = "a.b"
                contract = "read_only"
                args_schema = { type = "object" }
                """ + extra + "\n";
    }

    @Test
    void mistakesAreErrorsThatSayWhat() {
        refused("[governance]\nrules = 1\n", "is not a Bulwark setting; governance has approvals, checkpoint_every, lanes, policies, policy_mode, policy_version, tools");
        refused(tool("service = { worker = \"w\", method = \"m\" }\ntimeout = 3"),
                "is not a key of a tool; a tool has args_schema, contract, cost, name, service, webhook");
        refused(tool(""), "needs exactly one of webhook = {url, headers} or service = {worker, entrypoint, method}");
        refused(tool("service = { worker = \"w\", method = \"m\" }\nwebhook = { url = \"https://x.example\" }"),
                "needs exactly one of");
        refused(tool("webhook = { url = \"https://x.example\", headers = { Authorization = \"Bearer ${NOPE}\" } }"),
                "names the secret NOPE, which the project does not have");
        refused(tool("webhook = { url = \"ftp://x.example\" }"), "an http or https URL");
        refused(tool("service = { worker = \"w\", method = \"fetch\" }"), "not fetch or constructor");
        refused(tool("service = { worker = \"w\" }"), "method");
        refused(tool("service = { worker = \"w\", method = \"m\" }").replace("read_only", "admin"),
                "\"read_only\", \"controlled_mutation\" or \"privileged\"");
        refused(tool("service = { worker = \"w\", method = \"m\" }").replace("a.b", "Tickets"), "dotted parts");
        refused(tool("service = { worker = \"w\", method = \"m\" }").replace("args_schema = { type = \"object\" }",
                "args_schema = \"object\""), "a JSON schema object");
        refused(tool("service = { worker = \"w\", method = \"m\" }") + tool("service = { worker = \"w\", method = \"n\" }"),
                "names a tool defined before");
        refused("[governance]\npolicies = \"nowhere\"\n", "it does not exist");
        refused("[governance]\npolicy_mode = \"audit\"\n", "\"enforce\" or \"log-only\"");
        refused("[governance]\ncheckpoint_every = 0\n", "an integer from 1 to 1000000000");
        refused(tool("webhook = { url = \"https://x.example\", lookup_url = \"file:///etc/passwd\" }"), "an http or https URL");
        refused(tool("service = { worker = \"w\", method = \"m\", revert_method = \"constructor\" }"), "not fetch or constructor");
        refused(tool("service = { worker = \"w\", method = \"m\", undo = \"u\" }"),
                "a service tool has entrypoint, lookup_method, method, revert_method, worker");
    }

    @Test
    void lookupRevertAndCheckpointsAreRead() throws Exception {
        write(dir, "bulwark.toml", """
                [governance]
                checkpoint_every = 250
                """ + tool("""
                webhook = { url = "https://pay.example/charge", lookup_url = "https://pay.example/find", revert_url = "https://pay.example/undo" }""")
                + tool("service = { worker = \"w\", method = \"open\", lookup_method = \"find\", revert_method = \"close\" }")
                .replace("a.b", "c.d"));
        GovernanceSettings g = ProjectLoader.load(dir).settings().governance();
        assertThat(g.checkpointEvery()).isEqualTo(250);
        assertThat(g.tools().get(0).implementation()).isEqualTo(new GovernanceSettings.Webhook(URI.create("https://pay.example/charge"),
                Map.of(), URI.create("https://pay.example/find"), URI.create("https://pay.example/undo")));
        assertThat(g.tools().get(1).implementation()).isEqualTo(new GovernanceSettings.Entrypoint("w", null, "open", "find", "close"));
    }

    static final String CAROL = "5f3b1ad0f6f1d0b7b4a1d3f9e0c2a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1";

    @Test
    void approversTheirTimesAndQuorumsAreRead() throws Exception {
        write(dir, "bulwark.toml", """
                [governance.approvals]
                ttl_ms = 3600000
                escalate_after_ms = 600000
                max_wait_ms = 15000
                quorum = { "payments.refund" = 2 }

                [[governance.approvals.approvers]]
                tenant = "acme"
                name = "carol"
                role = "approver"
                key_sha256 = "%s"

                [[governance.approvals.approvers]]
                tenant = "acme"
                name = "erin"
                role = "escalation"
                key_sha256 = "%s"
                """.formatted(CAROL, CAROL.replace('5', '6')));
        ApprovalSettings a = ProjectLoader.load(dir).settings().governance().approvals();
        assertThat(a.ttlMs()).isEqualTo(3_600_000);
        assertThat(a.escalateAfterMs()).isEqualTo(600_000);
        assertThat(a.maxWaitMs()).isEqualTo(15_000);
        assertThat(a.quorum()).isEqualTo(Map.of("payments.refund", 2));
        assertThat(a.approvers()).containsExactly(
                new ApprovalSettings.Approver("acme", "carol", "approver", ApiSettings.parseDigest(CAROL)),
                new ApprovalSettings.Approver("acme", "erin", "escalation", ApiSettings.parseDigest(CAROL.replace('5', '6'))));
        assertThat(a.approvers().toString()).doesNotContain(CAROL);
        assertThat(ProjectLoader.load(dir).settings().governance().isEmpty()).isFalse();
    }

    @Test
    void approvalMistakesAreErrorsThatSayWhat() {
        String approver = "[[governance.approvals.approvers]]\ntenant = \"acme\"\nname = \"carol\"\nrole = \"approver\"\nkey_sha256 = \"" + CAROL + "\"\n";
        refused("[governance.approvals]\nwho = 1\n", "is not a key of governance.approvals");
        refused(approver.replace("\"approver\"", "\"boss\""), "\"approver\" or \"escalation\"");
        refused(approver.replace(CAROL, "abc"), "64 lower-case hex digits");
        refused(approver + approver.replace("carol", "dave"), "is the digest of a key given before");
        refused(approver + approver.replace(CAROL, CAROL.replace('5', '6')), "names an approver of this tenant defined before");
        refused(approver.replace("name = \"carol\"", "name = \"carol smith\""), "1 to 128 of");
        refused("[governance.approvals]\nttl_ms = 1000\nescalate_after_ms = 1000\n", "less than ttl_ms");
        refused("[governance.approvals]\nquorum = { \"a.b\" = 0 }\n", "an integer from 1 to 16");
        String hook = "[[governance.approvals.notify]]\nurl = \"https://ops.example/hooks\"\nsecret = \"HOOK_KEY\"\n";
        refused(hook, "names the secret HOOK_KEY, which the project does not have");
        write(dir, ".dev.vars", "HOOK_KEY=0123456789abcdef-hook\n");
        refused(hook.replace("https://ops.example/hooks", "ftp://ops.example/"), "an http or https URL");
        refused(hook.replace("HOOK_KEY", "${HOOK_KEY}"), "the name of a secret of the project");
        refused(hook + "events = [\"decided\"]\n", "\"pending\", \"escalated\" or \"expired\"");
        refused(hook + "retries = 3\n", "is not a key of an approval hook");
    }

    @Test
    void approvalHooksAreReadWithTheNameOfTheirSecret() throws Exception {
        write(dir, ".dev.vars", "HOOK_KEY=0123456789abcdef-hook\n");
        write(dir, "bulwark.toml", """
                [[governance.approvals.notify]]
                url = "https://ops.example/hooks/approvals"
                secret = "HOOK_KEY"

                [[governance.approvals.notify]]
                url = "http://pager.example/escalations"
                secret = "HOOK_KEY"
                events = ["escalated", "expired"]
                """);
        ApprovalSettings a = ProjectLoader.load(dir).settings().governance().approvals();
        assertThat(a.hooks()).containsExactly(
                new ApprovalSettings.Notify(java.net.URI.create("https://ops.example/hooks/approvals"), "HOOK_KEY",
                        java.util.Set.of("pending", "escalated", "expired")),
                new ApprovalSettings.Notify(java.net.URI.create("http://pager.example/escalations"), "HOOK_KEY",
                        java.util.Set.of("escalated", "expired")));
        assertThat(ProjectLoader.load(dir).settings().toString()).doesNotContain("0123456789abcdef-hook");
    }
}
