package dev.bulwark.server.http;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.node.DeployedWorker;
import dev.bulwark.server.node.InvocationChannel;
import dev.bulwark.server.node.InvocationListener;
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
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The node's front door: every HTTP request becomes one fetch invocation of a worker, served on a
 * virtual thread because it blocks (reading the body, waiting for the sandbox,
 * writing the response). {@code /cdn-cgi/bulwark/} is the node's own (health, tail), as
 * {@code /cdn-cgi/} is Cloudflare's.
 */
public final class FrontDoor extends Handler.Abstract {
    static final String ADMIN_PREFIX = "/cdn-cgi/bulwark/";
    /** Bodies of known length up to this size travel inside the FetchStart message. */
    static final int INLINE_BODY_BYTES = 64 << 10;
    static final int BODY_CHUNK_BYTES = 64 << 10;
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te",
            "upgrade", "proxy-connection", "trailer");

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

        Stream stream = new Stream();
        InvocationChannel channel = node.supervisor().fetch(worker.tenant(),
                new Message.FetchStart(invocationId, worker.name(), method, url, headers, body, streamed), stream);
        if (streamed) {
            Thread.startVirtualThread(() -> pumpBody(request, invocationId, limit, stream, channel));
        }
        relay(stream, worker, invocationId, requestId, response, callback, channel);
    }

    /**
     * Sends a streamed request body to the sandbox, one chunk per pull, so the client is read only
     * as fast as the worker consumes. Past the limit the worker's stream errors and the client
     * gets 413 (if the response has not started).
     */
    private void pumpBody(Request request, long invocationId, long limit, Stream stream, InvocationChannel channel) {
        long total = 0;
        byte[] buffer = new byte[BODY_CHUNK_BYTES];
        try (InputStream in = Content.Source.asInputStream(request)) {
            while (true) {
                if (!stream.pulls.tryAcquire(1, TimeUnit.MINUTES) || stream.finished) return;
                int n = in.read(buffer);
                if (n < 0) {
                    channel.send(new Message.RequestBodyEnd(invocationId, null));
                    return;
                }
                total += n;
                if (total > limit) {
                    channel.send(new Message.RequestBodyEnd(invocationId, "request body larger than " + limit + " bytes"));
                    stream.events.add(new TooLarge(limit));
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

    private record TooLarge(long limit) {}

    /** Copies an invocation's events to the HTTP response. */
    private void relay(Stream stream, DeployedWorker worker, long invocationId, String requestId, Response response,
                       Callback callback, InvocationChannel channel) throws InterruptedException {
        try {
            relayEvents(stream, worker, invocationId, requestId, response, callback, channel);
        } finally {
            stream.finished = true;
            stream.pulls.release(); // wake a waiting body pump so it ends
        }
    }

    private void relayEvents(Stream stream, DeployedWorker worker, long invocationId, String requestId,
                             Response response, Callback callback, InvocationChannel channel)
            throws InterruptedException {
        // The sandbox enforces the wall-clock limit; this wait only guards against a lost sandbox.
        long waitMs = worker.limits().wallMs() + TimeUnit.SECONDS.toMillis(30);
        Object first = stream.events.poll(waitMs, TimeUnit.MILLISECONDS);
        if (first instanceof TooLarge t) {
            channel.send(new Message.Cancel(invocationId, "request body too large"));
            ErrorResponse.write(response, callback, ErrorCode.REQUEST_TOO_LARGE,
                    "the request body is larger than the limit of " + t.limit() + " bytes", requestId);
            return;
        }
        if (first == null) {
            channel.send(new Message.Cancel(invocationId, "no answer from the sandbox"));
            ErrorResponse.write(response, callback, ErrorCode.WALL_TIME_EXCEEDED, "no answer from the sandbox", requestId);
            return;
        }
        if (first instanceof Message.InvocationFailed f) {
            ErrorResponse.write(response, callback, ErrorCode.fromCode(f.code()).status(), f.code(), f.message(), requestId);
            return;
        }
        Message.ResponseHead head = (Message.ResponseHead) first;
        response.setStatus(head.status());
        for (Message.Header h : head.headers()) {
            if (!HOP_BY_HOP.contains(h.name().toLowerCase(Locale.ROOT))) response.getHeaders().add(h.name(), h.value());
        }
        OutputStream out = Content.Sink.asOutputStream(response);
        try {
            while (true) {
                Object e = stream.events.poll(waitMs, TimeUnit.MILLISECONDS);
                if (e instanceof TooLarge) continue; // the worker already answered; its body read fails
                if (e == null || e instanceof Message.InvocationFailed) {
                    // Headers are gone already: the only honest signal left is an aborted response.
                    String why = e == null ? "no answer from the sandbox" : ((Message.InvocationFailed) e).message();
                    channel.send(new Message.Cancel(invocationId, why));
                    callback.failed(new IOException("response aborted: " + why));
                    return;
                }
                if (e == Stream.END) break;
                out.write((byte[]) e);
                out.flush();
            }
            out.close();
            callback.succeeded();
        } catch (IOException clientGone) {
            channel.send(new Message.Cancel(invocationId, "the client went away"));
            callback.failed(clientGone);
        }
    }

    /** An invocation's events, queued for the request's virtual thread. */
    private static final class Stream implements InvocationListener {
        static final Object END = new Object();
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        final java.util.concurrent.Semaphore pulls = new java.util.concurrent.Semaphore(0);
        volatile boolean finished;

        @Override
        public void pull() {
            pulls.release();
        }

        public void head(Message.ResponseHead head) {
            events.add(head);
        }

        public void chunk(byte[] data) {
            events.add(data);
        }

        public void end() {
            events.add(END);
        }

        public void failed(Message.InvocationFailed failure) {
            events.add(failure);
        }

        public void done(long cpuMicros) {
            // waitUntil work ended; nothing for the client
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
