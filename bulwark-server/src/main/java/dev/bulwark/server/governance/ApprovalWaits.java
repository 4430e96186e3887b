package dev.bulwark.server.governance;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Tool calls waiting (bounded) for an approval's decision, in this node: a decision wakes every
 * call waiting on that approval. Each waiting call has its own registration, so one that gives up
 * (its bound passed) removes only itself and the others are still woken by the decision. Nothing
 * here is durable: a call that was waiting when the node stopped gets its answer from its retry
 * (the approval itself is in the session object).
 */
final class ApprovalWaits {
    private final Map<String, Set<CompletableFuture<Void>>> waits = new ConcurrentHashMap<>();

    /** Registers one waiting call's interest in {@code approvalId} (before its state is read, so no decision is missed). */
    CompletableFuture<Void> register(String approvalId) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        waits.compute(approvalId, (k, set) -> {
            Set<CompletableFuture<Void>> s = set != null ? set : ConcurrentHashMap.newKeySet();
            s.add(f);
            return s;
        });
        return f;
    }

    /** Waits at most {@code ms} for a decision; true if one came. Its registration is gone afterwards either way. */
    boolean await(String approvalId, CompletableFuture<Void> decided, long ms) {
        try {
            decided.get(Math.max(0, ms), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return false;
        } finally {
            forget(approvalId, decided);
        }
    }

    /** Drops one registration (a caller that did not wait after all, or gave up). */
    void forget(String approvalId, CompletableFuture<Void> decided) {
        waits.computeIfPresent(approvalId, (k, set) -> {
            set.remove(decided);
            return set.isEmpty() ? null : set;
        });
    }

    /** {@code approvalId} was decided: every call waiting on it goes on. */
    void decided(String approvalId) {
        Set<CompletableFuture<Void>> set = waits.remove(approvalId);
        if (set != null) for (CompletableFuture<Void> f : set) f.complete(null);
    }

    /** Waiting calls on all approvals (tests). */
    int waiting() {
        return waits.values().stream().mapToInt(Set::size).sum();
    }
}
