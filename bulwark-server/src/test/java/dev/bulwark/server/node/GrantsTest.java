package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the node lets a dynamic worker call, from the attacker's side: only its grants, exactly. */
class GrantsTest {
    static final byte[] PROPS = "{\"tenant\":\"t1\"}".getBytes(StandardCharsets.UTF_8);
    static final Address.Worker OUTBOUND = new Address.Worker("front", "Outbound", Address.Grant.props(PROPS));

    static DeployedWorker child(List<Binding> bindings) {
        return new DeployedWorker("dyn-1", "generated:svc", WorkerBundle.of("m.js", List.of(
                WorkerModule.text("m.js", ModuleType.JS, "export default {};"))), "{}", bindings, false, Limits.DEFAULTS);
    }

    @Test
    void aDynamicWorkerMayCallItselfWithAnyProps() {
        DeployedWorker c = child(List.of());
        assertThat(Grants.allows(c, new Address.Worker("dyn-1"))).isTrue();
        assertThat(Grants.allows(c, new Address.Worker("dyn-1", "Api", Address.Grant.props(PROPS)))).isTrue();
    }

    @Test
    void itMayCallItsGrantOnlyExactlyAsGranted() {
        DeployedWorker c = child(List.of(new Binding.Outbound(OUTBOUND), new Binding.Tail(new Address.Worker("front", "Tail"))));
        assertThat(Grants.allows(c, new Address.Worker("front", "Outbound", Address.Grant.props(PROPS.clone())))).isTrue();
        // Other props (a forged tenant), no props, another entrypoint, the default export: refused.
        assertThat(Grants.allows(c, new Address.Worker("front", "Outbound",
                Address.Grant.props("{\"tenant\":\"t2\"}".getBytes(StandardCharsets.UTF_8))))).isFalse();
        assertThat(Grants.allows(c, new Address.Worker("front", "Outbound"))).isFalse();
        assertThat(Grants.allows(c, new Address.Worker("front", "Admin", Address.Grant.props(PROPS)))).isFalse();
        assertThat(Grants.allows(c, new Address.Worker("front"))).isFalse();
        // A grant's limits are part of it: the same entrypoint without them is not the grant.
        assertThat(Grants.allows(c, new Address.Worker("front", "Outbound", new Address.Grant(PROPS, 1000, -1)))).isFalse();
        // A tail is delivered by the node; the child cannot call it.
        assertThat(Grants.allows(c, new Address.Worker("front", "Tail"))).isFalse();
    }

    @Test
    void withoutGrantsItReachesNothingElse() {
        DeployedWorker c = child(List.of());
        assertThat(Grants.allows(c, new Address.Worker("front"))).isFalse();
        assertThat(Grants.allows(c, new Address.Worker("dyn-2"))).isFalse();
        assertThat(Grants.allows(c, new Address.Worker("back", "Admin"))).isFalse();
    }
}
