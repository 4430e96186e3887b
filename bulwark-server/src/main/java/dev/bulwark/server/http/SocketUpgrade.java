package dev.bulwark.server.http;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.node.InvocationListener;
import dev.bulwark.server.node.SocketHub;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Sits between a fetch invocation and its {@link ResponseRelay}. A 101 whose response carried a
 * WebSocket the node accepted upgrades the client's connection (the front door's virtual thread
 * waits for the head of an upgrade request); a 101 without one is an invalid response (500
 * invalid_response); any other answer goes to the relay as usual.
 */
final class SocketUpgrade implements InvocationListener {
    private final ResponseRelay relay;
    private final boolean upgradeRequested;
    private final CompletableFuture<Long> decided = new CompletableFuture<>();
    private Long socketId;
    private boolean upgraded;

    SocketUpgrade(ResponseRelay relay, boolean upgradeRequested) {
        this.relay = relay;
        this.upgradeRequested = upgradeRequested;
    }

    static boolean isUpgrade(Request request) {
        String upgrade = request.getHeaders().get(HttpHeader.UPGRADE);
        return upgrade != null && upgrade.equalsIgnoreCase("websocket") && request.getMethod().equals("GET");
    }

    @Override
    public synchronized void socketOpen(Message.SocketOpen open) {
        socketId = open.socketId();
    }

    @Override
    public synchronized void head(Message.ResponseHead head) {
        if (head.status() == 101) {
            if (socketId == null || !upgradeRequested) {
                relay.failed(new Message.InvocationFailed(head.invocationId(), "invalid_response",
                        socketId == null ? "the worker answered 101 without a WebSocket"
                                : "the worker answered 101 with a WebSocket to a request that did not ask for one", false));
                decided.complete(-1L);
                return;
            }
            upgraded = true;
            decided.complete(socketId);
            return;
        }
        relay.head(head);
        decided.complete(-1L);
    }

    @Override
    public synchronized void chunk(byte[] data) {
        if (!upgraded) relay.chunk(data);
    }

    @Override
    public synchronized void end() {
        if (!upgraded) relay.end();
    }

    @Override
    public synchronized void lastChunk(byte[] data) {
        if (!upgraded) relay.lastChunk(data);
    }

    @Override
    public synchronized void failed(Message.InvocationFailed failure) {
        if (!upgraded) relay.failed(failure);
        decided.complete(-1L);
    }

    /** A fetch invocation never returns an RPC result. */
    @Override
    public void rpcReturn(Message.RpcReturn result) {}

    @Override
    public void pull() {
        relay.pull();
    }

    @Override
    public void done(long cpuMicros) {
        decided.complete(-1L);
        relay.done(cpuMicros);
    }

    /** On the request's virtual thread: upgrade if the worker accepted a socket, else let the relay answer. */
    void await(long waitMs, SocketHub hub, Request request, Response response, Callback callback,
               Runnable handedOver) throws Exception {
        long id;
        try {
            id = decided.get(waitMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            relay.offer(new ResponseRelay.NoAnswer());
            return;
        }
        if (id < 0) return;
        relay.handOver();
        handedOver.run(); // an open WebSocket is no longer a request in flight (sockets have their own limit)
        ServerWebSocketContainer container = ServerWebSocketContainer.get(request.getContext());
        boolean ok = container.upgrade((rq, rs, cb) -> new ClientSocket(hub, id), request, response, callback);
        if (!ok) {
            hub.clientClosed(id, 1006, "the WebSocket upgrade failed");
            ErrorResponse.write(response, callback, 400, "bad_request", "the WebSocket upgrade failed", null);
        }
    }
}
