package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.ipc.RpcPayloadParts;

/**
 * The way to the node for RPC payloads over 8 MiB: they leave in pieces ({@link RpcPayloadParts}),
 * each piece the same way (now or later) as its message, so the pieces always arrive first.
 * Local calls never get here (they stay in the sandbox whole).
 */
final class RpcPieces {
    private RpcPieces() {}

    static Outbox splitting(Outbox node) {
        return new Outbox() {
            @Override
            public void send(Message message) {
                for (Message m : RpcPayloadParts.split(message)) node.send(m);
            }

            @Override
            public void sendLater(Message message) {
                for (Message m : RpcPayloadParts.split(message)) node.sendLater(m);
            }

            @Override
            public void flush() {
                node.flush();
            }

            @Override
            public void discard() {
                node.discard();
            }

            @Override
            public void idle() {
                node.idle();
            }
        };
    }
}
