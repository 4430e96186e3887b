package dev.bulwark.server.node;

import dev.bulwark.server.config.Settings;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;

import java.time.Duration;
import java.util.concurrent.Executors;

/**
 * The front door's Jetty server: HTTP/1.1 and h2c on the settings' host and port, the front door
 * called where a request is parsed (it moves what blocks to virtual threads), WebSockets sized for
 * {@link SocketHub}, errors answered as JSON.
 */
final class FrontDoorServer {
    /**
     * A worker sees the URL its client sent, as on Cloudflare, where the edge's default
     * normalization keeps empty segments ({@code //}, as in {@code /proxy/https://host/x}) and
     * encoded slashes and percent signs, and a {@code ;} is a character of the path. Jetty's
     * default refuses those with 400 "Ambiguous URI". Encoded dot segments ({@code %2e%2e}) stay
     * refused: a URL parser resolves them as {@code ..}, so routes (matched on the path as sent)
     * could send a request to one worker that reads as a path of another's.
     */
    static final UriCompliance URI_COMPLIANCE = UriCompliance.DEFAULT.with("BULWARK",
            UriCompliance.Violation.AMBIGUOUS_EMPTY_SEGMENT, UriCompliance.Violation.AMBIGUOUS_PATH_SEPARATOR,
            UriCompliance.Violation.AMBIGUOUS_PATH_ENCODING, UriCompliance.Violation.AMBIGUOUS_PATH_PARAMETER);

    private final Server server;

    FrontDoorServer(Settings settings, Handler frontDoor) {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("front-door");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        this.server = new Server(threads);
        // The handler tree is fixed: the server takes the front door's invocation type (NON_BLOCKING,
        // it starts what may block on virtual threads itself), so Jetty calls it on the selector's
        // thread. A dynamic server counts as BLOCKING and hands every request to a pool thread.
        server.setDynamic(false);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        // Jetty's per-connection header cache matches values ignoring case: on a kept-alive
        // connection, "Authorization: Bearer <TOKEN>" after "Bearer <token>" read as the cached
        // field (found by AdminObjectsTest), and a worker would see an earlier request's spelling.
        http.setHeaderCacheCaseSensitive(true);
        http.setUriCompliance(URI_COMPLIANCE);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http),
                new HTTP2CServerConnectionFactory(http));
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        server.addConnector(connector);
        server.setHandler(frontDoor);
        var ws = ServerWebSocketContainer.ensure(server);
        ws.setMaxTextMessageSize(SocketHub.MAX_MESSAGE_BYTES);
        ws.setMaxBinaryMessageSize(SocketHub.MAX_MESSAGE_BYTES);
        ws.setIdleTimeout(Duration.ZERO);
        server.setErrorHandler(new dev.bulwark.server.http.JsonErrorHandler());
    }

    void start() throws Exception {
        server.start();
    }

    /** The port it listens on (the real one when the settings asked for 0). */
    int port() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    void stop() throws Exception {
        server.stop();
    }
}
