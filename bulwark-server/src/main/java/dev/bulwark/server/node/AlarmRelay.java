package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

import java.util.function.Consumer;

/** Tells the alarm index how one run of an alarm handler went: true when it returned. */
final class AlarmRelay implements InvocationListener.NoResponse {
    private final Consumer<Boolean> done;
    private boolean answered;

    AlarmRelay(Consumer<Boolean> done) {
        this.done = done;
    }

    @Override
    public synchronized void rpcReturn(Message.RpcReturn result) {
        answer(!result.threw());
    }

    @Override
    public synchronized void failed(Message.InvocationFailed failure) {
        answer(false);
    }

    @Override
    public synchronized void done(long cpuMicros) {
        answer(false);
    }

    private void answer(boolean ok) {
        if (answered) return;
        answered = true;
        done.accept(ok);
    }
}
