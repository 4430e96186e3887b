package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerBundle;

import java.util.List;
import java.util.Objects;

/**
 * A worker as the node knows it: its name, the tenant that owns it (which decides the sandbox
 * it may share), its code, its env as JSON, and its limits. The env holds secrets: it is never
 * printed.
 */
public record DeployedWorker(String name, String tenant, WorkerBundle bundle, String envJson, List<Binding> bindings,
                             boolean networkAllowed, Limits limits) {
    public DeployedWorker {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(limits, "limits");
        if (envJson == null) envJson = "{}";
        bindings = List.copyOf(bindings);
    }

    /** A worker whose env holds plain values only. */
    public DeployedWorker(String name, String tenant, WorkerBundle bundle, String envJson, Limits limits) {
        this(name, tenant, bundle, envJson, List.of(), true, limits);
    }

    @Override
    public String toString() {
        return "DeployedWorker[" + name + ", tenant " + tenant + ", " + bundle.modules().size() + " modules]";
    }
}
