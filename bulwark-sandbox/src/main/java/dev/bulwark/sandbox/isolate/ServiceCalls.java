package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.callback.IJavetDirectCallable;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueNull;
import com.caoccao.javet.values.primitive.V8ValueUndefined;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.worker.Binding;

/**
 * The host side of service bindings and {@code ctx.exports} stubs ({@code services.js}): a stub
 * names a service binding by its index in the loaded worker's bindings, or (index -1) the worker's
 * own entrypoint with the props its granter serialized. Both become an {@link Address.Worker}
 * here, never in JS, and go out through {@link OutboundCalls} (a subrequest of the caller; the node
 * routes them). Props given with a binding index are ignored: a binding's props are the granter's.
 * Isolate thread only.
 */
final class ServiceCalls implements DynamicCode.Resolver {
    /** The index a ctx.exports stub passes: the worker itself. */
    static final int SELF = -1;
    /** Serialized props travel in every call: bounded like RPC arguments, checked before copying. */
    static final int MAX_PROPS_BYTES = 1 << 20;

    private final Isolate isolate;
    private final OutboundCalls calls;

    ServiceCalls(Isolate isolate, OutboundCalls calls) {
        this.isolate = isolate;
        this.calls = calls;
    }

    /** How the isolate binds a host function. */
    interface Binder {
        void bind(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn) throws JavetException;
    }

    void install(Binder bind) throws JavetException {
        bind.bind("serviceCall", args -> calls.call(target(args), args, 3));
        bind.bind("serviceRpc", args -> calls.rpc(target(args), args, 3));
    }

    /** {@code (index, entrypoint, props)}: the address a stub's call goes to. */
    Address.Worker target(V8Value[] args) throws Exception {
        int index = HostValues.integer(args, 0);
        if (index != SELF) return service(index);
        byte[] props = args.length > 2 && args[2] instanceof V8ValueTypedArray
                ? HostValues.boundedBytes(args, 2, MAX_PROPS_BYTES, "ctx.exports: the props") : null;
        return self(HostValues.string(args, 1), props);
    }

    /** A service or ctx.exports stub passed by reference: the address its descriptor names. */
    Address.Worker address(int index, String entrypoint, byte[] props) {
        if (props != null && props.length > MAX_PROPS_BYTES) {
            throw new IllegalArgumentException("ctx.exports: the props are larger than " + MAX_PROPS_BYTES + " bytes");
        }
        return index == SELF ? self(entrypoint, props) : service(index);
    }

    /** A stub's descriptor {@code {index, entrypoint, props}} (globalOutbound, tails) as the address it names. */
    @Override
    public Address.Worker resolve(V8ValueObject descriptor) throws Exception {
        int index = descriptor.getInteger("index");
        if (index != SELF) return service(index);
        byte[] props = null;
        try (V8Value p = descriptor.get("props")) {
            if (p instanceof V8ValueTypedArray bytes) {
                if (bytes.getByteLength() > MAX_PROPS_BYTES) {
                    throw new IllegalArgumentException("ctx.exports: the props are larger than " + MAX_PROPS_BYTES + " bytes");
                }
                props = bytes.toBytes();
            }
        }
        return self(descriptor.getString("entrypoint"), props);
    }

    /**
     * A tail: a fetcher's descriptor ({@link #resolve}), or a durable object stub of one of this
     * worker's namespaces, {@code {object: binding index, id, name}}: the object's {@code tail()}.
     */
    @Override
    public Address tail(V8ValueObject descriptor) throws Exception {
        try (V8Value binding = descriptor.get("object")) {
            if (absent(binding)) return resolve(descriptor);
        }
        Binding.DurableObjectNamespace ns = calls.namespace(descriptor.getInteger("object"));
        String id = descriptor.getString("id");
        if (!dev.bulwark.sandbox.ipc.ObjectIds.belongsTo(ns.namespaceKey(), id)) throw new IllegalArgumentException("ID is not for this namespace.");
        String name;
        try (V8Value n = descriptor.get("name")) {
            name = n instanceof com.caoccao.javet.values.primitive.V8ValueString s ? s.getValue() : null;
        }
        return new Address.DurableObject(ns.workerId(), ns.className(), id, name);
    }

    private Address.Worker self(String entrypoint, byte[] props) {
        if (isolate.worker == null) throw new IllegalStateException("no worker is loaded");
        return new Address.Worker(isolate.worker.workerId(), entrypoint, props == null ? null : Address.Grant.props(props));
    }

    /** The entrypoint a service binding (or the worker's globalOutbound fetcher) at {@code index} names. */
    Address.Worker service(int index) {
        if (isolate.worker != null && index >= 0 && index < isolate.worker.bindings().size()) {
            switch (isolate.worker.bindings().get(index)) {
                case Binding.Service s -> {
                    return s.target();
                }
                case Binding.Outbound o -> {
                    return o.target(); // services.js setGlobalOutbound: the child's fetch() goes here
                }
                case Binding.DurableObjectNamespace ns -> { }
                case Binding.WorkerLoader l -> { }
                case Binding.Tail t -> { }
                case Binding.ExportedNamespace e -> { }
                case Binding.Capability c -> { }
            }
        }
        throw new IllegalArgumentException("no such service binding");
    }

    static boolean absent(V8Value v) {
        return v == null || v instanceof V8ValueNull || v instanceof V8ValueUndefined;
    }
}
