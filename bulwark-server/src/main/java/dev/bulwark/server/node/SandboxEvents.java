package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

import java.util.List;
import java.util.function.Consumer;

/** What sandboxes say on their own (console lines, egress traffic), and the node's say on invocations. */
interface SandboxEvents {
    void log(Message.LogLine line);

    /**
     * An egress message of one of {@code from}'s invocations (Subrequest, SubrequestAck,
     * SubrequestCancel); answers go back through {@code from.deliver}.
     */
    void egress(SandboxProcess from, Message message);

    /**
     * An invocation (a fetch with its request headers, or an RPC call without) is about to start:
     * the listener to use for it (the given one, or one wrapping it), or null when the node refuses
     * it (the listener has then been told why).
     */
    default InvocationListener admit(String tenant, long invocationId, String workerId, List<Message.Header> headers,
                                     InvocationListener listener) {
        return listener;
    }

    /**
     * After {@link #admit}: the listener for an invocation that starts with {@code start} in a
     * sandbox of {@code tenant} (one that also reports it to the worker's tail workers, if it has any).
     */
    default InvocationListener watch(String tenant, long invocationId, Message start, InvocationListener listener) {
        return listener;
    }

    /** A sandbox process is gone; whatever the node held for it can go. */
    default void sandboxGone(SandboxProcess sandbox) {}

    /**
     * A worker of {@code tenant} calls a capability (a durable object); answer exactly once with a
     * CallResult or CallFailed through {@code reply}.
     */
    void call(String tenant, Message.CallStart call, Consumer<Message> reply);

    /** {@link #call(String, Message.CallStart, Consumer)}, knowing the sandbox (a first call behind its load names it). */
    default void call(SandboxProcess from, Message.CallStart call, Consumer<Message> reply) {
        call(from.tenant(), call, reply);
    }

    /**
     * A sandbox started an invocation of an object placed in it without the node (see
     * {@code LocalCalls}): the node checks and records it; its InvocationDone follows. Called on the
     * sandbox's reader thread, before anything else of that invocation: must not block.
     */
    default void localInvocation(SandboxProcess from, Message.LocalInvocation notice) {}

    /** A sandbox of {@code tenant} committed a change of an object's alarm. */
    void alarmSet(String tenant, Message.AlarmSet change);

    /** A worker of {@code tenant} makes an RPC call; answer exactly once with RpcResult or CallFailed. */
    void rpc(String tenant, Message.RpcCall call, Consumer<Message> reply);

    /** A loader binding of a worker of {@code tenant} asks for a dynamic worker; answer exactly once. */
    void loadDynamic(String tenant, Message.LoadDynamic request, Consumer<Message> reply);

    /** {@link #rpc(String, Message.RpcCall, Consumer)}, knowing the sandbox (for the capabilities it passes). */
    default void rpc(SandboxProcess from, Message.RpcCall call, Consumer<Message> reply) {
        rpc(from.tenant(), call, reply);
    }

    /** {@link #loadDynamic(String, Message.LoadDynamic, Consumer)}, knowing the sandbox (for capabilities in env). */
    default void loadDynamic(SandboxProcess from, Message.LoadDynamic request, Consumer<Message> reply) {
        loadDynamic(from.tenant(), request, reply);
    }

    /** A capability message of {@code from}: CapCall, CapRelease or CapRevoke (see Capabilities). */
    default void capabilities(SandboxProcess from, Message message) {}
}
