package dev.bulwark.objects.java;

import java.util.List;

/**
 * A durable object implemented in Java, run in the node (trusted platform code). One instance per
 * id, made by its class's factory on the object's first event (again after eviction). Its events
 * (fetch, RPC calls, alarms) run one at a time, each from start to end on one thread; the storage
 * writes of an event commit when it returns, before its response or result is released, and roll
 * back when it throws.
 *
 * <p>To reject a caller with a JS error, throw {@link RpcError}; any other exception reaches the
 * caller only as {@code Error("internal error; reference = …")} and is logged by the node.
 */
public interface JavaDurableObject {

    /** An HTTP request from a stub's {@code fetch()}. By default: no fetch handler. */
    default JavaResponse fetch(JavaRequest request) throws Exception {
        throw new RpcError(RpcError.Type.TYPE_ERROR, "Handler does not export a fetch() function.");
    }

    /**
     * An RPC call {@code stub.method(...args)}: only methods the class lists in
     * {@link JavaObjectClass#methods()} get here. Arguments and result are the values described in
     * {@link StructuredValues} (copies: the object may keep them).
     */
    default Object call(String method, List<Object> args) throws Exception {
        throw new RpcError(RpcError.Type.TYPE_ERROR, "The RPC receiver does not implement the method \"" + method + "\".");
    }

    /** The object's alarm (set with {@code ctx.storage().setAlarm}) is due. Throwing retries it later. */
    default void alarm(AlarmInfo alarm) throws Exception {
        throw new RpcError(RpcError.Type.TYPE_ERROR, "The durable object has an alarm set but no alarm() handler.");
    }
}
