package dev.bulwark.objects.java;

import java.util.Arrays;
import java.util.List;

/**
 * A Java caller's stub of one Java object: the same object, gate and storage a JS stub reaches.
 * Arguments and results are copied through {@link StructuredValues} (as across processes), so
 * neither side shares mutable state with the other. The call runs on the caller's thread, in the
 * object's turn.
 */
public final class JavaObjectStub {
    private final JavaObjects objects;
    private final String tenant;
    private final String className;
    private final JavaObjectId id;

    JavaObjectStub(JavaObjects objects, String tenant, String className, JavaObjectId id) {
        this.objects = objects;
        this.tenant = tenant;
        this.className = className;
        this.id = id;
    }

    public JavaObjectId id() {
        return id;
    }

    /**
     * Calls an RPC method of the object.
     *
     * @throws RpcError what the object threw, or the refusal (a method it does not export), or an
     *                  internal error with a reference to the node's log
     */
    public Object call(String method, Object... args) {
        return call(method, Arrays.asList(args));
    }

    /** {@link #call(String, Object...)} with the arguments as a list. */
    public Object call(String method, List<?> args) {
        RpcOutcome out = objects.rpc(JavaObjects.Caller.JAVA, tenant, className, id.hex(), id.name(), method,
                StructuredValues.encode(args, JavaObjects.MAX_PAYLOAD_BYTES));
        Object value = StructuredValues.decode(out.value());
        if (out.threw()) {
            throw value instanceof RpcError e ? e : new RpcError(String.valueOf(value));
        }
        return value;
    }

    /** Sends the object a request. @throws RpcError as {@link #call} */
    public JavaResponse fetch(JavaRequest request) {
        return objects.fetch(JavaObjects.Caller.JAVA, tenant, className, id.hex(), id.name(), request);
    }
}
