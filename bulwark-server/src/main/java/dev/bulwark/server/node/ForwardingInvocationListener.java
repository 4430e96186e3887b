package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

/**
 * A listener that passes every step on to another; subclasses override the steps they note
 * (and call {@code super}), so a step added to {@link InvocationListener} is forwarded by all.
 */
abstract class ForwardingInvocationListener implements InvocationListener {
    protected final InvocationListener inner;

    ForwardingInvocationListener(InvocationListener inner) {
        this.inner = inner;
    }

    @Override
    public void head(Message.ResponseHead head) {
        inner.head(head);
    }

    @Override
    public void chunk(byte[] data) {
        inner.chunk(data);
    }

    @Override
    public void lastChunk(byte[] data) {
        inner.lastChunk(data);
    }

    @Override
    public void end() {
        inner.end();
    }

    @Override
    public void failed(Message.InvocationFailed failure) {
        inner.failed(failure);
    }

    @Override
    public void rpcReturn(Message.RpcReturn result) {
        inner.rpcReturn(result);
    }

    @Override
    public void socketOpen(Message.SocketOpen open) {
        inner.socketOpen(open);
    }

    @Override
    public boolean takesCapabilities() {
        return inner.takesCapabilities();
    }

    @Override
    public void pull() {
        inner.pull();
    }

    @Override
    public void done(long cpuMicros) {
        inner.done(cpuMicros);
    }
}
