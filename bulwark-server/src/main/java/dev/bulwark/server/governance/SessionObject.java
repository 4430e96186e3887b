package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.objects.java.JavaDurableObject;
import dev.bulwark.objects.java.JavaObjectContext;
import dev.bulwark.objects.java.JavaStorage;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.storage.SqlCursor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state owner of one session: a durable object implemented in Java, run in the node, one per
 * session id, with its own SQLite database holding the session's terms, state and counters, the
 * envelopes issued for it, its ledger and its audit trail. Every method is one serial event of the
 * object and commits as a whole (see docs/notes/javaobjects.md), so a decision and its audit row
 * commit together and nothing interleaves with them.
 *
 * <p>A tool call takes two events, {@code decide} and {@code record}, with the tool's effect run
 * between them by {@link Governance} while it holds the session's lock: {@code decide} commits
 * the decision's audit row and a {@code pending} ledger row <em>before</em> the effect, so a crash
 * during or after the effect leaves the row {@code pending}, which the next call with that key
 * (necessarily after the crash: the lock is held while a call is in flight) turns into
 * {@code outcome_unknown} instead of running the tool again.
 */
final class SessionObject implements JavaDurableObject {
    static final String CLASS = "BulwarkSession";
    static final String[] METHODS = {"admit", "view", "dispatch", "retire", "decide", "record", "audit", "end", "approvals",
            "resolve", "reconcile", "ledger", "settle", "rollbackPlan", "reverting", "reverted", "rollbackEnd", "history", "foreign", "auditAfter"};
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JavaObjectContext ctx;
    private final JavaStorage db;
    private final Governance gov;
    private final AuditTrail audit;
    private final SessionApprovals approvals;
    private final SessionLedger ledger;
    private final SessionHistory history;
    private final LedgerEvents ledgerEvents;
    private final ApprovalGate approvalGate;
    /**
     * The session's schema was found current (not made current) by an event of this instance: it
     * stays so (sessions are never deleted, nothing downgrades), so later events skip the checks.
     * Set only when nothing had to change, so an upgrade rolled back with its event is checked again.
     */
    private boolean current;
    /**
     * Tokens whose Ed25519 signature this instance checked, with their envelopes: the same token
     * string is the same bytes and signature, so it verifies the same way; each call of a run still
     * checks the envelope's state, expiry, deadline, policy hash and sequence. Bounded (a session
     * has one active envelope per run in flight); touched only by the event thread.
     */
    private final Map<String, Envelope> opened = new HashMap<>();
    /** The terms, read once per instance: written only by {@code admit}, never changed after. */
    private Map<String, Object> terms;
    static final int OPENED_MAX = 16;

    SessionObject(JavaObjectContext ctx, Governance gov) {
        this.ctx = ctx;
        this.db = ctx.storage();
        this.gov = gov;
        this.audit = new AuditTrail(db);
        this.approvals = new SessionApprovals(db);
        this.ledger = new SessionLedger(db);
        this.history = new SessionHistory(db);
        this.ledgerEvents = new LedgerEvents(ledger, audit, gov);
        this.approvalGate = new ApprovalGate(approvals, audit, gov, ctx.id().name());
    }

    private String sessionId() {
        return ctx.id().name();
    }

    @Override
    @SuppressWarnings("unchecked")
    public Object call(String method, List<Object> args) throws Exception {
        return switch (method) {
            case "admit" -> admit((Map<String, Object>) args.getFirst());
            case "view" -> view();
            case "dispatch" -> dispatch((String) args.getFirst());
            case "retire" -> retire((String) args.getFirst());
            case "decide" -> decide((String) args.get(0), (Long) args.get(1), (String) args.get(2), args.get(3),
                    (String) args.get(4), Boolean.TRUE.equals(args.get(5)));
            case "record" -> ready() ? ledgerEvents.record((String) args.get(0), (Map<String, Object>) args.get(1)) : null;
            case "reconcile" -> ready() ? ledgerEvents.reconcile((String) args.get(0), (Map<String, Object>) args.get(1)) : null;
            case "ledger" -> ready() ? ledgerEvents.list(((Long) args.getFirst()).intValue()) : null;
            case "settle" -> ready() ? ledgerEvents.settle((String) args.get(0), (String) args.get(1), args.get(2), (String) args.get(3)) : null;
            case "rollbackPlan" -> ready() ? ledgerEvents.rollbackPlan((String) args.getFirst(), (String) terms().get("actor")) : null;
            case "reverting" -> ready() ? ledgerEvents.reverting((String) args.getFirst()) : null;
            case "reverted" -> {
                if (ready()) ledgerEvents.reverted((String) args.get(0), Boolean.TRUE.equals(args.get(1)));
                yield null;
            }
            case "rollbackEnd" -> {
                if (ready()) ledgerEvents.rollbackEnd((String) args.get(0), (Long) args.get(1), (String) args.get(2));
                yield null;
            }
            case "history" -> ready() ? Map.of("rows", history.rows()) : null;
            case "audit" -> Map.of("rows", audit.rows());
            case "auditAfter" -> Map.of("rows", audit.rowsAfter((Long) args.get(0), (Long) args.get(1)));
            case "end" -> end((String) args.getFirst());
            case "approvals" -> approvalList();
            case "foreign" -> foreign((String) args.getFirst());
            case "resolve" -> resolve((String) args.get(0), (String) args.get(1), (String) args.get(2), (String) args.get(3));
            default -> throw new RpcError(RpcError.Type.TYPE_ERROR, "no method " + method); // refused before: see METHODS
        };
    }

