package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaObjectStub;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.node.EntrypointCalls;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.bulwark.server.governance.GovernanceTest.JSON;
import static dev.bulwark.server.governance.GovernanceTest.map;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tools implemented by another worker's entrypoint, with its {@code lookup} and {@code revert}
 * methods, against a real node serving a real worker: one tool from the settings
 * ({@code service = {worker, entrypoint, method, lookup_method, revert_method}}), one from the Java
 * API ({@link Governance#entrypointTool}). The worker keeps its effects in a durable object, so its
 * own log says what really happened. A crash between the effect and the ledger write is a
 * {@link LedgerTest.Crash} thrown after the worker answered (as in {@link LedgerTest}).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class EntrypointToolTest {
    static final String WORKER = """
            import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";

            export class Book extends DurableObject {
              constructor(ctx, env) {
                super(ctx, env);
                this.sql = ctx.storage.sql;
                this.sql.exec("CREATE TABLE IF NOT EXISTS effects (id INTEGER PRIMARY KEY, key TEXT UNIQUE, what TEXT)");
                this.sql.exec("CREATE TABLE IF NOT EXISTS log (n INTEGER PRIMARY KEY, line TEXT)");
              }
              apply(key, what) {
                const { id } = this.sql.exec("INSERT INTO effects (key, what) VALUES (?, ?) RETURNING id", key, what).one();
                this.sql.exec("INSERT INTO log (line) VALUES (?)", "apply " + key + " " + what);
                return id;
              }
              find(key) {
                return this.sql.exec("SELECT id, what FROM effects WHERE key = ?", key).toArray()[0] ?? null;
              }
              undo(key, value) {
                this.sql.exec("INSERT INTO log (line) VALUES (?)", "undo " + key + " " + JSON.stringify(value));
              }
              lines() {
                return this.sql.exec("SELECT line FROM log ORDER BY n").toArray().map(r => r.line);
              }
            }

            const book = env => env.BOOK.getByName("book");

            export class Tools extends WorkerEntrypoint {
              async charge(args, call) {
                const id = await book(this.env).apply(call.idempotencyKey, "charge " + args.cents);
                return { charge: "C-" + id, cents: args.cents, actor: call.actor, tool: call.tool };
              }
              async findCharge(args, call) {
                if (args.cents === 13) throw new Error("the ledger service is down");
                const row = await book(this.env).find(call.idempotencyKey);
                return row ? { applied: true, value: { charge: "C-" + row.id, cents: args.cents, actor: call.actor, tool: call.tool } }
                           : { applied: false };
              }
              async refundCharge(args, call, value) {
                await book(this.env).undo(call.idempotencyKey, value);
              }
              async openTicket(args, call) {
                const id = await book(this.env).apply(call.idempotencyKey, "ticket " + args.title);
                return "T-" + id;
              }
              async closeTicket(args, call, value) {
                await book(this.env).undo(call.idempotencyKey, value);
              }
              async lines() {
                return book(this.env).lines();
              }
            }

            export default { fetch() { return new Response("shop"); } };
            """;

    @TempDir
    Path dir;
    Node node;
    Governance gov;

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    void start() throws Exception {
        Path project = dir.resolve("shop");
        Files.createDirectories(project.resolve("src"));
        Files.writeString(project.resolve("src/index.js"), WORKER);
        Files.writeString(project.resolve("wrangler.jsonc"), """
                { "name": "shop", "main": "src/index.js", "compatibility_date": "2025-09-01",
                  "durable_objects": { "bindings": [{ "name": "BOOK", "class_name": "Book" }] },
                  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Book"] }] }
                """);
        Files.writeString(project.resolve("bulwark.toml"), """
                [[governance.tools]]
                name = "payments.charge"
                contract = "controlled_mutation"
                args_schema = { type = "object", required = ["cents"], properties = { cents = { type = "integer" } } }
                service = { worker = "shop", entrypoint = "Tools", method = "charge", lookup_method = "findCharge", revert_method = "refundCharge" }
                """);
        node = Node.serve(ProjectLoader.load(project, s -> s.withPort(0).withDataDir(dir.resolve("data"))));
        gov = node.governance();
        gov.registerTool(gov.entrypointTool("shop", "tickets.open", JSON.readTree("{\"type\": \"object\"}"), Contract.CONTROLLED_MUTATION, 1,
                "shop", "Tools", "openTicket", null, "closeTicket"));
    }

    /** The worker's own log of effects and undos, read through its entrypoint. */
    @SuppressWarnings("unchecked")
    List<String> workerLog() {
        Message m = new EntrypointCalls(node).rpc("shop", "shop", "Tools", "lines", StructuredValues.encode(List.of()));
        assertThat(m).isInstanceOf(Message.RpcResult.class);
        return (List<String>) StructuredValues.decode(((Message.RpcResult) m).value());
    }

    /** Calls under one envelope of {@code session}, numbered as env.TOOLS numbers them. */
    final class Caller {
        final String session;
        final String token;
        long seq;

        Caller(String session) {
            this.session = session;
            JavaObjectStub stub = node.javaObjects().namespace("shop", SessionObject.CLASS).getByName(session);
            this.token = (String) map(stub.call("dispatch", "code-hash")).get("token");
        }

        Map<String, Object> call(String tool, String key, Map<String, Object> args) {
            return gov.mediate("shop", session, token, ++seq, tool, new LinkedHashMap<>(args), key);
        }
    }

    String admit() {
        return (String) gov.admit("shop", new Admission("agent-7", "low", List.of("payments.charge", "tickets.open"),
                new Budgets(100, 1_000, 10 * 60_000, 1_000), Map.of())).get("id");
    }

    /** The configured tool, with its function made to "crash" (once) after the worker applied the effect for {@code key}. */
    void crashAfterEffect(String key) {
        Tool real = gov.tool("payments.charge");
        var once = new java.util.concurrent.atomic.AtomicBoolean();
        gov.registerTool(new Tool(real.name(), real.argsSchema(), real.contract(), real.cost(), call -> {
            Object value = real.function().run(call);
            if (call.idempotencyKey().equals(key) && once.compareAndSet(false, true)) throw new LedgerTest.Crash();
            return value;
        }, real.lookup(), real.revert()));
    }

    /** ... or before it reached the worker. */
    void crashBeforeEffect(String key) {
        Tool real = gov.tool("payments.charge");
        var once = new java.util.concurrent.atomic.AtomicBoolean();
        gov.registerTool(new Tool(real.name(), real.argsSchema(), real.contract(), real.cost(), call -> {
            if (call.idempotencyKey().equals(key) && once.compareAndSet(false, true)) throw new LedgerTest.Crash();
            return real.function().run(call);
        }, real.lookup(), real.revert()));
    }

    static Map<String, Object> charge(String id, long cents, boolean replayed) {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("charge", id);
        value.put("cents", cents);
        value.put("actor", "agent-7");
        value.put("tool", "payments.charge");
        return LedgerTest.ok(value, replayed);
    }

    @Test
    void anEntrypointToolRunsItsLookupAfterACrashAndItsRevertOnRollback() throws Exception {
        start();
        String s = admit();
        Caller c = new Caller(s);

        // Applied through the worker, recorded, replayed from the ledger.
        assertThat(c.call("payments.charge", "k1", Map.of("cents", 100))).isEqualTo(charge("C-1", 100, false));
        assertThat(c.call("payments.charge", "k1", Map.of("cents", 100))).isEqualTo(charge("C-1", 100, true));
        assertThat(c.call("tickets.open", "t1", Map.of("title", "printer"))).isEqualTo(LedgerTest.ok("T-2", false));

        // The node "dies" after the worker applied k2: the row is left pending; the retry asks the
        // worker's findCharge, which finds it: its value is recorded and the charge does not run again.
        crashAfterEffect("k2");
        assertThatThrownBy(() -> c.call("payments.charge", "k2", Map.of("cents", 200))).isInstanceOf(LedgerTest.Crash.class);
        assertThat(gov.ledger("shop", s).get(2)).containsEntry("key", "k2").containsEntry("state", "pending");
        assertThat(c.call("payments.charge", "k2", Map.of("cents", 200))).isEqualTo(charge("C-3", 200, true));
        assertThat(c.call("payments.charge", "k2", Map.of("cents", 200))).isEqualTo(charge("C-3", 200, true));

        // It dies before reaching the worker: findCharge answers not applied, so the call runs, once.
        crashBeforeEffect("k3");
        assertThatThrownBy(() -> c.call("payments.charge", "k3", Map.of("cents", 300))).isInstanceOf(LedgerTest.Crash.class);
        assertThat(c.call("payments.charge", "k3", Map.of("cents", 300))).isEqualTo(charge("C-4", 300, false));

        // The lookup itself throws (cents 13): outcome_unknown, nothing runs; an operator settles it.
        crashAfterEffect("k4");
        assertThatThrownBy(() -> c.call("payments.charge", "k4", Map.of("cents", 13))).isInstanceOf(LedgerTest.Crash.class);
        Map<String, Object> unknown = c.call("payments.charge", "k4", Map.of("cents", 13));
        assertThat(GovernanceTest.code(unknown)).isEqualTo("outcome_unknown");
        assertThat(workerLog()).containsExactly("apply k1 charge 100", "apply t1 ticket printer", "apply k2 charge 200",
                "apply k3 charge 300", "apply k4 charge 13");
        assertThatThrownBy(() -> gov.rollback("shop", s, "ops@shop")).isInstanceOfSatisfying(GovernanceException.class, e -> {
            assertThat(e.error().code()).isEqualTo("ledger_unsettled");
            assertThat(e.error().message()).endsWith(": k4");
        });
        Map<String, Object> settled = new LinkedHashMap<>();
        settled.put("charge", "C-5");
        settled.put("cents", 13L);
        gov.settle("shop", s, "k4", "applied", settled, "ops@shop");

        // Rollback: the worker's revert methods, newest first, each with the recorded value.
        Map<String, Object> rolled = gov.rollback("shop", s, "ops@shop");
        assertThat(rolled.get("reverted")).isEqualTo(List.of("k4", "k3", "k2", "t1", "k1"));
        assertThat(workerLog()).containsExactly("apply k1 charge 100", "apply t1 ticket printer", "apply k2 charge 200",
                "apply k3 charge 300", "apply k4 charge 13",
                "undo k4 {\"charge\":\"C-5\",\"cents\":13}",
                "undo k3 {\"charge\":\"C-4\",\"cents\":300,\"actor\":\"agent-7\",\"tool\":\"payments.charge\"}",
                "undo k2 {\"charge\":\"C-3\",\"cents\":200,\"actor\":\"agent-7\",\"tool\":\"payments.charge\"}",
                "undo t1 \"T-2\"",
                "undo k1 {\"charge\":\"C-1\",\"cents\":100,\"actor\":\"agent-7\",\"tool\":\"payments.charge\"}");
        assertThat(gov.rollback("shop", s, "ops@shop").get("reverted")).isEqualTo(List.of());
        assertThat(workerLog()).hasSize(10);
        assertThat(c.call("payments.charge", "k1", Map.of("cents", 100))).containsEntry("reverted", true);
        assertThat(gov.audit("shop", s).get("firstBroken")).isEqualTo(0L);
    }

    @Test
    void anEntrypointToolReachesOnlyItsOwnTenantsWorker() throws Exception {
        start();
        assertThatThrownBy(() -> gov.entrypointTool("shop", "x.y", JSON.readTree("{}"), Contract.READ_ONLY, 0, "shop", null, "fetch",
                null, null)).isInstanceOf(IllegalArgumentException.class);
        // A tool of another tenant naming this worker: its calls fail, the worker is not reached.
        gov.registerTool(gov.entrypointTool("acme", "acme.charge", JSON.readTree("{\"type\": \"object\"}"),
                Contract.CONTROLLED_MUTATION, 1, "shop", "Tools", "charge", null, null));
        String s = (String) gov.admit("acme", new Admission("agent-7", "low", List.of("acme.charge"),
                new Budgets(100, 1_000, 10 * 60_000, 1_000), Map.of())).get("id");
        JavaObjectStub stub = node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(s);
        String token = (String) map(stub.call("dispatch", "code-hash")).get("token");
        Map<String, Object> answer = gov.mediate("acme", s, token, 1, "acme.charge", new LinkedHashMap<>(Map.of("cents", 1)), "a1");
        assertThat(GovernanceTest.code(answer)).isEqualTo("tool_failed");
        assertThat(workerLog()).isEmpty();
    }
}
