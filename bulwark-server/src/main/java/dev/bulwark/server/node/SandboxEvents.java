package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

import java.util.function.Consumer;

/** What sandboxes say on their own: console lines, and outbound fetches for the egress gateway. */
interface SandboxEvents {
    void log(Message.LogLine line);

    /** Decide and perform a subrequest; answer exactly once through {@code reply}. */
    void subrequest(Message.Subrequest request, Consumer<Message> reply);

    /**
     * A worker of {@code tenant} calls a capability (a durable object); answer exactly once with a
     * CallResult or CallFailed through {@code reply}.
     */
    void call(String tenant, Message.CallStart call, Consumer<Message> reply);

    /** A worker of {@code tenant} makes an RPC call; answer exactly once with RpcResult or CallFailed. */
    void rpc(String tenant, Message.RpcCall call, Consumer<Message> reply);

    /** A loader binding of a worker of {@code tenant} asks for a dynamic worker; answer exactly once. */
    void loadDynamic(String tenant, Message.LoadDynamic request, Consumer<Message> reply);
}