    // ---- terms and state ----

    private boolean exists() {
        try (SqlCursor c = db.sql("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'terms'")) {
            return c.next() != null;
        }
    }

    /** Whether the session exists; if so, its ledger and history tables are brought up to date. */
    private boolean ready() {
        if (current) return true;
        if (!exists()) return false;
        boolean ledgerCurrent = SessionLedger.upgrade(db);
        boolean historyCurrent = SessionHistory.upgrade(db);
        current = ledgerCurrent && historyCurrent;
        return true;
    }

    /** The envelope of {@code token} if its signature verifies (see {@link #opened}), else null. */
    private Envelope open(String token) {
        Envelope e = opened.get(token);
        if (e != null) return e;
        e = gov.keys().open(token);
        if (e == null) return null;
        if (opened.size() >= OPENED_MAX) opened.clear();
        opened.put(token, e);
        return e;
    }

    private Map<String, Object> admit(Map<String, Object> terms) {
        if (exists()) return null;
        this.terms = null; // (an earlier admit of this instance may have rolled back)
        db.sql("CREATE TABLE terms (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)").close();
        db.sql("CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), status TEXT NOT NULL, reason TEXT,"
                + " tool_calls INTEGER NOT NULL, spend INTEGER NOT NULL, ended_at INTEGER, digest TEXT)").close();
        db.sql("CREATE TABLE envelopes (id TEXT PRIMARY KEY, issued_at INTEGER NOT NULL, expiry INTEGER NOT NULL,"
                + " code_hash TEXT NOT NULL, state TEXT NOT NULL, last_seq INTEGER NOT NULL)").close();
        SessionLedger.create(db);
        SessionHistory.create(db);
        AuditTrail.create(db);
        SessionApprovals.create(db);
        db.sql("INSERT INTO terms (id, json) VALUES (1, ?)", json(terms)).close();
        db.sql("INSERT INTO state (id, status, tool_calls, spend) VALUES (1, 'active', 0, 0)").close();
        Map<String, Object> body = new LinkedHashMap<>(terms);
        body.remove("metadata");
        audit.append(gov.now(), "admitted", body);
        return view();
    }

