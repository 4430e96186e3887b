package dev.bulwark.server.http;

import dev.bulwark.server.node.SocketHub;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

import java.nio.ByteBuffer;

/**
 * Jetty's end of one client's WebSocket: it hands frames to the {@link SocketHub}, which asks
 * Jetty for the next frame only when the previous one was delivered (explicit demand).
 */
public final class ClientSocket implements Session.Listener {
    private final SocketHub hub;
    private final long socketId;

    ClientSocket(SocketHub hub, long socketId) {
        this.hub = hub;
        this.socketId = socketId;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        hub.connect(socketId, session);
    }

    @Override
    public void onWebSocketText(String message) {
        hub.clientMessage(socketId, message, null);
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        byte[] data = new byte[payload.remaining()];
        payload.get(data);
        callback.succeed();
        hub.clientMessage(socketId, null, data);
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        hub.clientClosed(socketId, statusCode, reason);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        hub.clientClosed(socketId, 1006, "the connection failed");
    }
}
