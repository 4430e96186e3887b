package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.worker.Binding;

/**
 * What a dynamic worker may call through the node: its own entrypoints ({@code ctx.exports}, any
 * props: they are its own), and exactly the entrypoints its parent granted it as a fetcher
 * ({@code globalOutbound}, service bindings), with the very props and limits of the grant. A tail
 * grant is not callable: the node alone delivers to tail workers. Anything else is refused,
 * whatever the sandbox for generated code claims.
 */
final class Grants {
    private Grants() {}

    static boolean allows(DeployedWorker caller, Address.Worker target) {
        if (target.workerId().equals(caller.name())) return true;
        for (Binding b : caller.bindings()) {
            Address.Worker granted = switch (b) {
                case Binding.Outbound o -> o.target();
                case Binding.Service sv -> sv.target();
                case Binding.Tail t -> null;
                case Binding.DurableObjectNamespace ns -> null;
                case Binding.WorkerLoader l -> null;
                case Binding.ExportedNamespace e -> null;
                case Binding.Capability c -> null; // called through the capability table, not by address
            };
            if (target.equals(granted)) return true;
        }
        return false;
    }
}
