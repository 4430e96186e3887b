package dev.bulwark.server.node;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

import java.nio.ByteBuffer;

/** A client's connection at the front door: Jetty reads its next frame only on demand. */
record FrontDoorEnd(Session session) implements ClientEnd {
    public void text(String text, Runnable done) {
        session.sendText(text, callback(done));
    }

    public void binary(byte[] data, Runnable done) {
        session.sendBinary(ByteBuffer.wrap(data), callback(done));
    }

    public void close(int code, String reason, Runnable done) {
        session.close(code == 1005 ? 1000 : code, reason, callback(done));
    }

    /**
     * The connection is dropped at once: the frames queued toward a client that does not read are
     * released, and no close frame waits behind them for ever (the hub's sockets have no idle timeout).
     */
    public void overrun() {
        session.disconnect();
    }

    public void demand() {
        session.demand();
    }

    private static Callback callback(Runnable done) {
        return Callback.from(done, x -> done.run());
    }
}
