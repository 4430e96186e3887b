package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sandbox's memory of which objects the node placed in it (issue 11, branch dirgc): an
 * evicted object is forgotten (and reported to the node), unless a local call of it is starting,
 * which would re-activate it here after the node had been told it left.
 */
class LocalCallsTest {
    static final Address.DurableObject X = new Address.DurableObject("front", "Counter", "a".repeat(64), null);
    static final Address.DurableObject Y = new Address.DurableObject("front", "Counter", "b".repeat(64), null);

    final List<Message> toNode = new ArrayList<>();
    final List<Message> started = new ArrayList<>();
    final Subrequests subrequests = new Subrequests();
    final LocalCalls local = new LocalCalls(toNode::add, started::add, subrequests);

    boolean call(Address.DurableObject target) {
        long callId = subrequests.register(1L, m -> {}, () -> {});
        return local.fetch(local.outbox, 1L, callId, target, "GET", "http://do/", List.of(), null, false);
    }

    @Test
    void anEvictedObjectIsForgottenAndReported() {
        local.delivered(10L, X);
        local.delivered(11L, Y);
        assertThat(local.placements()).isEqualTo(2);

        assertThat(local.evicted(List.of(X))).containsExactly(X);
        assertThat(local.placements()).isEqualTo(1);
        assertThat(local.placedHere(X)).isFalse();
        // Its next call goes through the node, which places it afresh.
        assertThat(call(X)).isFalse();
        assertThat(call(Y)).isTrue();
    }

    @Test
    void anObjectWithALocalCallStartingIsKeptAndNotReported() {
        local.delivered(10L, X);
        assertThat(call(X)).isTrue();
        // The node was told of the local invocation; its start waits for the caller's flush.
        assertThat(toNode).singleElement().isInstanceOf(Message.LocalInvocation.class);
        assertThat(started).isEmpty();

        assertThat(local.evicted(List.of(X))).isEmpty();
        assertThat(local.placedHere(X)).isTrue();

        local.outbox.flush();
        assertThat(started).singleElement().isInstanceOf(Message.FetchStart.class);
        // Started: the next sweep that evicts it forgets it.
        assertThat(local.evicted(List.of(X))).containsExactly(X);
        assertThat(local.placements()).isZero();
    }

    @Test
    void anObjectNeverPlacedHereIsReportedAndLocalInvocationsAreNotPlacements() {
        local.delivered(LocalCalls.LOCAL_ID_BIT | 5L, X);
        assertThat(local.placements()).isZero();
        assertThat(local.evicted(List.of(X, Y))).containsExactly(X, Y);
    }
}
