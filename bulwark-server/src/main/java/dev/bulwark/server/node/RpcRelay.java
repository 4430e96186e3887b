package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.util.function.Consumer;

/**
 * Carries the outcome of an RPC invocation back to its caller: the result (or thrown error) as
 * one {@link Message.RpcResult}, or a {@link Message.CallFailed} when the invocation failed
 * (a limit, a crash) without returning. Runs on the callee sandbox's reader thread.
 */
final class RpcRelay implements InvocationListener.NoResponse {
    private final long callId;
    private final Consumer<Message> caller;
    private final Capabilities caps;
    private final long holder;
    private boolean answered;

    RpcRelay(long callId, Consumer<Message> caller) {
        this(callId, caller, null, 0);
    }

    /** The capabilities in the result go to the caller's invocation {@code holder}. */
    RpcRelay(long callId, Consumer<Message> caller, Capabilities caps, long holder) {
        this.callId = callId;
        this.caller = caller;
        this.caps = caps;
        this.holder = holder;
    }

    @Override
    public boolean takesCapabilities() {
        return caps != null;
    }

    @Override
    public synchronized void rpcReturn(Message.RpcReturn result) {
        if (answered) {
            if (caps != null) caps.discard(result.value());
            return;
        }
        if (caps != null) caps.deliver(result.value(), holder);
        answer(new Message.RpcResult(callId, result.value(), result.threw()));
    }

    @Override
    public synchronized void failed(Message.InvocationFailed failure) {
        answer(new Message.CallFailed(callId, failure.code(), failure.message()));
    }

    @Override
    public synchronized void done(long cpuMicros) {
        answer(new Message.CallFailed(callId, ErrorCode.INTERNAL.code(), "the RPC call ended without a result"));
    }

    private void answer(Message m) {
        if (answered) return;
        answered = true;
        caller.accept(m);
    }
}
