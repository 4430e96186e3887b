package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.CapPayload;
import dev.bulwark.sandbox.ipc.Message;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The node's capability table from the attacker's side: whatever a (compromised) sandbox names,
 * only refs granted to the calling invocation work; ids are renamed as they pass; the exporter
 * hears when the last holder lets go.
 */
class CapabilityTableTest {
    static final class FakePeer implements Capabilities.Peer {
        final String tenant;
        final Set<Long> running = new HashSet<>();
        final List<Message> received = new ArrayList<>();

        FakePeer(String tenant) {
            this.tenant = tenant;
        }

        public String tenant() {
            return tenant;
        }

        public boolean runs(long invocationId) {
            return running.contains(invocationId);
        }

        public void deliver(Message message) {
            received.add(message);
        }
    }

    final Capabilities caps = new Capabilities();
    final FakePeer exporter = new FakePeer("t");
    final FakePeer receiver = new FakePeer("generated:t");

    static byte[] payload(CapPayload.Ref... refs) {
        return new CapPayload(List.of(refs), dev.bulwark.objects.java.StructuredValues.encode(List.of())).encode();
    }

    static long heldId(byte[] payload) {
        return ((CapPayload.Held) CapPayload.decode(payload).refs().getFirst()).capId();
    }

    /** Invocation 1 of the exporter passes export 7 to invocation 2 of the receiver; returns the receiver's id. */
    long grant() throws Exception {
        exporter.running.add(1L);
        receiver.running.add(2L);
        byte[] accepted = caps.accept(exporter, 1, payload(new CapPayload.Export(7)), (t, a) -> true);
        caps.deliver(accepted, 2);
        return heldId(accepted);
    }

    @Test
    void theReceiverSeesANewIdAndOnlyItsInvocationMayCallIt() throws Exception {
        long id = grant();
        assertThat(id).isNotEqualTo(7L);
        assertThat(caps.use(receiver, 2, id).target).isEqualTo(new Capabilities.Exported(exporter, 7, 1));
        // Another invocation of the same sandbox, the same invocation id claimed by another sandbox, a forged id.
        receiver.running.add(3L);
        assertThatThrownBy(() -> caps.use(receiver, 3, id)).hasMessage(Capabilities.NOT_GRANTED);
        FakePeer other = new FakePeer("generated:t"); // claims invocation 2 but does not run it
        assertThatThrownBy(() -> caps.use(other, 2, id)).hasMessage(Capabilities.NOT_GRANTED);
        assertThatThrownBy(() -> caps.use(receiver, 2, id + 1)).hasMessage(Capabilities.NOT_GRANTED);
        assertThatThrownBy(() -> caps.use(receiver, 2, 7)).hasMessage(Capabilities.NOT_GRANTED);
    }

    @Test
    void aStubCanBePassedOnOnlyByItsHolder() throws Exception {
        long id = grant();
        assertThatThrownBy(() -> caps.accept(receiver, 99, payload(new CapPayload.Held(id)), (t, a) -> true))
                .hasMessage(Capabilities.NOT_GRANTED);
        byte[] onward = caps.accept(receiver, 2, payload(new CapPayload.Held(id)), (t, a) -> true);
        assertThat(heldId(onward)).isNotEqualTo(id);
    }

    @Test
    void aCallRunningInsideTheInvocationThatPassedItsCallbackMayPassOnWhatThatOneHoldsAndNoLonger() throws Exception {
        long id = grant(); // held by invocation 2 of the receiver
        receiver.running.add(5L);
        receiver.running.add(6L);
        // Invocation 5 (a call on a callback of invocation 2) runs inside it; 6 does not.
        caps.runsInside(5, 2);
        assertThat(heldId(caps.accept(receiver, 5, payload(new CapPayload.Held(id)), (t, a) -> true))).isNotEqualTo(id);
        assertThatThrownBy(() -> caps.accept(receiver, 6, payload(new CapPayload.Held(id)), (t, a) -> true))
                .hasMessage(Capabilities.NOT_GRANTED);
        // Another sandbox claiming invocation 5 gets nothing; once 5 is done the alias is gone.
        assertThatThrownBy(() -> caps.use(new FakePeer("generated:t"), 5, id)).hasMessage(Capabilities.NOT_GRANTED);
        caps.invocationDone(5);
        assertThatThrownBy(() -> caps.use(receiver, 5, id)).hasMessage(Capabilities.NOT_GRANTED);
        // The host ended: its refs are gone for the calls it hosted too.
        caps.runsInside(6, 2);
        receiver.running.remove(2L);
        assertThatThrownBy(() -> caps.use(receiver, 6, id)).hasMessage(Capabilities.NOT_GRANTED);
    }

