package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaDurableObject;
import dev.bulwark.objects.java.JavaObjectClass;
import dev.bulwark.objects.java.JavaObjectStub;
import dev.bulwark.objects.java.JavaStorage;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.Node;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Issue 15's speed goals, measured in the node's JVM (sample time: JMH prints p0.99):
 * <ul>
 *   <li>{@code policyDecision}: one Cedar decision ({@code Policies.decide}) with a permit, two
 *       forbid rules on arguments and history, and a log-only rule (goal p99 ≤ 1 ms);</li>
 *   <li>{@code mediate}: one tool call through {@code Governance.mediate} on a real node: the
 *       session's lock, event {@code decide} (envelope signature, sequence, ACL, budgets, schema,
 *       Cedar, the audit row, the ledger's pending row, one commit), a no-op Java tool, event
 *       {@code record} (ledger + effect row, one commit) (goal p99 ≤ 6 ms for the whole call; the
 *       JS side is {@code GovernanceHarness calls});</li>
 *   <li>{@code auditAppendAndProof}: one row appended to a hash-chained trail in a Java durable
 *       object's SQLite ({@code AuditTrail.append}, in an object event) and the inclusion proof of
 *       its leaf in a tree of {@code size} leaves, appended to and proven from the stored tree
 *       ({@code AuditMerkleStore}) (goal p99 ≤ 1 ms); {@code auditAppendAndProofRecomputed} is the same with
 *       the proof recomputed from every leaf ({@code AuditMerkle.path}), as before the store.</li>
 * </ul>
 * <pre>
 * $J $JOPTS -cp "$CP" org.openjdk.jmh.Main GovernanceBench -f 1 -wi 3 -i 5
 * </pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xss8m"})
public class GovernanceBench {

    static final PolicyBundle BUNDLE = new PolicyBundle("bench-1", Map.of(
            "base.cedar", "@id(\"allow\") permit(principal, action, resource);",
            "tickets.cedar", """
                    @id("no-refunds-by-ticket")
                    forbid(principal, action == Action::"tickets.open", resource) when { context.args.title like "*refund*" };
                    @id("at-most-a-million-per-minute")
                    forbid(principal, action == Action::"tickets.open", resource) when { context.history.toolCallsLastMinute >= 1000000 };
                    @id("one-is-enough") @mode("log-only")
                    forbid(principal, action == Action::"tickets.open", resource) when { context.history.toolCalls >= 1000000 };
                    """));

    @State(Scope.Benchmark)
    public static class PolicyState {
        Policies policies;
        Policies.Request request;

        @Setup
        public void setup() {
            policies = new Policies(BUNDLE);
            Map<String, Object> args = new LinkedHashMap<>();
            args.put("title", "printer on fire");
            args.put("priority", 2L);
            request = new Policies.Request("acme", "ses_0", "alice", "low", "tickets.open", Contract.CONTROLLED_MUTATION, 1,
                    args, 3, 1, 5, 3, false);
        }
    }

    @Benchmark
    public PolicyDecision policyDecision(PolicyState s) {
        return s.policies.decide(s.request);
    }

    @State(Scope.Benchmark)
    public static class NodeState {
        Path data;
        Node node;
        Governance gov;
        String session;
        String token;
        long seq;
        JavaObjectStub audit;

        @Setup(Level.Trial)
        public void start() throws Exception {
            data = Files.createTempDirectory("govbench");
            node = Node.start(Settings.of(data, "acme").withPort(0)
                    .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(0)));
            gov = node.governance();
            gov.policies(BUNDLE);
            gov.registerTool(new Tool("tickets.open", new com.fasterxml.jackson.databind.ObjectMapper().readTree("""
                    {"type": "object", "required": ["title"], "properties": {"title": {"type": "string", "maxLength": 200}}}"""),
                    Contract.CONTROLLED_MUTATION, 1, call -> "T-1"));
            node.javaObjects().register(JavaObjectClass.javaOnly("BenchAudit", ctx -> new BenchAudit(ctx.storage()), "append"));
            audit = node.javaObjects().namespace("acme", "BenchAudit").getByName("trail");
        }