    /** The session's terms (a fresh copy each time: callers change theirs). */
    private Map<String, Object> terms() {
        if (terms == null) terms = readTerms();
        return new LinkedHashMap<>(terms);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> readTerms() {
        try (SqlCursor c = db.sql("SELECT json FROM terms WHERE id = 1")) {
            return java.util.Collections.unmodifiableMap(JSON.readValue((String) c.next().getFirst(), Map.class));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("the session's terms cannot be read", e);
        }
    }

    private record State(String status, String reason, long toolCalls, long spend, Long endedAt, String digest) {}

    private State state() {
        try (SqlCursor c = db.sql("SELECT status, reason, tool_calls, spend, ended_at, digest FROM state WHERE id = 1")) {
            List<Object> r = c.next();
            return new State((String) r.get(0), (String) r.get(1), (Long) r.get(2), (Long) r.get(3), (Long) r.get(4),
                    (String) r.get(5));
        }
    }

    private Map<String, Object> view() {
        if (!exists()) return null;
        Map<String, Object> out = new LinkedHashMap<>(terms());
        State s = state();
        long deadline = (Long) out.get("deadline");
        boolean expired = s.status().equals("active") && gov.now() >= deadline;
        out.put("status", expired ? "ended" : s.status());
        out.put("terminationReason", expired ? "deadline" : s.reason());
        out.put("toolCalls", s.toolCalls());
        out.put("spend", s.spend());
        if (s.digest() != null) out.put("digest", s.digest());
        try (SqlCursor c = db.sql("SELECT count(*) FROM envelopes")) {
            out.put("runs", c.next().getFirst());
        }
        out.put("pendingApprovals", approvalGate.waiting(gov.now()));
        return out;
    }

    private Budgets budgets(Map<String, Object> terms) {
        return Budgets.from(terms.get("budgets"));
    }

    // ---- dispatch ----

    private Map<String, Object> dispatch(String codeHash) {
        if (!exists()) return refusal("session_not_found", "no such session");
        Map<String, Object> terms = terms();
        State s = state();
        long now = gov.now();
        long deadline = (Long) terms.get("deadline");
        if (!s.status().equals("active")) return refusal("session_ended", "the session has ended (" + s.reason() + ")");
        if (now >= deadline) return refusal("session_deadline", "the session is past its deadline");
        Policies policies = gov.policies();
        byte[] random = new byte[16];
        Governance.RANDOM.nextBytes(random);
        String id = "env_" + HexFormat.of().formatHex(random, 0, 8);
        String nonce = HexFormat.of().formatHex(random, 8, 16);
        @SuppressWarnings("unchecked")
        Envelope e = new Envelope(id, sessionId(), ctx.tenant(), (String) terms.get("actor"), codeHash, policies.hash(),
                policies.version(), (List<String>) terms.get("tools"), budgets(terms), deadline,
                Math.min(deadline, now + gov.envelopeTtlMs()), nonce, now);
        String token = gov.keys().seal(e);
        db.sql("INSERT INTO envelopes (id, issued_at, expiry, code_hash, state, last_seq) VALUES (?, ?, ?, ?, 'active', 0)",
                id, now, e.expiry(), codeHash).close();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("envelope", id);
        body.put("codeHash", codeHash);
        body.put("policyHash", policies.hash());
        body.put("policyVersion", policies.version());
        body.put("expiry", e.expiry());
        audit.append(now, "dispatched", body);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", true);
        out.put("envelope", id);
        out.put("token", token);
        out.put("cpuMs", budgets(terms).cpuMs());
        return out;
    }

    private Map<String, Object> retire(String envelopeId) {
        if (!exists()) return null;
        db.sql("UPDATE envelopes SET state = 'retired' WHERE id = ? AND state = 'active'", envelopeId).close();
        audit.append(gov.now(), "retired", Map.of("envelope", envelopeId));
        return Map.of("ok", true);
    }

    // ---- mediation ----

    /**
     * One tool call's decision: checks the envelope, the sequence number, the ACL and tool, the
     * budgets, the arguments and the policies, audits the decision, then consults the ledger.
     * Answers {@code {verdict: "answer", answer}} (a refusal, or the outcome recorded for the key)
     * or {@code {verdict: "run", ...}} after committing a {@code pending} ledger row.
     */
    @SuppressWarnings("unchecked")
    private Map<String, Object> decide(String token, long seq, String toolName, Object rawArgs, String key, boolean explicitKey) {
        long now = gov.now();
        if (!ready()) return answer(GovernanceError.of("session_not_found", "no such session").answer());
        Envelope e = open(token);
        String envelopeId = e == null ? null : e.id();
        // The envelope's row (its state and last sequence number) and the session's state, read once.
        List<Object> issued = null;
        if (e != null) {
            try (SqlCursor c = db.sql("SELECT state, last_seq FROM envelopes WHERE id = ?", e.id())) {
                issued = c.next();
            }
        }
        State s = state();
        GovernanceError refused = checkEnvelope(e, issued == null ? null : (String) issued.get(0), s, now);
        if (refused == null && !(rawArgs instanceof Map)) refused = GovernanceError.of("invalid_arguments", "args must be an object");
        if (refused != null) return deny(now, envelopeId, toolName, key, refused, null);
        Map<String, Object> args = (Map<String, Object>) rawArgs;
        // The sequence number: each call of an envelope carries the next one (the capability counts them).
        long lastSeq = (Long) issued.get(1);
        if (seq != lastSeq + 1) {
            return deny(now, envelopeId, toolName, key, GovernanceError.of("sequence_out_of_order",
                    "call number " + seq + " of this envelope was expected to be " + (lastSeq + 1)), null);
        }
        db.sql("UPDATE envelopes SET last_seq = ? WHERE id = ?", seq, e.id()).close();
        Tool tool = gov.tool(toolName);
        if (!e.tools().contains(toolName) || tool == null) {
            return deny(now, envelopeId, toolName, key, GovernanceError.of("tool_not_allowed",
                    "this session may not call the tool '" + toolName + "'"), null);
        }
        // A key already in the ledger costs nothing more (it will not run again): budgets are for new effects.
        SessionLedger.Row row = ledger.byKey(key);
        boolean known = row != null;
        if (!known && s.toolCalls() >= e.budgets().toolCalls()) {
            return deny(now, envelopeId, toolName, key, GovernanceError.of("budget_exhausted",
                    "the session has used its " + e.budgets().toolCalls() + " tool calls"), tool);
        }
        if (!known && s.spend() + tool.cost() > e.budgets().spendUnits()) {
            return deny(now, envelopeId, toolName, key, GovernanceError.of("budget_exhausted",
                    "the session's spend would exceed " + e.budgets().spendUnits() + " units"), tool);
        }
        String violation = ArgsSchema.violation(tool.argsSchema(), args);
        if (violation != null) return deny(now, envelopeId, toolName, key, GovernanceError.of("invalid_arguments", violation), tool);
        String argsHash = Canonical.sha256(Canonical.text(args));
        SessionApprovals.Approval approval = tool.contract() == Contract.PRIVILEGED ? approvalGate.settle(approvals.byKey(key), now) : null;
        // "used": the approved call ran; a repeat of its key is answered by the ledger below.
        boolean approved = approval != null && List.of("approved", "used").contains(approval.stateAt(now))
                && approval.tool().equals(toolName) && approval.argsHash().equals(argsHash);
        Policies policies = gov.policies();
        SessionHistory.Counts counts = history.counts(toolName, now - SessionHistory.WINDOW_MS);
        PolicyDecision d = policies.decide(new Policies.Request(ctx.tenant(), sessionId(), e.actor(),
                (String) terms().get("risk"), toolName, tool.contract(), tool.cost(), args, counts.all(),
                counts.inWindow(), s.toolCalls(), s.spend(), approved));
        if (!d.allowed()) {
            return deny(now, envelopeId, toolName, key, new GovernanceError("policy_denied",
                    d.rule() == null ? "no policy permits this call" : "denied by policy " + d.policy() + " rule " + d.rule(),
                    d.policy(), d.rule(), false), tool);
        }
        if (tool.contract() == Contract.PRIVILEGED && !approved) {
            return gate(now, envelopeId, toolName, key, explicitKey, argsHash, approval, tool, d.quorum());
        }
        Map<String, Object> body = decisionBody(envelopeId, toolName, key, tool, "allow", null);
        body.put("argsHash", argsHash);
        Object keptArgs = gov.auditArgs(args); // redacted by the configured rules (AuditRedaction), or null
        if (keptArgs != null) body.put("args", keptArgs);
        body.put("policyHash", policies.hash());
        body.put("policyVersion", policies.version());
        if (!d.logOnlyDenials().isEmpty()) body.put("logOnlyDenials", d.logOnlyDenials());
        if (approved) body.put("approval", approval.id());
        audit.append(now, "decision", body);
        // The ledger, after the decision is in the trail (its row was read above: nothing in this event changed it).
        Map<String, Object> repeated = row == null ? null : ledgerEvents.repeat(now, envelopeId, key, toolName, argsHash, row, e.actor());
        if (row == null) {
            // The arguments are kept only when a revert will need them (they may hold what the trail redacts).
            ledger.insertPending(key, toolName, argsHash, envelopeId, tool.revert() != null ? args : null, now);
            db.sql("UPDATE state SET tool_calls = tool_calls + 1, spend = spend + ? WHERE id = 1", tool.cost()).close();
            history.note(toolName, now);
        }
        history.operation(now, gov.checkpointEvery(), audit, ledger);
        if (repeated != null) return repeated;
        if (approved && approval.state().equals("approved")) approvals.setState(approval.id(), "used");
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("verdict", "run");
        run.put("actor", e.actor());
        return run;
    }

    /**
     * A privileged call without its approval: the first call with an idempotency key asks for one
     * (a pending approval, audited) and answers {@code approval_pending} with its id; calls with the
     * same key answer the approval's state until it is approved, and then run (once, by the ledger).
     */
    private Map<String, Object> gate(long now, String envelopeId, String toolName, String key, boolean explicitKey, String argsHash,
                                     SessionApprovals.Approval approval, Tool tool, Integer policyQuorum) {
        if (!explicitKey) {
            return deny(now, envelopeId, toolName, key, GovernanceError.of("idempotency_key_required",
                    "the tool '" + toolName + "' is privileged: call it with an idempotencyKey, and again with the same key once approved"), tool);
        }
        if (approval != null && (!approval.tool().equals(toolName) || !approval.argsHash().equals(argsHash))) {
            return deny(now, envelopeId, toolName, key, GovernanceError.of("idempotency_key_reused",
                    "the idempotency key was used before for another tool or other arguments"), tool);
        }
        if (approval == null) {
            approval = approvalGate.request(now, decisionBody(envelopeId, toolName, key, tool, "approval_requested", null), key,
                    toolName, argsHash, policyQuorum);
        }
        GovernanceError err = ApprovalGate.waiting(approval);
        Map<String, Object> body = decisionBody(envelopeId, toolName, key, tool, "deny", err);
        body.put("approval", approval.id());
        audit.append(now, "decision", body);
        Map<String, Object> out = err.answer();
        out.put("approval", approvalGate.toMap(approval, now));
        return answer(out);
    }

    private Map<String, Object> approvalList() {
        if (!exists()) return null;
        return Map.of("approvals", approvalGate.list(gov.now()));
    }

    /** An approver's vote (see {@link ApprovalGate#resolve}); {@code approver} null: not an approver of the tenant. */
    private Map<String, Object> resolve(String approvalId, String decision, String approver, String role) {
        if (!exists()) return null;
        return approvalGate.resolve(gov.now(), approvalId, decision, approver, role, (String) terms().get("actor"));
    }

    /** The node refused a call on this session's TOOLS from another worker's invocation (see Governance). */
    private Map<String, Object> foreign(String method) {
        if (!exists()) return null;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("decision", "deny");
        body.put("error", GovernanceError.of("capability_not_held",
                "a call on this session's TOOLS came from an invocation that does not hold it (method "
                        + (method.length() > 64 ? method.substring(0, 64) + "…" : method) + ")").toMap());
        audit.append(gov.now(), "refused", body);
        return Map.of("ok", true);
    }

    /** {@code state}: the envelope's row's state (null: no such row); {@code s}: the session's state. */
    private GovernanceError checkEnvelope(Envelope e, String state, State s, long now) {
        if (e == null) return GovernanceError.of("envelope_invalid", "the envelope's signature does not verify");
        if (!e.session().equals(sessionId()) || !e.tenant().equals(ctx.tenant())) {
            return GovernanceError.of("envelope_foreign_session", "the envelope was issued for another session");
        }
        if (state == null) return GovernanceError.of("envelope_invalid", "this session never issued the envelope");
        if (state.equals("retired")) return GovernanceError.of("envelope_replayed", "the envelope's run has ended; it cannot be used again");
        if (now >= e.expiry()) return GovernanceError.of("envelope_expired", "the envelope expired");
        if (!s.status().equals("active")) return GovernanceError.of("session_ended", "the session has ended (" + s.reason() + ")");
        if (now >= e.deadline()) return GovernanceError.of("session_deadline", "the session is past its deadline");
        if (!e.policyHash().equals(gov.policies().hash())) {
            return new GovernanceError("policy_changed", "the policies changed since this envelope was issued", null, null, true);
        }
        return null;
    }

    private Map<String, Object> deny(long now, String envelopeId, String toolName, String key, GovernanceError err, Tool tool) {
        Map<String, Object> body = decisionBody(envelopeId, toolName, key, tool, "deny", err);
        body.put("policyHash", gov.policies().hash());
        body.put("policyVersion", gov.policies().version());
        audit.append(now, err.code().startsWith("envelope_") ? "refused" : "decision", body);
        return answer(err.answer());
    }

    private static Map<String, Object> decisionBody(String envelopeId, String toolName, String key, Tool tool, String decision,
                                                    GovernanceError err) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("envelope", envelopeId);
        body.put("tool", toolName);
        body.put("key", key);
        body.put("decision", decision);
        if (tool != null) body.put("contract", tool.contract().wire());
        if (err != null) body.put("error", err.toMap());
        return body;
    }

    private static Map<String, Object> answer(Map<String, Object> answer) {
        return LedgerEvents.answer(answer, false);
    }

    private static Map<String, Object> refusal(String code, String message) {
        return GovernanceError.of(code, message).answer();
    }

    // ---- termination ----

    private Map<String, Object> end(String reason) {
        if (!exists()) return null;
        State s = state();
        if (!s.status().equals("active")) return view();
        long now = gov.now();
        db.sql("UPDATE envelopes SET state = 'retired' WHERE state = 'active'").close();
        audit.append(now, "terminated", Map.of("reason", reason));
        db.sql("UPDATE state SET status = 'ended', reason = ?, ended_at = ?, digest = ? WHERE id = 1", reason, now, audit.head()).close();
        return view();
    }

    private static String json(Map<String, Object> m) {
        try {
            return JSON.writeValueAsString(m);
        } catch (Exception e) {
            throw new IllegalArgumentException("not JSON", e);
        }
    }
}
