package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Tells the configured {@link ApprovalHook}s when an approval is created ({@code pending}),
 * {@code escalated} or {@code expired}. Each event is a JSON POST
 * {@code {id, type, at, tenant, session, approval, tool, state}} through {@link Webhooks} (the
 * egress policy for the worker name {@value Webhooks#WORKER}, the address guard), signed:
 * {@code Bulwark-Signature: t=<ms>,v1=<hex HMAC-SHA256(secret, t + "." + body)>}, with
 * {@code Bulwark-Event-Id: <id>} ({@code <approval>:<type>}: the same event told twice has the same
 * id; receivers deduplicate on it). Delivery runs on a virtual thread of its own and never blocks
 * the approval path: a non-2xx answer or a failed request is retried with exponential backoff, at
 * most {@code attempts} times; an egress refusal is not retried. Every outcome is logged
 * ({@code delivered}, {@code failed} per attempt, {@code gave_up}, {@code refused}, {@code dropped}
 * when more than {@value #MAX_IN_FLIGHT} deliveries are under way) and kept in a short in-memory list.
 */
final class ApprovalNotifier {
    private static final Logger log = LoggerFactory.getLogger(ApprovalNotifier.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_IN_FLIGHT = 256;
    static final int DEFAULT_ATTEMPTS = 5;
    static final long DEFAULT_BACKOFF_MS = 1_000;
    static final long MAX_BACKOFF_MS = 60_000;
    static final long TIMEOUT_MS = 10_000;
    private static final int KEPT = 200;

    /** One delivery's outcome: {@code delivered}, {@code gave_up}, {@code refused} or {@code dropped}. */
    record Outcome(String eventId, String url, String result, int attempts, int lastStatus) {}

    private final Supplier<Webhooks> webhooks;
    private final LongSupplier clock;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final Deque<Outcome> outcomes = new ArrayDeque<>();
    private volatile List<ApprovalHook> hooks = List.of();
    private volatile int attempts = DEFAULT_ATTEMPTS;
    private volatile long backoffMs = DEFAULT_BACKOFF_MS;
    private volatile boolean closed;

    ApprovalNotifier(Supplier<Webhooks> webhooks, LongSupplier clock) {
        this.webhooks = webhooks;
        this.clock = clock;
    }

    void hooks(List<ApprovalHook> list) {
        this.hooks = List.copyOf(list);
    }

    void retries(int attempts, long backoffMs) {
        if (attempts < 1 || attempts > 20 || backoffMs < 0) throw new IllegalArgumentException("1 to 20 attempts, a backoff of 0 or more ms");
        this.attempts = attempts;
        this.backoffMs = backoffMs;
    }

    /** Tells every hook that wants {@code type} of it (pending, escalated, expired); returns at once. */
    void tell(String type, String tenant, String session, String approvalId, String tool) {
        List<ApprovalHook> to = hooks;
        if (to.isEmpty()) return;
        String id = approvalId + ":" + type;
        ObjectNode body = JSON.createObjectNode();
        body.put("id", id);
        body.put("type", "approval." + type);
        body.put("at", clock.getAsLong());
        body.put("tenant", tenant);
        body.put("session", session);
        body.put("approval", approvalId);
        body.put("tool", tool);
        body.put("state", type);
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        for (ApprovalHook h : to) {
            if (!h.events().contains(type)) continue;
            if (!inFlight.tryAcquire()) {
                record(new Outcome(id, h.url().toString(), "dropped", 0, 0));
                continue;
            }
            Thread.ofVirtual().name("approval-notify").start(() -> {
                try {
                    deliver(h, id, tenant, bytes);
                } finally {
                    inFlight.release();
                }
            });
        }
    }

    private void deliver(ApprovalHook h, String id, String tenant, byte[] body) {
        int status = 0;
        int max = attempts;
        for (int attempt = 1; attempt <= max && !closed; attempt++) {
            String t = Long.toString(clock.getAsLong());
            Map<String, String> headers = Map.of("Bulwark-Event-Id", id, "Bulwark-Signature", "t=" + t + ",v1=" + sign(h, t, body));
            try {
                status = webhooks.get().postEvent(h.url(), headers, body, tenant, TIMEOUT_MS);
                if (status / 100 == 2) {
                    record(new Outcome(id, h.url().toString(), "delivered", attempt, status));
                    return;
                }
                log.warn("approval event {} to {}: attempt {} answered {}", id, h.url(), attempt, status);
            } catch (IllegalStateException e) {
                record(new Outcome(id, h.url().toString(), "refused", attempt, 0));
                return;
            } catch (Exception e) {
                if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                log.warn("approval event {} to {}: attempt {} failed: {}", id, h.url(), attempt, e.toString());
                status = 0;
            }
            if (attempt < max) {
                try {
                    Thread.sleep(Math.min(MAX_BACKOFF_MS, backoffMs << Math.min(attempt - 1, 16)));
                } catch (InterruptedException e) {
                    break;
                }
            }
        }
        record(new Outcome(id, h.url().toString(), "gave_up", max, status));
    }

    /** The signature's {@code v1}: hex HMAC-SHA256 of {@code t + "." + body} with the hook's secret. */
    static String sign(ApprovalHook h, String t, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(h.secret(), "HmacSHA256"));
            mac.update((t + ".").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private void record(Outcome o) {
        if (o.result().equals("delivered")) {
            log.info("approval event {} delivered to {} (attempt {}, {})", o.eventId(), o.url(), o.attempts(), o.lastStatus());
        } else {
            log.warn("approval event {} to {}: {} after {} attempt(s)", o.eventId(), o.url(), o.result(), o.attempts());
        }
        synchronized (outcomes) {
            outcomes.addLast(o);
            while (outcomes.size() > KEPT) outcomes.removeFirst();
        }
    }

    /** Stops retrying (the node closes); deliveries under way end at their next attempt. */
    void close() {
        closed = true;
    }

    /** The latest outcomes, oldest first (tests, diagnostics). */
    List<Outcome> outcomes() {
        synchronized (outcomes) {
            return List.copyOf(outcomes);
        }
    }
}
