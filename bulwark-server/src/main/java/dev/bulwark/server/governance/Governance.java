package dev.bulwark.server.governance;

import dev.bulwark.objects.java.JavaNamespace;
import dev.bulwark.objects.java.JavaObjectClass;
import dev.bulwark.objects.java.JavaObjectStub;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.server.node.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

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
    public static final long DEFAULT_ENVELOPE_TTL_MS = 15 * 60_000;

    private final Node node;
    private final EnvelopeKeys keys;
    private final SessionIds ids;
    private volatile Policies policies = new Policies(PolicyBundle.DEFAULT);
    private final Map<String, Tool> tools = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private volatile long envelopeTtlMs = DEFAULT_ENVELOPE_TTL_MS;
    public static final long DEFAULT_APPROVAL_TTL_MS = 24 * 3600_000L;
    private volatile long approvalTtlMs = DEFAULT_APPROVAL_TTL_MS;
    private volatile long checkpointEvery = SessionHistory.DEFAULT_EVERY;
    private volatile long approvalEscalateAfterMs;
    private final Map<String, Integer> approvalQuorum = new ConcurrentHashMap<>();
    /** What mediation and approvals call: an {@link ApprovalFanout} of the embedder's events, the sweeper and the notifier. */
    private volatile ApprovalEvents approvalEvents = ApprovalEvents.NONE;
    private ApprovalNotifier notifier;
    private ApprovalSweeper sweeper;
    volatile LongSupplier clock = System::currentTimeMillis;
    private Webhooks webhooks;
    /** Redaction rules for tool-call arguments in the trail; null: the trail keeps only their hash. */
    private volatile AuditRedaction auditRedaction;
    /** Meters on the node's registry and the lanes of runs (issue 15 "Metrics", "Lanes"); set by attach. */
    private GovernanceMetrics metrics = GovernanceMetrics.NONE;
    private Lanes lanes;
    // What governance does, each part in a class of its own (set by attach).
    private AuditExports audits;
    private final ToolMediation mediation = new ToolMediation(this);
    private final TenantApprovals tenantApprovals = new TenantApprovals(this);
    private final SessionRuns runs;
    private final LedgerOperations ledgers = new LedgerOperations(this);

    private Governance(Node node, EnvelopeKeys keys, SessionIds ids) {
        this.node = node;
        this.keys = keys;
        this.ids = ids;
        this.runs = new SessionRuns(this, node);
    }

    /** Governance of {@code node} (use {@code node.governance()}, which calls this once). */
    public static Governance attach(Node node) {
        Path dir = node.settings().dataDir().resolve("governance");
        try {
            Files.createDirectories(dir);
            Governance g = new Governance(node, EnvelopeKeys.load(dir), SessionIds.load(dir.resolve("session-ids.key")));
            g.audits = new AuditExports(g, dir);
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
        SessionIds.checkTenant(tenant);
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
        if (audits != null) try {
            audits.close();
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
        tenantApprovals.maxWaitMs(ms);
    }

    /** The approvers of every tenant (replaces those set before). Without any, a tenant's approvals cannot be decided. */
    public void approvers(List<dev.bulwark.server.config.ApprovalSettings.Approver> list) {
        tenantApprovals.approvers(list);
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
        SessionIds.checkTenant(tenant);
        for (String t : admission.tools()) {
            if (!tools.containsKey(t)) throw GovernanceException.of(400, "unknown_tool", "no tool '" + t + "' is registered");
        }
        String id = ids.issue(tenant);
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
        audits.noteSession(tenant, id);
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
    public Map<String, Object> audit(String tenant, String id) {
        return audits.trail(tenant, id);
    }

    /**
     * The tenant's audit export written to {@code out} as UTF-8 JSONL while it is read (see
     * {@link AuditRollup#export}): the whole trail is never in memory. An error before the first byte
     * is thrown; after it, {@code out} has a partial export (the verifier refuses it).
     */
    public void auditExport(String tenant, java.io.OutputStream out) throws IOException {
        audits.export(tenant, out);
    }

    /** The OCSF export, written as it is read (see {@link #auditExport(String, java.io.OutputStream)}). */
    public void auditExportOcsf(String tenant, java.io.OutputStream out) throws IOException {
        audits.exportOcsf(tenant, out);
    }

    /**
     * The tenant's audit export (JSONL, see {@link AuditRollup#export}): every record of its
     * sessions, the signed checkpoints (a new one made first when records are not covered), one
     * inclusion proof per record. As a string: for small trails; stream big ones.
     */
    public String auditExport(String tenant) {
        return audits.export(tenant);
    }

    /** The tenant's audit records as OCSF 1.1 API Activity events (class_uid 6003), JSONL. */
    public String auditExportOcsf(String tenant) {
        return audits.exportOcsf(tenant);
    }

    /**
     * The inclusion proof of the audit record {@code <session>:<seq>} of {@code tenant}: record,
     * proof, checkpoint, public key.
     *
     * @throws GovernanceException 404 {@code not_found} (also for another tenant's session)
     */
    public Map<String, Object> auditProof(String tenant, String recordId) {
        return audits.proof(tenant, recordId);
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
            runs.sessionEnded(id);
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
        return runs.run(tenant, id, code, input, lane);
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
    public Run run(String tenant, String id, WorkerCode code, Object input) {
        return runs.run(tenant, id, code, input);
    }

    /**
     * One tool call under a sealed envelope, as {@code env.TOOLS} makes it (and tests that play the
     * attacker with forged envelopes): the session object decides in one event; an allowed call
     * whose key is new runs the tool and records its outcome in a second, all under the session's
     * lock. Answers {@code {ok: true, value}} or {@code {ok: false, error}}.
     */
    Map<String, Object> mediate(String tenant, String session, String token, long seq, String toolName, Object args, String key) {
        return mediation.mediate(tenant, session, token, seq, toolName, args, key);
    }

    // ---- the ledger, for operators ----

    /**
     * The session's ledger, oldest first (at most 1,000 rows): {@code key, tool, state, unknown?
     * (call | revert), outcome?, argsHash, createdAt, updatedAt}. Arguments are never listed.
     */
    public List<Map<String, Object>> ledger(String tenant, String id) {
        return ledgers.ledger(tenant, id);
    }

    /**
     * An operator ({@code operator}: who, for the trail) settles the {@code outcome_unknown} row of
     * {@code key}: {@code applied} (a call's, with {@code value} as its recorded value; or a revert
     * that did not happen) or {@code not_applied} (the call's effect did not happen: the key runs once
     * when called again) or {@code reverted} (a revert's effect happened). Returns the row.
     *
     * @throws GovernanceException 404 not_found; 400 bad_request; 409 not_outcome_unknown
     */
    public Map<String, Object> settle(String tenant, String id, String key, String state, Object value, String operator) {
        return ledgers.settle(tenant, id, key, state, value, operator);
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
        return ledgers.rollback(tenant, id, operator);
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

    /**
     * The tenant's approvals, oldest first (at most 1,000), each {@code {id, session, tool, state,
     * requestedAt, expiresAt, escalatesAt, quorum, votes, decidedBy, decidedAt}}; {@code state} null
     * for all, else only those in that state. Listing settles them: an approval past its escalation
     * time or expiry is written (and audited) as escalated or expired, also after a restart.
     */
    public List<Map<String, Object>> approvals(String tenant, String state) {
        return tenantApprovals.list(tenant, state);
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
    public Map<String, Object> decideApproval(String tenant, String approvalId, String decision, String approverKey) {
        return tenantApprovals.decide(tenant, approvalId, decision, approverKey);
    }

    /**
     * A tool call waits for the decision on {@code approvalId} of its session: at most {@code waitMs},
     * cut to the configured longest wait and to the approval's expiry. Returns when it is decided (or
     * was already), or when the time is up; the caller then asks the session object again.
     */
    void awaitApproval(String tenant, String session, String approvalId, long waitMs) {
        tenantApprovals.await(tenant, session, approvalId, waitMs);
    }

    // ---- what the parts share ----

    /** What approvals are told to (see {@link #approvalEvents(ApprovalEvents)}). */
    ApprovalEvents approvalEvents() {
        return approvalEvents;
    }

    ApprovalNotifier notifier() {
        return notifier;
    }

    /** The tenant's approval index (see {@link ApprovalIndex}). */
    JavaObjectStub approvalIndex(String tenant) {
        return node.javaObjects().namespace(tenant, ApprovalIndex.CLASS).getByName("approvals");
    }

    /** The session object of session {@code id} (unchecked: see {@link #known}). */
    JavaObjectStub stub(String tenant, String id) {
        JavaNamespace ns = node.javaObjects().namespace(tenant, SessionObject.CLASS);
        return ns.getByName(id);
    }

    /** {@code id} if it is a session id this node issued for {@code tenant}; else 404 (storage untouched). */
    String known(String tenant, String id) {
        return ids.known(tenant, id);
    }

    /** The session's lock: mediation, ending, settling and rollback of one session take turns. */
    ReentrantLock lock(String session) {
        return locks.computeIfAbsent(session, k -> new ReentrantLock(true));
    }

    private static GovernanceException notFound() {
        return SessionIds.notFound();
    }
}
