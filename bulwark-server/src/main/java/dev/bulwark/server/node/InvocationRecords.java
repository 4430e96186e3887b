package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.egress.OutboundSummary;

import java.security.SecureRandom;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's view of every invocation in flight: whose it is (worker, tenant), where it stands in
 * a loop through this node, and what it did outbound. The egress gateway asks it who is fetching;
 * the loop limits are decided here when an invocation starts.
 *
 * <p>Loops, as Workers bounds them: every outbound request carries {@code CF-EW-Via} with the
 * number of invocations still allowed down its chain (16 in all), and an opaque token naming the
 * client request it descends from. A request that arrives with no invocations left, or whose
 * token names a chain that has caused {@link #TREE_LIMIT} invocations here, is refused with
 * {@code 508 loop_limit_exceeded}, so neither depth nor fan-out can multiply one client request.
 */
final class InvocationRecords {
    /** Invocations one chain may pass through (Workers: "more than 16 times" is a 1019 error). */
    static final int LOOP_LIMIT = 16;
    /** Invocations of this node one client request may cause through loops, over all branches. */
    static final int TREE_LIMIT = 16;
    static final String VIA = "cf-ew-via";
    static final String TREE = "x-bulwark-loop";

    private static final Tokens TOKENS = new Tokens(new SecureRandom());

    /** One client request and everything its loops through this node caused. */
    static final class Tree {
        final String token;
        int invocations;
        int live;

        Tree(String token) {
            this.token = token;
        }
    }

    /** One invocation in flight. */
    record Record(long id, String worker, String tenant, int remaining, Tree tree, OutboundSummary outbound) {
        /** The loop headers its outbound requests carry. */
        List<Message.Header> loopHeaders() {
            return List.of(new Message.Header(VIA, Integer.toString(remaining)), new Message.Header(TREE, tree.token));
        }
    }

    private final Map<Long, Record> live = new ConcurrentHashMap<>();
    private final Map<String, Tree> trees = new ConcurrentHashMap<>();

    /** The invocation's record, or null when the loop limits refuse it (the listener has been told). */
    Record admit(String tenant, long invocationId, String workerId, List<Message.Header> headers,
                 InvocationListener listener) {
        int via = LOOP_LIMIT;
        String token = null;
        for (Message.Header h : headers) {
            String name = h.name().toLowerCase(Locale.ROOT);
            if (name.equals(VIA)) via = parseVia(h.value(), via);
            else if (name.equals(TREE)) token = h.value();
        }
        if (via <= 0) return refuse(invocationId, listener, "the request passed through " + LOOP_LIMIT + " workers");
        Tree tree;
        synchronized (trees) {
            tree = token == null ? null : trees.get(token);
            if (tree == null) {
                tree = new Tree(TOKENS.next());
                trees.put(tree.token, tree);
            }
            if (tree.invocations >= TREE_LIMIT) {
                return refuse(invocationId, listener, "one client request caused " + TREE_LIMIT + " invocations of this node");
            }
            tree.invocations++;
            tree.live++;
        }
        Record r = new Record(invocationId, workerId, tenant, via - 1, tree, new OutboundSummary());
        live.put(r.id(), r);
        return r;
    }

    Record get(long invocationId) {
        return live.get(invocationId);
    }

    /** The invocation is over; its record is returned (null if unknown). */
    Record done(long invocationId) {
        Record r = live.remove(invocationId);
        if (r == null) return null;
        synchronized (trees) {
            if (--r.tree().live == 0) trees.remove(r.tree().token);
        }
        return r;
    }

    int liveTrees() {
        return trees.size();
    }

    private static int parseVia(String value, int dflt) {
        // Workers' value is an integer, possibly followed by other fields; take the leading number.
        String v = value.trim();
        int end = 0;
        while (end < v.length() && end < 4 && Character.isDigit(v.charAt(end))) end++;
        if (end == 0) return dflt;
        return Math.min(LOOP_LIMIT, Integer.parseInt(v.substring(0, end)));
    }

    private static Record refuse(long invocationId, InvocationListener listener, String why) {
        listener.failed(new Message.InvocationFailed(invocationId, ErrorCode.LOOP_LIMIT_EXCEEDED.code(),
                ErrorCode.LOOP_LIMIT_EXCEEDED.description() + ": " + why, false));
        listener.done(0);
        return null;
    }
}
