package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

/**
 * Receives what happens to one invocation, in order: a head or a failure, chunks, an end, and
 * finally {@link #done}. Called on the sandbox connection's reader thread: must not block.
 */
public interface InvocationListener {
    /**
     * Called from a listener on a sandbox's reader thread: runs {@code r} there once the messages
     * the sandbox wrote together with the current one have been read (so what came with a head
     * joins it). False, and nothing runs, on any other thread.
     */
    static boolean afterReadBurst(Runnable r) {
        return SandboxProcess.afterBurst(r);
    }

    void head(Message.ResponseHead head);

    void chunk(byte[] data);

    void end();

    /**
     * The last chunk and the end, which arrived together: a relay can write them as one (one
     * write to the client, with a Content-Length when the response is not yet committed).
     */
    default void lastChunk(byte[] data) {
        chunk(data);
        end();
    }

    void failed(Message.InvocationFailed failure);

    /** An RPC invocation's result (RPC invocations have no head, chunks or end). */
    void rpcReturn(Message.RpcReturn result);

    /** The response carries a WebSocket (sent before its 101 head); checked by the node's socket hub. */
    void socketOpen(Message.SocketOpen open);

    /**
     * Whether this listener hands capabilities in an RPC result on to a holder (see Capabilities).
     * One that does not gets a result with capabilities replaced by a TypeError, and the node keeps
     * no refs for them.
     */
    default boolean takesCapabilities() {
        return false;
    }

    /** The worker asks for the next chunk of a streamed request body. */
    default void pull() {}

    /** The invocation is completely over (waitUntil included); nothing follows. */
    void done(long cpuMicros);

    /**
     * A listener of an invocation whose response nobody streams (an RPC, an alarm, a tail or
     * socket event, a local call the sandbox answers itself): head, chunks, end and sockets are
     * ignored.
     */
    interface NoResponse extends InvocationListener {
        @Override
        default void head(Message.ResponseHead head) {}

        @Override
        default void chunk(byte[] data) {}

        @Override
        default void end() {}

        @Override
        default void socketOpen(Message.SocketOpen open) {}
    }
}
