package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerBundle;

import java.util.Objects;

/**
 * A worker as the node knows it: its name, the tenant that owns it (which decides the sandbox
 * it may share), its code, its env as JSON, and its limits. The env holds secrets: it is never
 * printed.
 */
public record DeployedWorker(String name, String tenant, WorkerBundle bundle, String envJson, Limits limits) {
    public DeployedWorker {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(limits, "limits");
        if (envJson == null) envJson = "{}";
    }

    @Override
    public String toString() {
        return "DeployedWorker[" + name + ", tenant " + tenant + ", " + bundle.modules().size() + " modules]";
    }
}
