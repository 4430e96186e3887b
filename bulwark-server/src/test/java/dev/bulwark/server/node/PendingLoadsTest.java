package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.node.CapabilityTableTest.FakePeer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * First calls behind their dynamic worker's load ({@code load:<callId>}) from a subverted parent's
 * side: the messages a hostile sandbox can send (a load, calls naming any load it likes) go into
 * {@link PendingLoads} as the node's reader would put them. Whatever it names, a call reaches only
 * the worker of a load its own process sent in the invocation it claims, as its own tenant (the
 * node's ordinary checks follow, see {@code Node.callable}); everything else is refused with
 * {@code not_found} and reaches nothing.
 */
class PendingLoadsTest {
    /** A call the node sent on to the normal call path: as which tenant, to which worker. */
    record Sent(String tenant, Message.CallStart call) {
    }

    final List<Sent> sent = new ArrayList<>();
    final PendingLoads loads = new PendingLoads((tenant, call, reply) -> sent.add(new Sent(tenant, call)));
    final FakePeer parent = new FakePeer("acme");
    final FakePeer sameTenantOtherProcess = new FakePeer("acme");
    final FakePeer otherTenant = new FakePeer("globex");

    static Message.CallStart call(long invocation, long callId, String named) {
        return new Message.CallStart(invocation, callId, new Address.Worker(named, "Api", null), "POST",
                "https://w/path", List.of(), new byte[] {1, 2});
    }

    /** Sends a call from {@code from} and returns what it was answered at once (null: held or sent on). */
    Message send(FakePeer from, Message.CallStart call) {
        List<Message> replies = new ArrayList<>();
        assertThat(loads.take(from, call, replies::add)).isTrue();
        assertThat(replies).hasSizeLessThanOrEqualTo(1);
        return replies.isEmpty() ? null : replies.getFirst();
    }

    static void assertRefused(Message answer, long callId, String why) {
        assertThat(answer).isEqualTo(new Message.CallFailed(callId, "not_found", why));
    }

    @Test
    void aCallNamingNoLoadGoesTheNormalWay() {
        assertThat(loads.take(parent, call(7, 2, "a1b2c3"), m -> { })).isFalse();
        assertThat(sent).isEmpty();
    }

    @Test
    void theLoadsOwnCallGoesOnToTheLoadedWorkerAsTheCallersTenantWhenTheLoadIsAnswered() {
        loads.started(parent, 7, 1);
        assertThat(send(parent, call(7, 2, "load:1"))).isNull();
        assertThat(sent).isEmpty(); // held until the load is answered
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-123"));
        assertThat(sent).hasSize(1);
        Message.CallStart c = sent.getFirst().call();
        assertThat(sent.getFirst().tenant()).isEqualTo("acme");
        assertThat(List.of(c.invocationId(), c.callId(), c.target(), c.method(), c.url(), c.headers()))
                .isEqualTo(List.of(7L, 2L, new Address.Worker("w-123", "Api", null), "POST", "https://w/path", List.of()));
        assertThat(c.body()).containsExactly(1, 2);
        assertThat(loads.size()).isZero();
    }

    @Test
    void anotherTenantsLoadIsNotFoundAndItsOwnCallStillGoes() {
        loads.started(parent, 7, 1);
        assertRefused(send(otherTenant, call(7, 2, "load:1")), 2,
                "no load of a dynamic worker 'load:1' is pending for this call");
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-123"));
        assertThat(sent).isEmpty();
        assertThat(send(parent, call(7, 2, "load:1"))).isNull();
        assertThat(sent).extracting(Sent::tenant).containsExactly("acme");
    }

    @Test
    void anotherProcessOfTheSameTenantCannotNameALoadItDidNotSend() {
        loads.started(parent, 7, 1);
        assertRefused(send(sameTenantOtherProcess, call(7, 2, "load:1")), 2,
                "no load of a dynamic worker 'load:1' is pending for this call");
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-123"));
        assertThat(sent).isEmpty();
    }

    @Test
    void anotherInvocationsLoadIsNotFound() {
        loads.started(parent, 7, 1);
        assertRefused(send(parent, call(8, 2, "load:1")), 2,
                "no load of a dynamic worker 'load:1' is pending for this call");
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-123"));
        assertRefused(send(parent, call(8, 3, "load:1")), 3,
                "no load of a dynamic worker 'load:1' is pending for this call");
        assertThat(sent).isEmpty();
    }

    @Test
    void aLoadThatDoesNotExistOrAMalformedNameIsNotFound() {
        loads.started(parent, 7, 1);
        for (String named : List.of("load:2", "load:", "load:x", "load:-1", "load:1 ", "load:99999999999999999999")) {
            assertRefused(send(parent, call(7, 5, named)), 5,
                    "no load of a dynamic worker '" + named + "' is pending for this call");
        }
        String longName = "load:" + "9".repeat(5_000);
        assertRefused(send(parent, call(7, 6, longName)), 6,
                "no load of a dynamic worker '" + longName.substring(0, 64) + "…' is pending for this call");
        assertThat(sent).isEmpty();
        // The real load is still there for its own call.
        assertThat(send(parent, call(7, 2, "load:1"))).isNull();
    }

    @Test
    void twoCallsToOneLoadTheSecondIsNotFoundBeforeAndAfterTheAnswer() {
        loads.started(parent, 7, 1);
        assertThat(send(parent, call(7, 2, "load:1"))).isNull();
        assertRefused(send(parent, call(7, 3, "load:1")), 3,
                "no load of a dynamic worker 'load:1' is pending for this call");
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-123"));
        assertRefused(send(parent, call(7, 4, "load:1")), 4,
                "no load of a dynamic worker 'load:1' is pending for this call");
        assertThat(sent).extracting(s -> s.call().callId()).containsExactly(2L);
    }

    @Test
    void aCallAfterItsLoadWasAnsweredGoesOnAtOnceOnlyOnce() {
        loads.started(parent, 7, 1);
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-123"));
        assertThat(send(parent, call(7, 2, "load:1"))).isNull();
        assertRefused(send(parent, call(7, 3, "load:1")), 3,
                "no load of a dynamic worker 'load:1' is pending for this call");
        assertThat(sent).extracting(s -> s.call().callId()).containsExactly(2L);
    }

    @Test
    void aCallBehindAFailedLoadFailsWithTheLoadsErrorAndGoesNowhere() {
        loads.started(parent, 7, 1);
        List<Message> replies = new ArrayList<>();
        assertThat(loads.take(parent, call(7, 2, "load:1"), replies::add)).isTrue();
        loads.answered(parent, 7, 1, new Message.CallFailed(1, "worker_load_failed", "SyntaxError: Unexpected token"));
        assertThat(replies).containsExactly(new Message.CallFailed(2, "worker_load_failed", "SyntaxError: Unexpected token"));
        // And a call that comes after the failed answer: the same error, once.
        loads.started(parent, 7, 10);
        loads.answered(parent, 7, 10, new Message.CallFailed(10, "not_found", "a dynamic worker has no worker loader"));
        assertThat(send(parent, call(7, 11, "load:10")))
                .isEqualTo(new Message.CallFailed(11, "worker_load_failed", "a dynamic worker has no worker loader"));
        assertThat(sent).isEmpty();
    }

    @Test
    void aLoadAnsweredTwiceKeepsItsFirstAnswer() {
        loads.started(parent, 7, 1);
        loads.answered(parent, 7, 1, new Message.CallFailed(1, "worker_load_failed", "first"));
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-123"));
        assertThat(send(parent, call(7, 2, "load:1")))
                .isEqualTo(new Message.CallFailed(2, "worker_load_failed", "first"));
        loads.started(parent, 7, 3);
        loads.answered(parent, 7, 3, new Message.DynamicLoaded(3, "w-good"));
        loads.answered(parent, 7, 3, new Message.DynamicLoaded(3, "w-other"));
        assertThat(send(parent, call(7, 4, "load:3"))).isNull();
        assertThat(sent).extracting(s -> ((Address.Worker) s.call().target()).workerId()).containsExactly("w-good");
    }

    @Test
    void twoLoadsWithOneCallIdNameNoLoadAndTheHeldCallFails() {
        loads.started(parent, 7, 1);
        List<Message> replies = new ArrayList<>();
        assertThat(loads.take(parent, call(7, 2, "load:1"), replies::add)).isTrue();
        loads.started(parent, 7, 1); // the same call id again
        assertThat(replies).containsExactly(new Message.CallFailed(2, "not_found",
                "two loads of a dynamic worker were sent with one call id"));
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-first"));
        assertRefused(send(parent, call(7, 3, "load:1")), 3,
                "no load of a dynamic worker 'load:1' is pending for this call");
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-second"));
        assertRefused(send(parent, call(7, 4, "load:1")), 4,
                "no load of a dynamic worker 'load:1' is pending for this call");
        assertThat(sent).isEmpty();
        assertThat(loads.size()).isZero();
    }

    @Test
    void aGoneProcessesLoadsAreForgottenAndNoOtherProcesssAre() {
        loads.started(parent, 7, 1);
        loads.answered(parent, 7, 1, new Message.DynamicLoaded(1, "w-123"));
        loads.started(parent, 7, 2);
        loads.started(sameTenantOtherProcess, 9, 1);
        loads.gone(parent);
        assertThat(loads.size()).isEqualTo(1);
        loads.answered(parent, 7, 2, new Message.DynamicLoaded(2, "w-late")); // its answer after it went
        assertThat(loads.size()).isEqualTo(1);
        assertThat(send(sameTenantOtherProcess, call(9, 3, "load:1"))).isNull();
        loads.answered(sameTenantOtherProcess, 9, 1, new Message.DynamicLoaded(1, "w-other"));
        assertThat(sent).extracting(Sent::tenant).containsExactly("acme");
    }

    @Test
    void answeredLoadsWhoseCallNeverCameAreBounded() {
        for (int i = 0; i < PendingLoads.MAX_ANSWERED + 100; i++) {
            loads.started(parent, 7, i);
            loads.answered(parent, 7, i, new Message.DynamicLoaded(i, "w-" + i));
        }
        assertThat(loads.size()).isEqualTo(PendingLoads.MAX_ANSWERED);
        // The oldest were forgotten: their call is not found; the newest still goes.
        assertRefused(send(parent, call(7, 1_000_000, "load:0")), 1_000_000,
                "no load of a dynamic worker 'load:0' is pending for this call");
        assertThat(send(parent, call(7, 1_000_001, "load:" + (PendingLoads.MAX_ANSWERED + 99)))).isNull();
        assertThat(sent).hasSize(1);
    }
}
