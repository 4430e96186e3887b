package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaNamespace;
import dev.bulwark.objects.java.JavaObjectClass;
import dev.bulwark.objects.java.JavaObjectStub;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.server.node.Node;
import dev.bulwark.server.node.SessionWorkers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * Governance of a node (issue 15): sessions admitted per tenant, each owned by a
 * {@link SessionObject} (a Java durable object in the node); runs of generated code in a session
 * under a signed {@link Envelope}, with {@code env.TOOLS} as their only capability; and every tool
 * call mediated by the session object (envelope, sequence, ACL, budgets, schema, Cedar policies,
 * audit, ledger) before and after the tool runs.
 *
 * <pre>{@code
 * Governance gov = node.governance();
 * gov.registerTool(new Tool("tickets.open", schema, Contract.CONTROLLED_MUTATION, 1, call -> ...));
 * gov.policies(PolicyBundle.fromDirectory(dir, "v7"));
 * Map<String, Object> s = gov.admit("acme", new Admission("alice", "low", List.of("tickets.open"), Budgets.DEFAULTS, Map.of()));
 * Governance.Run run = gov.run("acme", (String) s.get("id"), code, input);
 * }</pre>
 */
public final class Governance implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Governance.class);
    static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern SESSION_ID = Pattern.compile("ses_[0-9a-f]{40}");
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_-]{0,62}");
    public static final long DEFAULT_ENVELOPE_TTL_MS = 15 * 60_000;

    private final Node node;
    private final EnvelopeKeys keys;
    private final byte[] idKey;
    private volatile Policies policies = new Policies(PolicyBundle.DEFAULT);
    private final Map<String, Tool> tools = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    /** Capability names of runs in flight, per session: revoked when the session ends. */
    private final Map<String, Set<String>> liveRuns = new ConcurrentHashMap<>();
    private volatile long envelopeTtlMs = DEFAULT_ENVELOPE_TTL_MS;
    public static final long DEFAULT_APPROVAL_TTL_MS = 24 * 3600_000L;
    private volatile long approvalTtlMs = DEFAULT_APPROVAL_TTL_MS;
    private volatile long checkpointEvery = SessionHistory.DEFAULT_EVERY;
    private volatile long approvalEscalateAfterMs;
    private volatile long approvalMaxWaitMs = dev.bulwark.server.config.ApprovalSettings.DEFAULT_MAX_WAIT_MS;
    private final Map<String, Integer> approvalQuorum = new ConcurrentHashMap<>();
    private volatile Approvers approvers = new Approvers(List.of());
    /** What mediation and approvals call: an {@link ApprovalFanout} of the embedder's events, the sweeper and the notifier. */
    private volatile ApprovalEvents approvalEvents = ApprovalEvents.NONE;
    private ApprovalNotifier notifier;
    private final ApprovalWaits approvalWaits = new ApprovalWaits();
    private ApprovalSweeper sweeper;
    volatile LongSupplier clock = System::currentTimeMillis;
    private Webhooks webhooks;
    /** Redaction rules for tool-call arguments in the trail; null: the trail keeps only their hash. */
    private volatile AuditRedaction auditRedaction;
    /** The per-tenant roll-up of the audit trails (AuditRollup); set by attach. */
    private AuditRollup auditRollup;
    /** Meters on the node's registry and the lanes of runs (issue 15 "Metrics", "Lanes"); set by attach. */
    private GovernanceMetrics metrics = GovernanceMetrics.NONE;
    private Lanes lanes;

    private Governance(Node node, EnvelopeKeys keys, byte[] idKey) {
        this.node = node;
        this.keys = keys;
        this.idKey = idKey;
    }

    /** Governance of {@code node} (use {@code node.governance()}, which calls this once). */
    public static Governance attach(Node node) {
        Path dir = node.settings().dataDir().resolve("governance");
        try {
            Files.createDirectories(dir);
            Governance g = new Governance(node, EnvelopeKeys.load(dir), secret(dir.resolve("session-ids.key")));
            g.auditRollup = new AuditRollup(dir, AuditCheckpoints.load(dir), g::auditRows, g::auditRowsAfter);
            g.metrics = new MicrometerGovernanceMetrics(node.metrics().registry());
            g.lanes = new Lanes(dev.bulwark.server.config.LaneSettings.DEFAULTS, g.metrics);
            node.javaObjects().register(JavaObjectClass.javaOnly(SessionObject.CLASS, ctx -> new SessionObject(ctx, g),
                    SessionObject.METHODS));
            node.javaObjects().register(JavaObjectClass.javaOnly(ApprovalIndex.CLASS, ApprovalIndex::new, ApprovalIndex.METHODS));
            g.sweeper = new ApprovalSweeper(g, dir.resolve("audit"));
            g.notifier = new ApprovalNotifier(g::webhooks, g::now);
            g.approvalEvents(null);
            return g;
        } catch (IOException e) {
            throw new UncheckedIOException("governance cannot keep its keys in " + dir, e);
        }
    }

    private static byte[] secret(Path file) throws IOException {
        if (Files.exists(file)) return Files.readAllBytes(file);
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        KeyFiles.writeOwnerOnly(file, key);
        return key;
    }

    // ---- configuration ----

    /**
     * A tool that is an HTTP webhook of the operator's service (see {@link Webhooks}): the node POSTs
     * the call as JSON to {@code url} with {@code credentials} as extra headers (an
     * {@code Authorization} header, say), under the node's egress policy. Register the tool it returns.
     */
    public Tool webhookTool(String name, com.fasterxml.jackson.databind.JsonNode argsSchema, Contract contract, long cost,
                            java.net.URI url, Map<String, String> credentials) {
        return webhookTool(name, argsSchema, contract, cost, url, credentials, null, null);
    }

    /**
     * A webhook tool with a lookup ({@code lookupUrl}, see {@link Webhooks#lookup}) and a revert
     * ({@code revertUrl}, see {@link Webhooks#revert}), each optional (null), called like the tool.
     */
    public Tool webhookTool(String name, com.fasterxml.jackson.databind.JsonNode argsSchema, Contract contract, long cost,
                            java.net.URI url, Map<String, String> credentials, java.net.URI lookupUrl, java.net.URI revertUrl) {
        for (java.net.URI u : new java.net.URI[] {url, lookupUrl, revertUrl}) {
            if (u != null && !"https".equals(u.getScheme()) && !"http".equals(u.getScheme())) {
                throw new IllegalArgumentException("a webhook URL is http or https");
            }
        }
        Webhooks w = webhooks();
        Map<String, String> creds = Map.copyOf(credentials);
        return new Tool(name, argsSchema, contract, cost, w.function(name, url, creds),
                lookupUrl == null ? null : w.lookup(name, lookupUrl, creds), revertUrl == null ? null : w.revert(name, revertUrl, creds));
    }

    /**
     * A tool carried out by {@code method(args, call)} of the entrypoint {@code entrypoint} (null: the
     * default export) of {@code worker}, a worker this node serves for {@code tenant}, by JS RPC (as
     * {@code service = {...}} in the settings: see {@link ConfiguredGovernance#entrypoint}). Optional
     * (null) {@code lookupMethod(args, call)} answering {@code {applied: true, value}} or
     * {@code {applied: false}}, and {@code revertMethod(args, call, value)}. Only sessions of
     * {@code tenant} can reach the worker; a worker that is not (or no longer) served for it fails the
     * call ({@code tool_failed}). Register the tool it returns.
     */
    public Tool entrypointTool(String tenant, String name, com.fasterxml.jackson.databind.JsonNode argsSchema, Contract contract,
                               long cost, String worker, String entrypoint, String method, String lookupMethod, String revertMethod) {
        checkTenant(tenant);
        if (worker == null || worker.isEmpty() || method == null) throw new IllegalArgumentException("an entrypoint tool names a worker and a method");
        for (String m : new String[] {method, lookupMethod, revertMethod}) {
            if (m != null && (!m.matches("[A-Za-z_$][A-Za-z0-9_$]*") || m.equals("fetch") || m.equals("constructor"))) {
                throw new IllegalArgumentException("not a method an entrypoint tool can call: " + m);
            }
        }
        var e = new dev.bulwark.server.config.GovernanceSettings.Entrypoint(worker, entrypoint, method, lookupMethod, revertMethod);
        var calls = new dev.bulwark.server.node.EntrypointCalls(node);
        return new Tool(name, argsSchema, contract, cost, ConfiguredGovernance.entrypoint(calls, tenant, e),
                lookupMethod == null ? null : ConfiguredGovernance.entrypointLookup(calls, tenant, e),
                revertMethod == null ? null : ConfiguredGovernance.entrypointRevert(calls, tenant, e));
    }

    /** The node's webhook client (tools, approval hooks), made on first use. */
    synchronized Webhooks webhooks() {
        if (webhooks == null) webhooks = new Webhooks(node.settings().egress());
        return webhooks;
    }

    /** Stops the webhook client (the node calls this when it closes). */
    @Override
    public synchronized void close() {
        if (sweeper != null) sweeper.close();
        if (notifier != null) notifier.close();
        if (auditRollup != null) try {
            auditRollup.close();
        } catch (IOException e) {
            // the stored audit trees are derived data, forced before each checkpoint: nothing is lost
        }
        if (webhooks != null) webhooks.close();
    }

    /** Registers (or replaces) a tool. */
    public void registerTool(Tool tool) {
        tools.put(tool.name(), tool);
    }

    /**
     * Replaces the policies. Envelopes issued under the old ones are refused from now on
     * ({@code policy_changed}, retryable: run again under the new ones).
     *
     * @throws IllegalArgumentException when a file does not parse or a rule is malformed
     */
    public void policies(PolicyBundle bundle) {
        this.policies = new Policies(bundle);
        log.info("governance policies version {} (sha256 {})", bundle.version(), policies.hash());
    }

    /**
     * Keeps tool-call arguments in the audit trail (allowed calls' decision rows), redacted by
     * {@code rules}; null (the default) keeps only their hash.
     */
    public void auditArguments(AuditRedaction rules) {
        this.auditRedaction = rules;
    }

    /** The arguments as the trail keeps them, or null when it keeps only their hash. */
    Object auditArgs(Object args) {
        AuditRedaction r = auditRedaction;
        return r == null ? null : r.apply(args);
    }

    /** How long an envelope is valid after it is issued (at most until the session's deadline). */
    public void envelopeTtlMs(long ms) {
        if (ms < 1) throw new IllegalArgumentException("the envelope lifetime is positive");
        this.envelopeTtlMs = ms;
    }

    /** How long an approval may wait for its decision before it expires. */
    public void approvalTtlMs(long ms) {
        if (ms < 1) throw new IllegalArgumentException("the approval lifetime is positive");
        this.approvalTtlMs = ms;
    }

    long approvalTtlMs() {
        return approvalTtlMs;
    }

    /**
     * How many tool calls a session object mediates between two checkpoints of its history (see
     * {@link SessionHistory}); 1,000 by default.
     */
    public void checkpointEvery(long operations) {
        if (operations < 1) throw new IllegalArgumentException("checkpoint_every is at least 1");
        this.checkpointEvery = operations;
    }

    long checkpointEvery() {
        return checkpointEvery;
    }

    /**
     * How long an approval waits before it is escalated to the {@code escalation} role (which may
     * then decide it too); 0 (the default): never. Shorter than the approval's lifetime.
     */
    public void approvalEscalateAfterMs(long ms) {
        if (ms < 0) throw new IllegalArgumentException("the escalation time is 0 (never) or positive");
        this.approvalEscalateAfterMs = ms;
    }

    long approvalEscalateAfterMs() {
        return approvalEscalateAfterMs;
    }

    /** Distinct approvers a call of {@code tool} needs (1 to 16; 1 by default). One rejection rejects. */
    public void approvalQuorum(String tool, int approvers) {
        if (approvers < 1 || approvers > 16) throw new IllegalArgumentException("a quorum is 1 to 16 approvers");
        approvalQuorum.put(tool, approvers);
    }

    long approvalQuorum(String tool) {
        return approvalQuorum.getOrDefault(tool, 1);
    }

    /** The longest a tool call may wait for its approval's decision ({@code waitMs} is cut to it; 0: no waiting). */
    public void approvalMaxWaitMs(long ms) {
        if (ms < 0) throw new IllegalArgumentException("the longest wait is 0 or positive");
        this.approvalMaxWaitMs = ms;
    }

    /** The approvers of every tenant (replaces those set before). Without any, a tenant's approvals cannot be decided. */
    public void approvers(List<dev.bulwark.server.config.ApprovalSettings.Approver> list) {
        this.approvers = new Approvers(list);
    }

    /** Everything of {@code governance.approvals} at once. */
    public void approvalSettings(dev.bulwark.server.config.ApprovalSettings a) {
        approvalTtlMs(a.ttlMs());
        approvalEscalateAfterMs(a.escalateAfterMs());
        approvalMaxWaitMs(a.maxWaitMs());
        a.quorum().forEach(this::approvalQuorum);
        approvers(a.approvers());
    }

    /**
     * How often the node looks for approvals past their escalation time or expiry, so they are
     * written, audited and told ({@link ApprovalEvents#settled}) near their deadline even when no one
     * reads them (reading them settles them too). 30 s by default.
     */
    public void approvalSweepMs(long ms) {
        sweeper.periodMs(ms);
    }

    /** Looks once, now, for approvals of every tenant past a deadline (see {@link #approvalSweepMs}). */
    public void sweepApprovals() {
        sweeper.sweep();
    }

    /** Where approvals' lives are told (the awaiting-approval lane, metrics); replaces the one set before. */
    public void approvalEvents(ApprovalEvents events) {
        this.approvalEvents = new ApprovalFanout(events == null ? ApprovalEvents.NONE : events, sweeper, notifier, this);
    }

    /**
     * Where approvals are told when they are created, escalated or expire (replaces the hooks set
     * before; an empty list: none). See {@link ApprovalNotifier} for the request, its signature and
     * retries. The URLs must be allowed by the node's egress policy for the worker name
     * {@code bulwark:governance}.
     */
    public void approvalHooks(List<ApprovalHook> hooks) {
        notifier.hooks(hooks);
    }

    /** How often an approval event is tried (1–20, default 5) and the first backoff (doubled each time, at most 60 s). */
    public void approvalHookRetries(int attempts, long backoffMs) {
        notifier.retries(attempts, backoffMs);
    }

    /** Sweeps the approval sweeper made on its own (tests). */
    long approvalSweeps() {
        return sweeper.sweeps.get();
    }

    /** The latest approval-event deliveries, oldest first (tests). */
    List<ApprovalNotifier.Outcome> approvalHookOutcomes() {
        return notifier.outcomes();
    }

    Policies policies() {
        return policies;
    }

    EnvelopeKeys keys() {
        return keys;
    }

    Tool tool(String name) {
        return tools.get(name);
    }

    long now() {
        return clock.getAsLong();
    }

    long envelopeTtlMs() {
        return envelopeTtlMs;
    }

    // ---- sessions ----

    /**
     * Admits a session of {@code tenant}: every tool it names must be registered. Returns the
     * session as {@link #session} shows it (its {@code id} included).
     *
     * @throws GovernanceException 400 {@code unknown_tool}
     */
    public Map<String, Object> admit(String tenant, Admission admission) {
        checkTenant(tenant);
        for (String t : admission.tools()) {
            if (!tools.containsKey(t)) throw GovernanceException.of(400, "unknown_tool", "no tool '" + t + "' is registered");
        }
        byte[] random = new byte[12];
        RANDOM.nextBytes(random);
        String id = "ses_" + HexFormat.of().formatHex(random) + mac(tenant, random);
        long now = now();
        Map<String, Object> terms = new LinkedHashMap<>();
        terms.put("id", id);
        terms.put("tenant", tenant);
        terms.put("actor", admission.actor());
        terms.put("risk", admission.risk());
        terms.put("tools", admission.tools());
        terms.put("budgets", admission.budgets().toMap());
        terms.put("metadata", admission.metadata());
        terms.put("createdAt", now);
        terms.put("deadline", now + admission.budgets().wallMs());
        @SuppressWarnings("unchecked")
        Map<String, Object> view = (Map<String, Object>) stub(tenant, id).call("admit", terms);
        if (view == null) throw GovernanceException.of(409, "session_exists", "a session with this id exists");
        try {
            auditRollup.noteSession(tenant, id);
        } catch (IOException e) {
            throw new UncheckedIOException("the tenant's audit session list cannot be written", e);
        }
        node.sessionWorkers().prewarm(tenant); // its first run takes a started process (sessionproc.md)
        return view;
    }

    /**
     * The session {@code id} of {@code tenant}: its terms, status, termination reason, counters.
     *
     * @throws GovernanceException 404 {@code not_found}, also for another tenant's session
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> session(String tenant, String id) {
        Map<String, Object> view = (Map<String, Object>) stub(tenant, known(tenant, id)).call("view");
        if (view == null) throw notFound();
        return view;
    }

    /** The session's audit trail, oldest first, and the first broken link of its chain (0: none). */
    @SuppressWarnings("unchecked")
    public Map<String, Object> audit(String tenant, String id) {
        session(tenant, id);
        List<Map<String, Object>> rows = (List<Map<String, Object>>) ((Map<String, Object>) stub(tenant, id).call("audit")).get("rows");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("session", id);
        out.put("rows", rows);
        out.put("firstBroken", AuditTrail.firstBroken(rows));
        return out;
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> auditRows(String tenant, String id) {
        Object out = stub(tenant, id).call("audit");
        return out instanceof Map<?, ?> m && m.get("rows") instanceof List<?> rows ? (List<Map<String, Object>>) rows : List.of();
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> auditRowsAfter(String tenant, String id, long afterSeq, long limit) {
        Object out = stub(tenant, id).call("auditAfter", afterSeq, limit);
        return out instanceof Map<?, ?> m && m.get("rows") instanceof List<?> rows ? (List<Map<String, Object>>) rows : List.of();
    }

    /**
     * The tenant's audit export written to {@code out} as UTF-8 JSONL while it is read (see
     * {@link AuditRollup#export}): the whole trail is never in memory. An error before the first byte
     * is thrown; after it, {@code out} has a partial export (the verifier refuses it).
     */
    public void auditExport(String tenant, java.io.OutputStream out) throws IOException {
        checkTenant(tenant);
        java.io.Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8),
                64 << 10);
        auditRollup.export(tenant, now(), w);
        w.flush();
    }

    /** The OCSF export, written as it is read (see {@link #auditExport(String, java.io.OutputStream)}). */
    public void auditExportOcsf(String tenant, java.io.OutputStream out) throws IOException {
        checkTenant(tenant);
        java.io.Writer w = new java.io.BufferedWriter(new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8),
                64 << 10);
        auditRollup.exportOcsf(tenant, w);
        w.flush();
    }

    /**
     * The tenant's audit export (JSONL, see {@link AuditRollup#export}): every record of its
     * sessions, the signed checkpoints (a new one made first when records are not covered), one
     * inclusion proof per record. As a string: for small trails; stream big ones.
     */
    public String auditExport(String tenant) {
        checkTenant(tenant);
        try {
            return auditRollup.export(tenant, now());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The tenant's audit records as OCSF 1.1 API Activity events (class_uid 6003), JSONL. */
    public String auditExportOcsf(String tenant) {
        checkTenant(tenant);
        try {
            return auditRollup.exportOcsf(tenant);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The inclusion proof of the audit record {@code <session>:<seq>} of {@code tenant}: record,
     * proof, checkpoint, public key.
     *
     * @throws GovernanceException 404 {@code not_found} (also for another tenant's session)
     */
    public Map<String, Object> auditProof(String tenant, String recordId) {
        checkTenant(tenant);
        int colon = recordId == null ? -1 : recordId.indexOf(':');
        if (colon < 0) throw notFound();
        known(tenant, recordId.substring(0, colon));
        try {
            Map<String, Object> doc = auditRollup.proofDocument(tenant, recordId, now());
            if (doc == null) throw notFound();
            return doc;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Ends the session ({@code reason}: completed, denied, ...): its envelopes are retired, the
     * capability of every run in flight is revoked (their next tool call fails), and its final
     * digest (the audit trail's head) is kept. Ending an ended session changes nothing.
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> end(String tenant, String id, String reason) {
        known(tenant, id);
        ReentrantLock lock = lock(id);
        lock.lock();
        try {
            Map<String, Object> view = (Map<String, Object>) stub(tenant, id).call("end", reason);
            if (view == null) throw notFound();
            Set<String> runs = liveRuns.remove(id);
            if (runs != null) runs.forEach(node::revokeCapability);
            node.sessionWorkers().sessionEnded(id); // its sandbox process stops (now, or when its last run is over)
            return view;
        } finally {
            lock.unlock();
        }
    }

    /** What a run answered: the envelope it ran under and its code's result. */
    public record Run(String envelope, Object result) {}

    /** A run and the lane it ran in. */
    public record LanedRun(Lane lane, Run run) {}

    /** The lanes governed runs are admitted to (configure them with {@link Lanes#configure}). */
    public Lanes lanes() {
        return lanes;
    }

    /** Governance's meters (the node's registry). */
    public GovernanceMetrics metrics() {
        return metrics;
    }

    /**
     * {@link #run} after taking a place in {@code lane} (null: the session's risk class decides,
     * see {@link Lane#choose}), held until the run ends: what {@code POST v1/sessions/{id}/run} does.
     *
     * @throws GovernanceException as {@link #run}, and the lane's refusals ({@link Lanes#enter})
     */
    public LanedRun run(String tenant, String id, WorkerCode code, Object input, String lane) {
        Lane chosen = Lane.choose(lane, (String) session(tenant, id).get("risk"));
        try (LaneSlot slot = lanes.enter(tenant, id, chosen)) {
            return new LanedRun(slot.lane(), run(tenant, id, code, input));
        }
    }

    /**
     * Runs generated code in the session: issues an envelope (recorded and audited by the session
     * object), loads the code as a dynamic worker of the tenant whose env holds only
     * {@code TOOLS}, calls its default export with {@code input}, and retires the envelope and
     * revokes the capability when it returns, whatever happened.
     *
     * @throws GovernanceException 404 not_found; 409 session_ended / session_deadline; 400
     *                             worker_load_failed; 500 code_threw (the code's own error, shown)
     */
    @SuppressWarnings("unchecked")
    public Run run(String tenant, String id, WorkerCode code, Object input) {
        known(tenant, id);
        String codeHash = SessionCode.hash(code);
        Map<String, Object> d = (Map<String, Object>) stub(tenant, id).call("dispatch", codeHash);
        if (d == null || !Boolean.TRUE.equals(d.get("ok"))) {
            GovernanceError e = d == null ? GovernanceError.of("session_not_found", "no such session")
                    : GovernanceError.fromMap((Map<String, Object>) d.get("error"));
            throw new GovernanceException(e.code().equals("session_not_found") ? 404 : 409, e);
        }
        String envelope = (String) d.get("envelope");
        String capName = "bulwark-session:" + id + ":" + envelope;
        WorkerCode wrapped;
        try {
            wrapped = SessionCode.wrap(code, (Long) d.get("cpuMs"));
        } catch (IllegalArgumentException e) {
            stub(tenant, id).call("retire", envelope);
            throw GovernanceException.of(400, "invalid_worker_code", e.getMessage());
        }
        byte[] args = StructuredValues.encode(List.of(input == null ? Map.of() : input), 8 << 20);
        liveRuns.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(capName);
        Message outcome;
        try {
            outcome = node.sessionWorkers().run(tenant, id, envelope, wrapped, "TOOLS", capName,
                    new SessionTools(this, tenant, id, (String) d.get("token")), "run", args);
        } finally {
            Set<String> runs = liveRuns.get(id);
            if (runs != null) runs.remove(capName);
            stub(tenant, id).call("retire", envelope);
        }
        return switch (outcome) {
            case Message.RpcResult r when r.threw() -> {
                Object thrown = decodeOrNull(r.value());
                throw GovernanceException.of(500, "code_threw", thrown instanceof RpcError e ? e.toString() : "the code threw a value");
            }
            case Message.RpcResult r -> new Run(envelope, decodeOrNull(r.value()));
            case Message.CallFailed f when f.code().equals(SessionWorkers.FULL) ->
                    throw GovernanceException.retryLater(503, f.code(), f.message(), 1);
            case Message.CallFailed f -> {
                ErrorCode c = ErrorCode.fromCode(f.code());
                boolean own = f.code().equals(ErrorCode.WORKER_LOAD_FAILED.code());
                // The tenant's own load error and the limits it hit are its to see; anything else only by its code.
                boolean shown = own || c == ErrorCode.CPU_LIMIT_EXCEEDED || c == ErrorCode.WALL_TIME_EXCEEDED
                        || c == ErrorCode.MEMORY_LIMIT_EXCEEDED;
                throw GovernanceException.of(own ? 400 : c.status(), c.code(), shown && f.message() != null ? f.message() : c.description());
            }
            default -> throw GovernanceException.of(500, ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description());
        };
    }

    /**
     * One tool call under a sealed envelope, as {@code env.TOOLS} makes it (and tests that play the
     * attacker with forged envelopes): the session object decides in one event; an allowed call
     * whose key is new runs the tool and records its outcome in a second, all under the session's
     * lock. Answers {@code {ok: true, value}} or {@code {ok: false, error}}.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> mediate(String tenant, String session, String token, long seq, String toolName, Object args, String key) {
        String idempotencyKey = key != null ? key : "auto:" + HexFormat.of().formatHex(randomBytes(16));
        ReentrantLock lock = lock(session);
        metrics.lock(lock);
        try {
            JavaObjectStub stub = stub(tenant, session);
            Object callArgs = args == null ? new LinkedHashMap<String, Object>() : args;
            Map<String, Object> d = (Map<String, Object>) stub.call("decide", token, seq, toolName, callArgs, idempotencyKey,
                    key != null);
            Tool tool = tools.get(toolName);
            ToolCall call = "answer".equals(d.get("verdict")) ? null : new ToolCall(session, tenant, (String) d.get("actor"),
                    toolName, (Map<String, Object>) callArgs, idempotencyKey);
            if ("lookup".equals(d.get("verdict"))) {
                // The outcome of an earlier call with this key is unknown: ask the tool, never run it blindly.
                d = (Map<String, Object>) stub.call("reconcile", idempotencyKey, lookup(tool, call));
            }
            if ("answer".equals(d.get("verdict"))) {
                Map<String, Object> answer = (Map<String, Object>) d.get("answer");
                if (answer.get("approval") instanceof Map<?, ?> a && Set.of("pending", "escalated").contains(a.get("state"))) {
                    boolean added = Boolean.TRUE.equals(index(tenant).call("add", a.get("id"), session, a.get("tool"),
                            a.get("requestedAt"), a.get("expiresAt")));
                    if (added) approvalEvents.pending(tenant, session, (String) a.get("id"), (String) a.get("tool"));
                }
                metrics.answered(answer);
                return answer;
            }
            CrashPoints.reach(CrashPoints.DECIDED);
            Map<String, Object> answer = new LinkedHashMap<>();
            try {
                Object value = tool.function().run(call);
                answer.put("ok", true);
                answer.put("value", value);
                StructuredValues.encode(answer, 8 << 20); // a result with no JS form is a failure, recorded as one
            } catch (Exception | StackOverflowError e) {
                log.warn("tool {} of session {} failed: {}", toolName, session, e.toString());
                answer = new GovernanceError("tool_failed", "the tool failed", null, null, false).answer();
            }
            CrashPoints.reach(CrashPoints.EFFECT);
            stub.call("record", idempotencyKey, answer);
            CrashPoints.reach(CrashPoints.RECORDED);
            metrics.answered(answer);
            return answer;
        } finally {
            lock.unlock();
        }
    }

    /** The tool's lookup for {@code call}, as the session object's {@code reconcile} takes it. */
    private static Map<String, Object> lookup(Tool tool, ToolCall call) {
        ToolLookup.Result found;
        try {
            found = tool == null || tool.lookup() == null ? new ToolLookup.Unknown() : tool.lookup().lookup(call);
        } catch (Exception | StackOverflowError e) {
            log.warn("the lookup of tool {} of session {} failed: {}", call.tool(), call.session(), e.toString());
            found = new ToolLookup.Unknown();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        switch (found) {
            case ToolLookup.Applied a -> {
                out.put("applied", true);
                out.put("value", a.value());
                try {
                    StructuredValues.encode(out, 8 << 20);
                } catch (RuntimeException e) {
                    log.warn("the lookup of tool {} answered a value with no JS form", call.tool());
                    out.clear();
                }
            }
            case ToolLookup.NotApplied n -> out.put("applied", false);
            case ToolLookup.Unknown u -> { }
            case null -> { }
        }
        return out;
    }

    // ---- the ledger, for operators ----

    /**
     * The session's ledger, oldest first (at most 1,000 rows): {@code key, tool, state, unknown?
     * (call | revert), outcome?, argsHash, createdAt, updatedAt}. Arguments are never listed.
     */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> ledger(String tenant, String id) {
        known(tenant, id);
        Map<String, Object> out = (Map<String, Object>) stub(tenant, id).call("ledger", 1_000L);
        if (out == null) throw notFound();
        return (List<Map<String, Object>>) out.get("ledger");
    }

    /**
     * An operator ({@code operator}: who, for the trail) settles the {@code outcome_unknown} row of
     * {@code key}: {@code applied} (a call's, with {@code value} as its recorded value; or a revert
     * that did not happen) or {@code not_applied} (the call's effect did not happen: the key runs once
     * when called again) or {@code reverted} (a revert's effect happened). Returns the row.
     *
     * @throws GovernanceException 404 not_found; 400 bad_request; 409 not_outcome_unknown
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> settle(String tenant, String id, String key, String state, Object value, String operator) {
        known(tenant, id);
        if (key == null || key.isEmpty() || key.length() > SessionTools.MAX_KEY_CHARS) {
            throw GovernanceException.of(400, "bad_request", "key is the idempotency key of a ledger row");
        }
        checkOperator(operator);
        ReentrantLock lock = lock(id);
        lock.lock();
        try {
            Map<String, Object> out = (Map<String, Object>) stub(tenant, id).call("settle", key, state, value, operator);
            if (out == null) throw notFound();
            if (!Boolean.TRUE.equals(out.get("ok"))) throw refusal(out);
            return (Map<String, Object>) out.get("entry");
        } finally {
            lock.unlock();
        }
    }

    /**
     * Rolls the session back: the revert of every applied call (successful, of a tool that is not
     * read-only), newest first, each at most once, crash-safely (see {@link SessionRollback}).
     * Returns {@code {reverted: [keys]}}.
     *
     * @throws GovernanceException 404 not_found; 400 bad_request; 409 ledger_unsettled / not_revertible /
     *                             revert_failed
     */
    public Map<String, Object> rollback(String tenant, String id, String operator) {
        known(tenant, id);
        checkOperator(operator);
        ReentrantLock lock = lock(id);
        lock.lock();
        try {
            return new SessionRollback(this, stub(tenant, id), tenant, id).run(operator);
        } finally {
            lock.unlock();
        }
    }

    static GovernanceException refusal(Map<String, Object> answer) {
        @SuppressWarnings("unchecked")
        GovernanceError e = GovernanceError.fromMap((Map<String, Object>) answer.get("error"));
        int status = switch (e.code()) {
            case "not_found" -> 404;
            case "bad_request" -> 400;
            default -> 409;
        };
        return new GovernanceException(status, e);
    }

    private static void checkOperator(String operator) {
        if (operator == null || !Admission.ACTOR.matcher(operator).matches()) {
            throw GovernanceException.of(400, "bad_request", "operator is 1 to 128 of A-Z a-z 0-9 . _ @ : + -");
        }
    }

    /**
     * The node refused a call on a run's {@code TOOLS} that came from another worker's invocation (a
     * subverted sandbox naming this session's capability id): audited in this session's trail.
     */
    void foreignCapabilityCall(String tenant, String session, String method) {
        try {
            stub(tenant, session).call("foreign", method);
        } catch (RuntimeException e) {
            log.warn("the refusal of a foreign call on session {}'s TOOLS could not be audited: {}", session, e.toString());
        }
    }

    // ---- approvals ----

    /** The states an approval can be in. */
    static final List<String> STATES = List.of("pending", "escalated", "approved", "rejected", "expired", "used");

    /**
     * The tenant's approvals, oldest first (at most 1,000), each {@code {id, session, tool, state,
     * requestedAt, expiresAt, escalatesAt, quorum, votes, decidedBy, decidedAt}}; {@code state} null
     * for all, else only those in that state. Listing settles them: an approval past its escalation
     * time or expiry is written (and audited) as escalated or expired, also after a restart.
     */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> approvals(String tenant, String state) {
        checkTenant(tenant);
        if (state != null && !STATES.contains(state)) {
            throw GovernanceException.of(400, "bad_request", "state is one of " + String.join(", ", STATES));
        }
        JavaObjectStub index = index(tenant);
        List<Map<String, Object>> all = new java.util.ArrayList<>();
        for (Object o : (List<Object>) index.call("list", (Object) null)) all.add(new LinkedHashMap<>((Map<String, Object>) o));
        // The index may lag behind the session objects (an approval used, expired, or a crash between
        // the two writes): states that can still change are read from the session that owns them.
        Map<String, Map<String, Map<String, Object>>> truth = new java.util.HashMap<>();
        for (Map<String, Object> a : all) {
            if (!Set.of("pending", "escalated", "approved").contains((String) a.get("state"))) continue;
            String session = (String) a.get("session");
            Map<String, Map<String, Object>> states = truth.computeIfAbsent(session, k -> {
                Map<String, Map<String, Object>> m = new java.util.HashMap<>();
                Map<String, Object> listed = (Map<String, Object>) stub(tenant, k).call("approvals");
                if (listed != null) {
                    for (Object x : (List<Object>) listed.get("approvals")) m.put((String) map(x).get("id"), map(x));
                }
                return m;
            });
            Map<String, Object> now = states.get((String) a.get("id"));
            if (now == null) continue;
            if (!now.get("state").equals(a.get("state"))) {
                index.call("state", a.get("id"), now.get("state"));
                if (Set.of("escalated", "expired").contains(now.get("state"))) {
                    approvalEvents.settled(tenant, session, (String) a.get("id"), (String) now.get("state"));
                    notifier.tell((String) now.get("state"), tenant, session, (String) a.get("id"), (String) a.get("tool"));
                }
            }
            a.putAll(now);
        }
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (Map<String, Object> a : all) if (state == null || state.equals(a.get("state"))) out.add(a);
        return out;
    }

    /**
     * An approver votes on a pending (or escalated) approval of the tenant: {@code decision} is
     * "approve" or "reject", {@code approverKey} the key of one of the tenant's approvers (compared
     * in constant time), who is then named in the trail. The session's own actor never decides its
     * calls; the {@code escalation} role decides only escalated approvals; a quorum needs distinct
     * approvers; one rejection rejects. A decision wakes the calls waiting for it; the approved call
     * runs (once) when it is called again with the same idempotency key, or at once in a call that
     * waits. Answers the approval.
     *
     * @throws GovernanceException 404 not_found; 400 bad_request; 403 no_approvers / not_an_approver /
     *                             approval_not_escalated; 409 approver_is_actor / approver_already_voted /
     *                             approval_approved / approval_rejected / approval_expired / approval_used
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> decideApproval(String tenant, String approvalId, String decision, String approverKey) {
        checkTenant(tenant);
        if (!"approve".equals(decision) && !"reject".equals(decision)) {
            throw GovernanceException.of(400, "bad_request", "decision is \"approve\" or \"reject\"");
        }
        if (approvalId == null || !approvalId.matches("apr_[0-9a-f]{20}")) throw GovernanceException.of(404, "not_found", "no such approval");
        Approvers who = approvers;
        if (!who.any(tenant)) {
            throw GovernanceException.of(403, "no_approvers", "the tenant has no approvers (governance.approvals.approvers)");
        }
        String session = (String) index(tenant).call("session", approvalId);
        if (session == null) throw GovernanceException.of(404, "not_found", "no such approval");
        dev.bulwark.server.config.ApprovalSettings.Approver approver = who.identify(tenant, approverKey);
        Map<String, Object> answer = (Map<String, Object>) stub(tenant, known(tenant, session)).call("resolve", approvalId, decision,
                approver == null ? null : approver.name(), approver == null ? null : approver.role());
        if (answer == null) throw GovernanceException.of(404, "not_found", "no such approval");
        if (!Boolean.TRUE.equals(answer.get("ok"))) {
            GovernanceError e = GovernanceError.fromMap((Map<String, Object>) answer.get("error"));
            boolean forbidden = Set.of("not_an_approver", "approval_not_escalated").contains(e.code());
            throw new GovernanceException(forbidden ? 403 : 409, e);
        }
        Map<String, Object> approval = (Map<String, Object>) answer.get("approval");
        metrics.approvalDecided(approval);
        index(tenant).call("state", approvalId, approval.get("state"));
        if (Boolean.TRUE.equals(answer.get("decided"))) {
            approvalEvents.decided(tenant, session, approvalId, (String) approval.get("state"));
            approvalWaits.decided(approvalId); // after the event: a woken call's waitEnded comes after it
        }
        return approval;
    }

    /**
     * A tool call waits for the decision on {@code approvalId} of its session: at most {@code waitMs},
     * cut to the configured longest wait and to the approval's expiry. Returns when it is decided (or
     * was already), or when the time is up; the caller then asks the session object again.
     */
    @SuppressWarnings("unchecked")
    void awaitApproval(String tenant, String session, String approvalId, long waitMs) {
        long bound = Math.min(waitMs, approvalMaxWaitMs);
        if (bound <= 0) return;
        java.util.concurrent.CompletableFuture<Void> decided = approvalWaits.register(approvalId);
        Map<String, Object> listed = (Map<String, Object>) stub(tenant, session).call("approvals");
        Map<String, Object> now = null;
        if (listed != null) {
            for (Object x : (List<Object>) listed.get("approvals")) if (approvalId.equals(map(x).get("id"))) now = map(x);
        }
        if (now == null || !Set.of("pending", "escalated").contains(now.get("state"))) {
            approvalWaits.forget(approvalId, decided);
            return;
        }
        bound = Math.min(bound, Math.max(0, (Long) now.get("expiresAt") - now()));
        approvalEvents.waitStarted(tenant, session, approvalId, bound);
        boolean came;
        // While it waits, the run holds a place in the approval lane, not in its own.
        try (Lanes.Parked parked = lanes().parkForApproval(session)) {
            came = approvalWaits.await(approvalId, decided, bound);
        }
        approvalEvents.waitEnded(tenant, session, approvalId, came ? "decided" : (String) now.get("state"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    private JavaObjectStub index(String tenant) {
        return node.javaObjects().namespace(tenant, ApprovalIndex.CLASS).getByName("approvals");
    }

    // ---- ids ----

    private JavaObjectStub stub(String tenant, String id) {
        JavaNamespace ns = node.javaObjects().namespace(tenant, SessionObject.CLASS);
        return ns.getByName(id);
    }

    /** {@code id} if it is a session id this node issued for {@code tenant}; else 404 (storage untouched). */
    private String known(String tenant, String id) {
        checkTenant(tenant);
        if (id == null || !SESSION_ID.matcher(id).matches()) throw notFound();
        byte[] random = HexFormat.of().parseHex(id, 4, 28);
        if (!MessageDigest.isEqual(mac(tenant, random).getBytes(StandardCharsets.US_ASCII),
                id.substring(28).getBytes(StandardCharsets.US_ASCII))) {
            throw notFound();
        }
        return id;
    }

    private String mac(String tenant, byte[] random) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(idKey, "HmacSHA256"));
            mac.update(tenant.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            return HexFormat.of().formatHex(mac.doFinal(random), 0, 8);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing", e);
        }
    }

    private static void checkTenant(String tenant) {
        if (tenant == null || !TENANT.matcher(tenant).matches()) throw new IllegalArgumentException("not a tenant name: " + tenant);
    }

    private ReentrantLock lock(String session) {
        return locks.computeIfAbsent(session, k -> new ReentrantLock(true));
    }

    private static GovernanceException notFound() {
        return GovernanceException.of(404, "not_found", "no such session");
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static Object decodeOrNull(byte[] value) {
        try {
            return StructuredValues.decode(value);
        } catch (RpcError e) {
            return null;
        }
    }
}