    @Test
    void refsDieWithTheirInvocationAndTheLastOneDropsTheExport() throws Exception {
        long id = grant();
        caps.invocationDone(2);
        assertThatThrownBy(() -> caps.use(receiver, 2, id)).hasMessage(Capabilities.NOT_GRANTED);
        assertThat(exporter.received).containsExactly(new Message.ExportDrop(List.of(7L)));
        assertThat(caps.liveRefs()).isZero();
    }

    @Test
    void stubsInATargetsPropsAreTheCalleesForItsInvocationAndCannotTravelInAnAddress() throws Exception {
        exporter.running.add(1L);
        receiver.running.add(2L);
        Address.Worker target = new Address.Worker("dyn-x", null, Address.Grant.props(payload(new CapPayload.Export(7))));
        Address accepted = caps.acceptTarget(exporter, 1, target, (t, a) -> true);
        byte[] props = Capabilities.propsOf(accepted);
        long id = heldId(props);
        caps.deliver(props, 2);
        assertThat(caps.use(receiver, 2, id).target).isEqualTo(new Capabilities.Exported(exporter, 7, 1));
        caps.invocationDone(2); // the callee's invocation ends: so does its hold on the props' stubs
        assertThatThrownBy(() -> caps.use(receiver, 2, id)).hasMessage(Capabilities.NOT_GRANTED);
        assertThat(caps.liveRefs()).isZero();
        // Data-only props: the very target. An address whose props hold refs is not passed on.
        Address.Worker plain = new Address.Worker("dyn-x", null, Address.Grant.props(new byte[] {(byte) 0xb7}));
        assertThat(caps.acceptTarget(exporter, 1, plain, (t, a) -> true)).isSameAs(plain);
        assertThatThrownBy(() -> caps.accept(exporter, 1, payload(new CapPayload.Addressed(accepted)), (t, a) -> true))
                .isInstanceOf(Capabilities.CapabilityException.class).hasMessageContaining("cannot be passed on");
        // A call that never started lets go of them.
        Address again = caps.acceptTarget(exporter, 1, target, (t, a) -> true);
        assertThat(caps.liveRefs()).isOne();
        caps.discard(Capabilities.propsOf(again));
        assertThat(caps.liveRefs()).isZero();
    }

    @Test
    void onlyTheHolderCanReleaseARef() throws Exception {
        long id = grant();
        caps.release(receiver, 3, List.of(id));
        assertThat(caps.use(receiver, 2, id)).isNotNull();
        caps.release(receiver, 2, List.of(id));
        assertThatThrownBy(() -> caps.use(receiver, 2, id)).hasMessage(Capabilities.NOT_GRANTED);
    }

    @Test
    void revokedAndGoneExportsFailForEveryHolder() throws Exception {
        long id = grant();
        caps.revoke(receiver, List.of(7L), false); // not the exporter: no effect
        assertThat(caps.use(receiver, 2, id)).isNotNull();
        caps.revoke(exporter, List.of(7L), false);
        assertThatThrownBy(() -> caps.use(receiver, 2, id)).hasMessage(Capabilities.REVOKED);
        long second = grant();
        caps.sandboxGone(exporter);
        assertThatThrownBy(() -> caps.use(receiver, 2, second)).hasMessage(Capabilities.EXPORTER_GONE);
    }

    @Test
    void addressesArePassedOnlyWhenTheSenderMayCallThemAndIdsFromSandboxesAreNeverTakenAsTheirs() throws Exception {
        exporter.running.add(1L);
        Address addr = new Address.Worker("dyn-x", null);
        assertThatThrownBy(() -> caps.accept(exporter, 1, payload(new CapPayload.Addressed(addr)), (t, a) -> false))
                .hasMessageContaining("can be called from this worker");
        assertThatThrownBy(() -> caps.accept(exporter, 1, payload(new CapPayload.Import(1)), (t, a) -> true))
                .hasMessageContaining("malformed");
        assertThatThrownBy(() -> caps.accept(exporter, 1, new byte[] {(byte) 0xCA, 5}, (t, a) -> true))
                .hasMessageContaining("malformed");
    }

    @Test
    void theHostRevokesAJavaCapabilityEverywhereItWasPassed() throws Exception {
        long envId = caps.grantToWorker(caps.javaCap("tool", (m, a) -> null), "w", "t");
        exporter.running.add(1L);
        caps.starting(exporter, 1, "w", 0); // invocation 1 runs worker w, whose env holds the tool
        receiver.running.add(2L);
        byte[] onward = caps.accept(exporter, 1, payload(new CapPayload.Held(envId)), (t, a) -> true);
        caps.deliver(onward, 2);
        long passed = heldId(onward);
        assertThat(caps.use(receiver, 2, passed).target).isInstanceOf(Capabilities.Java.class);
        caps.revokeJava("tool");
        assertThatThrownBy(() -> caps.use(exporter, 1, envId)).hasMessage(Capabilities.JAVA_REVOKED);
        assertThatThrownBy(() -> caps.use(receiver, 2, passed)).hasMessage(Capabilities.JAVA_REVOKED);
    }

