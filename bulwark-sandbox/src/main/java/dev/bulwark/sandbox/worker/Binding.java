package dev.bulwark.sandbox.worker;

import java.util.Objects;

/**
 * A capability in a worker's {@code env}, as the node grants it. Plain values (vars, secrets)
 * travel as JSON; everything that reaches outside the isolate is one of these typed descriptors,
 * from which the sandbox makes the JavaScript stub. Nothing in a descriptor is shown to JS except
 * what the binding's API shows (a namespace key never is).
 */
public sealed interface Binding {

    /** The name in {@code env}. */
    String name();

    /**
     * A durable object namespace: {@code env.NAME.idFromName(...)}, {@code get(id)}.
     *
     * @param workerId     the worker that exports the class
     * @param className    the exported class
     * @param namespaceKey the key ids of this namespace are made with (see ObjectIds)
     */
    /** A Worker Loader: {@code env.NAME.get(id, getCode)} and {@code env.NAME.load(code)}. */
    record WorkerLoader(String name) implements Binding {
        public WorkerLoader {
            Objects.requireNonNull(name, "name");
        }
    }

    /**
     * A capability the node granted to the worker itself (not to one invocation): a Java
     * capability, or a stub a parent put in a dynamic worker's {@code env}. {@code capId} is the
     * node's id for this grant; JS sees only a stub.
     */
    record Capability(String name, long capId, dev.bulwark.sandbox.ipc.CapPayload.Shape shape) implements Binding {
        public Capability {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(shape, "shape");
        }

        /** A capability whose stub offers RPC only (a Java capability, a function, an RpcTarget). */
        public Capability(String name, long capId) {
            this(name, capId, dev.bulwark.sandbox.ipc.CapPayload.Shape.PLAIN);
        }
    }

    /**
     * A service binding ({@code services} in wrangler config, or a stub a parent gave a dynamic
     * worker): {@code env.NAME.fetch()} and JS RPC to {@code target}, a worker's entrypoint with
     * the grant the binding fixed. JS sees the binding's index only, never the target or props.
     */
    record Service(String name, dev.bulwark.sandbox.ipc.Address.Worker target) implements Binding {
        public Service {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(target, "target");
        }
    }

    /**
     * A dynamic worker's {@code globalOutbound} fetcher: every {@code fetch()} of the worker goes to
     * {@code target}'s fetch handler. Not in env.
     */
    record Outbound(dev.bulwark.sandbox.ipc.Address.Worker target) implements Binding {
        public Outbound {
            Objects.requireNonNull(target, "target");
        }

        @Override
        public String name() {
            return "(globalOutbound)";
        }
    }

    /**
     * A tail worker of a dynamic worker ({@code tails} in WorkerCode): the node delivers one trace
     * item per invocation to {@code target}'s {@code tail(events)} handler: a worker's entrypoint,
     * or a durable object (its class's {@code tail()} method, as workerd calls it). Not in env; the
     * node acts on it, the sandbox ignores it.
     */
    record Tail(dev.bulwark.sandbox.ipc.Address target) implements Binding {
        public Tail {
            Objects.requireNonNull(target, "target");
        }

        @Override
        public String name() {
            return "(tail)";
        }
    }

    /**
     * A durable object class the worker itself exports, as {@code ctx.exports.ClassName} (a
     * namespace, as workerd's loopback): the worker's own class, keyed as its namespace binding
     * would be. Not in env.
     */
    record ExportedNamespace(String className, byte[] namespaceKey) implements Binding {
        public ExportedNamespace {
            Objects.requireNonNull(className, "className");
            if (namespaceKey == null || namespaceKey.length < 16) throw new IllegalArgumentException("namespace key too short");
            namespaceKey = namespaceKey.clone();
        }

        @Override
        public byte[] namespaceKey() {
            return namespaceKey.clone();
        }

        @Override
        public String name() {
            return "(exports." + className + ")";
        }

        @Override
        public String toString() {
            return "ExportedNamespace[" + className + "]";
        }
    }

    record DurableObjectNamespace(String name, String workerId, String className, byte[] namespaceKey)
            implements Binding {
        public DurableObjectNamespace {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(workerId, "workerId");
            Objects.requireNonNull(className, "className");
            if (namespaceKey == null || namespaceKey.length < 16) throw new IllegalArgumentException("namespace key too short");
            namespaceKey = namespaceKey.clone();
        }

        @Override
        public byte[] namespaceKey() {
            return namespaceKey.clone();
        }

        @Override
        public String toString() {
            return "DurableObjectNamespace[" + name + " -> " + workerId + "." + className + "]";
        }
    }
}