        /** A fresh session each iteration: its history tables start empty, as a session's do. */
        @Setup(Level.Iteration)
        @SuppressWarnings("unchecked")
        public void session() {
            session = (String) gov.admit("acme", new Admission("alice", "low", List.of("tickets.open"),
                    new Budgets(1L << 50, 1_000, 24 * 3600_000L, 1L << 50), Map.of())).get("id");
            Map<String, Object> d = (Map<String, Object>) node.javaObjects().namespace("acme", SessionObject.CLASS).getByName(session)
                    .call("dispatch", "0".repeat(64));
            token = (String) d.get("token");
            seq = 0;
        }

        @TearDown(Level.Trial)
        public void stop() {
            node.close();
        }
    }

    /**
     * The tenant's Merkle tree the proof is taken in: {@code size} leaves, the new record the last.
     * {@code leaves} in memory (recomputed proofs, as before the stored tree) and the same leaves in
     * an {@link AuditMerkleStore} on disk (what the roll-up proves from).
     */
    @State(Scope.Benchmark)
    public static class TreeState {
        @Param({"1024", "65536"})
        int size;
        final List<byte[]> leaves = new ArrayList<>();
        Path dir;
        AuditMerkleStore store;

        @Setup(Level.Trial)
        public void fill() throws Exception {
            dir = Files.createTempDirectory("govbench-tree");
            store = AuditMerkleStore.open(dir);
            for (int i = 0; i < size - 1; i++) {
                byte[] leaf = AuditMerkle.leaf(AuditMerkle.canonical("ses_x", i + 1, 1000L + i, "decision", "{}", "p", "h" + i));
                leaves.add(leaf);
                store.append(leaf);
            }
            store.force();
        }

        @TearDown(Level.Trial)
        public void drop() throws Exception {
            store.close();
            try (var files = Files.walk(dir)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    static final class BenchAudit implements JavaDurableObject {
        private final AuditTrail trail;

        BenchAudit(JavaStorage storage) {
            AuditTrail.create(storage);
            this.trail = new AuditTrail(storage);
        }

        @Override
        public Object call(String method, List<Object> args) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("tool", "tickets.open");
            body.put("decision", "allow");
            body.put("argsHash", "9f".repeat(32));
            return trail.append(System.currentTimeMillis(), "decision", body);
        }
    }

    @Benchmark
    public Object mediate(NodeState s) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("title", "printer on fire");
        Map<String, Object> answer = s.gov.mediate("acme", s.session, s.token, ++s.seq, "tickets.open", args, null);
        if (!Boolean.TRUE.equals(answer.get("ok"))) throw new IllegalStateException("not allowed: " + answer);
        return answer;
    }

    /**
     * The row appended to the session's trail, its leaf appended to the stored tree (O(log n) writes)
     * and its inclusion proof read from the stored hashes (O(log n) reads); then the tree is cut back
     * (also measured) so that every proof is in a tree of {@code size} leaves.
     */
    @Benchmark
    public Object auditAppendAndProof(NodeState s, TreeState t) throws Exception {
        long seq = (Long) s.audit.call("append");
        t.store.append(AuditMerkle.leaf(AuditMerkle.canonical("ses_x", seq, 1000L, "decision", "{}", "p", "h")));
        List<byte[]> path = t.store.path(t.store.size() - 1, t.store.size());
        t.store.truncate(t.store.size() - 1);
        return path;
    }

    /** As before the stored tree: the proof recomputed from every leaf in memory ({@code AuditMerkle.path}, O(n)). */
    @Benchmark
    public Object auditAppendAndProofRecomputed(NodeState s, TreeState t) {
        long seq = (Long) s.audit.call("append");
        t.leaves.add(AuditMerkle.leaf(AuditMerkle.canonical("ses_x", seq, 1000L, "decision", "{}", "p", "h")));
        List<byte[]> path = AuditMerkle.path(t.leaves, t.leaves.size() - 1, t.leaves.size());
        t.leaves.removeLast(); // the tree keeps its size: each proof is of the same tree size
        return path;
    }
}
