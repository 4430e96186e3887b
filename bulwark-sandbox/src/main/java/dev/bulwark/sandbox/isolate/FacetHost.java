package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.values.V8Value;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.FacetIds;

/**
 * The host side of {@code ctx.facets} ({@code facets.js}, issue 14): a facet's {@code fetch()},
 * its RPC, and the supervisor's {@code abort}/{@code delete}. Each names the calling object (the
 * parent) and the facet's name; the facet's address is made here from them, and the node checks it
 * again against the object the calling invocation is really for, so an object can reach only its
 * own facets whatever this sandbox claims. Facet calls always go through the node (never
 * {@link LocalCalls}): the node keeps each facet's records and quotas. Isolate thread only.
 */
final class FacetHost {
    /** The reserved class name of the node's facet operations (abort, delete). */
    static final String CONTROL_CLASS = "Facets";

    private final OutboundCalls calls;

    FacetHost(OutboundCalls calls) {
        this.calls = calls;
    }

    interface Binder {
        void bind(String name, com.caoccao.javet.interop.callback.IJavetDirectCallable.NoThisAndResult<Exception> fn)
                throws JavetException;
    }

    void install(Binder bind) throws JavetException {
        // (parentWorker, parentClass, parentId, parentName, name, workerId, className, idName, method, url, headers, body)
        bind.bind("facetCall", args -> calls.call(facet(args, HostValues.string(args, 5), HostValues.string(args, 6),
                HostValues.string(args, 7)), args, 8, false));
        // (parent..., name, workerId, className, idName, method, argsBytes)
        bind.bind("facetRpc", args -> calls.rpc(facet(args, HostValues.string(args, 5), HostValues.string(args, 6),
                HostValues.string(args, 7)), args, 8));
        // (parent..., name, "abort" | "delete"): answered by the node, which resets the facet where it runs
        bind.bind("facetControl", args -> {
            String op = HostValues.string(args, 5);
            if (!"abort".equals(op) && !"delete".equals(op)) throw new IllegalArgumentException("unknown facet operation");
            return calls.rpc(facet(args, FacetIds.CONTROL_WORKER, CONTROL_CLASS, null), args, 5);
        });
    }

    /**
     * The address of facet {@code args[4]} of the object {@code args[0..3]}, running {@code workerId}'s
     * {@code className}. A class of a deployed worker (not a dynamic one) must be of the parent's own
     * worker: its facet is then an object of that worker, run in the tenant's sandbox as its parent
     * is, keyed by the same derived id (its own database); {@code idName} is the name of its ctx.id.
     */
    private static Address.DurableObject facet(V8Value[] args, String workerId, String className, String idName) {
        String parentId = HostValues.string(args, 2);
        Address.DurableObject parent = new Address.DurableObject(HostValues.string(args, 0), HostValues.string(args, 1),
                parentId, HostValues.string(args, 3));
        String name = HostValues.string(args, 4);
        String problem = FacetIds.nameProblem(name);
        if (problem != null) throw new IllegalArgumentException(problem);
        String path = FacetIds.path(parent, name);
        if (FacetIds.depth(path) > FacetIds.MAX_DEPTH) {
            throw new IllegalArgumentException("Facets can be nested at most " + FacetIds.MAX_DEPTH + " deep, counting the root object.");
        }
        if (workerId == null || className == null) throw new IllegalArgumentException("the facet's class is not known");
        if (!workerId.startsWith(FacetIds.DYNAMIC_PREFIX) && !FacetIds.CONTROL_WORKER.equals(workerId)) {
            if (!workerId.equals(parent.workerId())) {
                throw new IllegalArgumentException("A facet's class must be a class of the parent's own worker or of a dynamic worker.");
            }
            return new Address.DurableObject(workerId, className, id(parentId, name), idName);
        }
        return new Address.DurableObject(workerId, className, id(parentId, name), path);
    }

    /** Facet ids by parent id and name: a SHA-256 per call saved (bounded: cleared when full). */
    private static final java.util.Map<String, String> IDS = new java.util.concurrent.ConcurrentHashMap<>();

    private static String id(String parentId, String name) {
        String key = parentId + "\n" + name;
        String id = IDS.get(key);
        if (id != null) return id;
        if (IDS.size() >= 4096) IDS.clear();
        id = FacetIds.id(parentId, name);
        IDS.put(key, id);
        return id;
    }
}