    @Test
    void envRefsAreHeldByTheWorkerForItsTenantsSandboxes() throws Exception {
        exporter.running.add(1L);
        byte[] accepted = caps.accept(exporter, 1, payload(new CapPayload.Export(8)), (t, a) -> true);
        long id = caps.deliverToWorker(accepted, "dyn-1", "generated:t").getFirst().capId();
        receiver.running.add(12345L);
        caps.starting(receiver, 12345, "dyn-1", 0);
        assertThat(caps.use(receiver, 12345, id)).isNotNull();
        FakePeer other = new FakePeer("generated:other");
        other.running.add(1L);
        caps.starting(other, 1, "dyn-1", 0); // even claiming to run that worker, another tenant's sandbox may not
        assertThatThrownBy(() -> caps.use(other, 1, id)).hasMessage(Capabilities.NOT_GRANTED);
        caps.workerUnloaded("dyn-1");
        assertThatThrownBy(() -> caps.use(receiver, 12345, id)).hasMessage(Capabilities.NOT_GRANTED);
        assertThat(exporter.received).containsExactly(new Message.ExportDrop(List.of(8L)));
    }

    /**
     * Cross-session leakage at the table (issue 15): two workers of one tenant run in the same
     * sandbox for generated code (two sessions' runs), each with its own Java capability in env (its
     * TOOLS). A sandbox that names the other worker's capability id from its own invocation, from
     * an invocation the node did not start, or after that invocation ended, is refused, and the
     * refusal names the capability so its owner can audit it; calls on an export run as the
     * exporting worker, so they may use that worker's env and no other's.
     */
    @Test
    void anEnvCapabilityIsItsWorkersAloneNotEveryInvocationOfItsTenantsSandbox() throws Exception {
        Capabilities.Cap toolsA = caps.javaCap("tools-a", (m, a) -> "a");
        Capabilities.Cap toolsB = caps.javaCap("tools-b", (m, a) -> "b");
        long a = caps.grantToWorker(toolsA, "dyn-a", "generated:t");
        long b = caps.grantToWorker(toolsB, "dyn-b", "generated:t");
        receiver.running.addAll(List.of(20L, 21L, 22L));
        caps.starting(receiver, 20, "dyn-a", 0);
        caps.starting(receiver, 21, "dyn-b", 0);

        assertThat(caps.use(receiver, 20, a)).isSameAs(toolsA);
        assertThat(caps.use(receiver, 21, b)).isSameAs(toolsB);
        // Session A's invocation naming session B's TOOLS id: refused, and the refusal names B's capability.
        Capabilities.CapabilityException forged = org.junit.jupiter.api.Assertions.assertThrows(
                Capabilities.CapabilityException.class, () -> caps.use(receiver, 20, b));
        assertThat(forged).hasMessage(Capabilities.NOT_GRANTED);
        assertThat(forged.foreign).isSameAs(toolsB);
        // An invocation whose worker the node does not know (22), one it does not run (23): refused.
        assertThatThrownBy(() -> caps.use(receiver, 22, b)).hasMessage(Capabilities.NOT_GRANTED);
        caps.starting(receiver, 23, "dyn-b", 0);
        assertThatThrownBy(() -> caps.use(receiver, 23, b)).hasMessage(Capabilities.NOT_GRANTED);
        // B's invocation ends: its id no longer reaches B's TOOLS, even if the sandbox still claims to run it.
        caps.invocationDone(21);
        assertThatThrownBy(() -> caps.use(receiver, 21, b)).hasMessage(Capabilities.NOT_GRANTED);

        // A call on an export runs as the worker that exported it.
        caps.starting(receiver, 24, "dyn-b", 0);
        receiver.running.addAll(List.of(24L, 30L));
        byte[] accepted = caps.accept(receiver, 24, payload(new CapPayload.Export(9)), (t, x) -> true);
        caps.deliver(accepted, 20);
        caps.starting(receiver, 30, null, 9);
        assertThat(caps.use(receiver, 30, b)).isSameAs(toolsB);
        assertThatThrownBy(() -> caps.use(receiver, 30, a)).hasMessage(Capabilities.NOT_GRANTED);
        // Invocations the sandbox announced itself are found through the node's records.
        caps.otherWorkers(id -> id == 40 ? "dyn-a" : null);
        receiver.running.add(40L);
        assertThat(caps.use(receiver, 40, a)).isSameAs(toolsA);
        assertThatThrownBy(() -> caps.use(receiver, 40, b)).hasMessage(Capabilities.NOT_GRANTED);
    }
}
