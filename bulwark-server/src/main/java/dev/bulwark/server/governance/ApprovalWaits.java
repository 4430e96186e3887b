package dev.bulwark.server.governance;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Tool calls waiting (bounded) for an approval's decision, in this node: a decision wakes every
 * call waiting on that approval. Nothing here is durable: a call that was waiting when the node
 * stopped gets its answer from its retry (the approval itself is in the session object).
 */
final class ApprovalWaits {
    private final Map<String, CompletableFuture<Void>> waits = new ConcurrentHashMap<>();

    /** Registers interest in {@code approvalId} (before its state is read, so no decision is missed). */
    CompletableFuture<Void> register(String approvalId) {
        return waits.computeIfAbsent(approvalId, k -> new CompletableFuture<>());
    }

    /** Waits at most {@code ms} for a decision; true if one came. */
    boolean await(String approvalId, CompletableFuture<Void> decided, long ms) {
        try {
            decided.get(Math.max(0, ms), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            waits.remove(approvalId, decided); // a later waiter registers afresh
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return false;
        }
    }

    /** {@code approvalId} was decided: every call waiting on it goes on. */
    void decided(String approvalId) {
        CompletableFuture<Void> f = waits.remove(approvalId);
        if (f != null) f.complete(null);
    }

    /** Waiting calls (tests). */
    int waiting() {
        return waits.size();
    }
}
