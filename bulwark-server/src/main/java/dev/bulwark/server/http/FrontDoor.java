package dev.bulwark.server.http;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.node.DeployedWorker;
import dev.bulwark.server.node.InvocationChannel;
import dev.bulwark.server.node.LogHub;
import dev.bulwark.server.node.Node;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The node's front door: every HTTP request becomes one fetch invocation of a worker. The
 * request side runs on a virtual thread because it blocks (reading a body, streaming one to the
 * sandbox chunk by chunk); the response side is relayed asynchronously by {@link ResponseRelay}.
 * {@code /cdn-cgi/bulwark/} is the node's own (health, tail), as {@code /cdn-cgi/} is Cloudflare's.
 * One guard timer per JVM fails requests whose sandbox never answers.
 */
public final class FrontDoor extends Handler.Abstract {
    static final String ADMIN_PREFIX = "/cdn-cgi/bulwark/";
    /** Bodies of known length up to this size travel inside the FetchStart message. */
    static final int INLINE_BODY_BYTES = 64 << 10;
    static final int BODY_CHUNK_BYTES = 64 << 10;
    /** How long past a worker's wall-clock limit the node waits before it gives up on a sandbox. */
    static final long GUARD_SLACK_MS = 30_000;
    private static final java.util.concurrent.ScheduledExecutorService GUARD =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "front-door-guard");
                t.setDaemon(true);
                return t;
            });

    private final Node node;

    public FrontDoor(Node node) {
        super(InvocationType.BLOCKING);
        this.node = node;
    }

    /** Jetty runs this BLOCKING handler on a virtual thread (see the node's thread pool). */
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        try {
            serve(request, response, callback);
        } catch (Throwable e) {
            callback.failed(e);
        }
        return true;
    }

    private void serve(Request request, Response response, Callback callback) throws Exception {
        String path = request.getHttpURI().getPath();
        if (path != null && path.startsWith(ADMIN_PREFIX)) {
            admin(path.substring(ADMIN_PREFIX.length()), request, response, callback);
            return;
        }
        DeployedWorker worker = node.route(Request.getServerName(request));
        if (worker == null) {
            ErrorResponse.write(response, callback, ErrorCode.NOT_FOUND, "no worker is deployed", null);
            return;
        }
        long invocationId = node.nextInvocationId();
        String requestId = LogHub.requestId(invocationId);
        String loadError = node.loadError(worker.name());
        if (loadError != null) {
            ErrorResponse.write(response, callback, ErrorCode.WORKER_LOAD_FAILED, loadError, requestId);
            return;
        }
        long limit = worker.limits().requestBodyBytes();
        long declared = request.getLength();
        if (declared > limit) {
            ErrorResponse.write(response, callback, ErrorCode.REQUEST_TOO_LARGE,
                    "the request body is " + declared + " bytes; the limit is " + limit, requestId);
            return;
        }
        String method = request.getMethod();
        boolean hasBody = declared > 0 || (declared < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING));
        if (method.equals("GET") || method.equals("HEAD")) hasBody = false;
        // A small body of known length travels with the request; any other body streams on demand.
        boolean streamed = hasBody && (declared < 0 || declared > INLINE_BODY_BYTES);
        byte[] body = null;
        if (hasBody && !streamed) {
            try (InputStream in = Content.Source.asInputStream(request)) {
                body = in.readNBytes((int) declared + 1);
            }
            if (body.length > limit) {
                ErrorResponse.write(response, callback, ErrorCode.REQUEST_TOO_LARGE,
                        "the request body is larger than the limit of " + limit + " bytes", requestId);
                return;
            }
        }
        List<Message.Header> headers = new ArrayList<>();
        for (HttpField f : request.getHeaders()) headers.add(new Message.Header(f.getName(), f.getValue()));
        headers.add(new Message.Header("cf-ray", requestId));
        String url = request.getHttpURI().asString();

        ResponseRelay relay = new ResponseRelay(response, callback, invocationId, requestId);
        boolean upgrade = SocketUpgrade.isUpgrade(request);
        SocketUpgrade sockets = new SocketUpgrade(relay, upgrade);
        InvocationChannel channel = node.supervisor().fetch(worker.tenant(),
                new Message.FetchStart(invocationId, worker.name(), method, url, headers, body, streamed), sockets);
        relay.connect(channel);
        if (upgrade) {
            sockets.await(worker.limits().wallMs() + GUARD_SLACK_MS, node.sockets(), request, response, callback);
            return;
        }
        // The sandbox enforces the wall-clock limit; this guard only covers a sandbox that never answers.
        GUARD.schedule(() -> {
            if (!relay.isFinished()) relay.offer(new ResponseRelay.NoAnswer());
        }, worker.limits().wallMs() + GUARD_SLACK_MS, TimeUnit.MILLISECONDS);
        if (streamed) pumpBody(request, invocationId, limit, relay, channel);
    }

    /**
     * Sends a streamed request body to the sandbox, one chunk per pull, so the client is read only
     * as fast as the worker consumes. Past the limit the worker's stream errors and the client
     * gets 413 (if the response has not started). Runs on the request's virtual thread.
     */
    private void pumpBody(Request request, long invocationId, long limit, ResponseRelay relay, InvocationChannel channel) {
        long total = 0;
        byte[] buffer = new byte[BODY_CHUNK_BYTES];
        try (InputStream in = Content.Source.asInputStream(request)) {
            while (true) {
                if (!relay.pulls.tryAcquire(1, TimeUnit.MINUTES) || relay.isFinished()) return;
                int n = in.read(buffer);
                if (n < 0) {
                    channel.send(new Message.RequestBodyEnd(invocationId, null));
                    return;
                }
                total += n;
                if (total > limit) {
                    channel.send(new Message.RequestBodyEnd(invocationId, "request body larger than " + limit + " bytes"));
                    relay.offer(new ResponseRelay.TooLarge(limit));
                    return;
                }
                channel.send(new Message.RequestBodyChunk(invocationId, java.util.Arrays.copyOf(buffer, n)));
            }
        } catch (IOException e) {
            channel.send(new Message.RequestBodyEnd(invocationId, "the client's request body failed: " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- the node's own endpoints

    private void admin(String rest, Request request, Response response, Callback callback) throws Exception {
        if (rest.equals("health")) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.write(true, ByteBuffer.wrap("{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8)), callback);
            return;
        }
        if (rest.startsWith("tail/")) {
            if (!authorized(request)) {
                ErrorResponse.write(response, callback, 401, "unauthorized",
                        "tail needs the node's admin token (Authorization: Bearer ..., see <data>/admin.token)", null);
                return;
            }
            tail(rest.substring("tail/".length()), response, callback);
            return;
        }
        ErrorResponse.write(response, callback, ErrorCode.NOT_FOUND, "no such endpoint: " + ADMIN_PREFIX + rest, null);
    }

    private boolean authorized(Request request) {
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        String expected = "Bearer " + node.adminToken();
        return auth != null && MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8),
                expected.getBytes(StandardCharsets.UTF_8));
    }

    private void tail(String worker, Response response, Callback callback) throws InterruptedException {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-ndjson");
        try (LogHub.Tail tail = node.logs().tail(worker); OutputStream out = Content.Sink.asOutputStream(response)) {
            out.write(("{\"tail\":\"" + worker + "\"}\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (true) {
                String line = tail.lines().poll(15, TimeUnit.SECONDS);
                out.write(((line == null ? "" : line) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException clientGone) {
            callback.succeeded();
        }
    }
}
