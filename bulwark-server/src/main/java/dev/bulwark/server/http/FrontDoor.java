package dev.bulwark.server.http;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.isolate.Deadlines;
import dev.bulwark.server.node.DeployedWorker;
import dev.bulwark.server.node.InvocationChannel;
import dev.bulwark.server.node.LogHub;
import dev.bulwark.server.node.Node;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The node's front door: every HTTP request becomes one fetch invocation of a worker. A request
 * that needs no waiting (no body, not an upgrade, its tenant's sandboxes up) starts its invocation
 * on the thread Jetty parsed it on; every other request goes on on a virtual thread of its own
 * because it may block (reading a body, streaming one to the sandbox chunk by chunk, waiting for a
 * sandbox to start). The response side is relayed asynchronously by {@link ResponseRelay}.
 * {@code /cdn-cgi/bulwark/} is the node's own (health, tail), as {@code /cdn-cgi/} is Cloudflare's.
 * One guard timer per JVM fails requests whose sandbox never answers.
 */
public final class FrontDoor extends Handler.Abstract {
    static final String ADMIN_PREFIX = "/cdn-cgi/bulwark/";
    /** Request attribute: the request id, for errors Jetty answers after the worker was invoked. */
    static final String REQUEST_ID = "bulwark.requestId";
    /** Request attribute: the request's place under the front door's cap ({@link RequestGate}). */
    static final String PERMIT = "bulwark.permit";
    /** Bodies of known length up to this size travel inside the FetchStart message. */
    static final int INLINE_BODY_BYTES = 64 << 10;
    static final int BODY_CHUNK_BYTES = 64 << 10;
    /** How long a request that arrives while {@code serve} still deploys its workers waits for them. */
    static final long DEPLOY_WAIT_MS = 60_000;
    /** How long past a worker's wall-clock limit the node waits before it gives up on a sandbox. */
    static final long GUARD_SLACK_MS = 30_000;
    /**
     * The guard timer. Its deadlines are canceled when their request ends and leave at once (a
     * finished request's relay is not kept reachable until its deadline), and a request whose
     * deadline is not the earliest wakes no thread (see {@link Deadlines}).
     */
    private static final Deadlines GUARD = new Deadlines("front-door-guard");

    /** Guard tasks queued (tests: finished requests leave nothing behind). */
    static int pendingGuards() {
        return GUARD.pending();
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FrontDoor.class);
    private final Node node;
    private final TenantApi tenantApi;
    private final RequestGate gate;

    public FrontDoor(Node node) {
        // NON_BLOCKING: Jetty calls handle() where it parsed the request (a selector thread), without
        // a hand-off to a pool thread and a virtual thread (two wake-ups per request, docs/notes/frontinline.md).
        super(InvocationType.NON_BLOCKING);
        this.node = node;
        this.tenantApi = new TenantApi(node, this);
        this.gate = new RequestGate(node.settings().frontDoor().maxConcurrentRequests());
    }

    /** Requests to workers in flight now (tests). */
    int inFlight() {
        return gate.inFlight();
    }

    /**
     * Jetty calls this on the thread that parsed the request, which must not block: a request that
     * {@linkplain #routedAtOnce starts at once} does so here, every other one on a virtual thread.
     */
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("node.handle", 0);
        DeployedWorker worker = routedAtOnce(request);
        if (worker != null) {
            guarded(request, callback, () -> admitted(request, response, callback,
                    done -> invokeWorker(request, response, done, worker, false)));
        } else {
            Thread.startVirtualThread(() -> guarded(request, callback, () -> handleOnThread(request, response, callback)));
        }
        return true;
    }

    /**
     * The worker a request goes to, when it can be invoked without blocking this thread: not the
     * node's own endpoints or the tenant API, not a WebSocket upgrade, no body to read (nor one to
     * drop before a 413), the node's workers deployed, the worker routed and not to a facet, its
     * tenant's sandboxes up. Null: the request goes on on a thread of its own.
     */
    private DeployedWorker routedAtOnce(Request request) {
        String path = request.getHttpURI().getPath();
        if (path == null || path.startsWith(ADMIN_PREFIX) || request.getMethod().equals("CONNECT")) return null;
        if (mayHaveBody(request) || SocketUpgrade.isUpgrade(request) || !node.workersDeployed()) return null;
        DeployedWorker worker = node.route(Request.getServerName(request), path);
        if (worker == null || node.facetRoute(worker, path) != null || !node.supervisor().ready(worker.tenant())) {
            return null;
        }
        return worker;
    }

    /** Every request that does not start at once, on its own virtual thread, where it may block. */
    private void handleOnThread(Request request, Response response, Callback callback) throws Exception {
        if (request.getMethod().equals("CONNECT")) {
            // A worker's connect handler is reached only by connect() on a stub (a CONNECT call,
            // sockets.js): a client's CONNECT must not pass for one. Workers takes no inbound TCP either.
            ErrorResponse.write(response, callback, 405, "method_not_allowed",
                    "CONNECT is not served: a worker's connect handler is reached through a service binding", null);
            return;
        }
        String path = request.getHttpURI().getPath();
        if (path != null && path.startsWith(ADMIN_PREFIX) && request.getHttpURI().isAmbiguous()) {
            // Workers see the path as sent (FrontDoorServer.URI_COMPLIANCE); the node's own endpoints
            // and the tenant API read names out of it, and take none an empty segment or an encoded
            // '/', '%' or ';' could disguise.
            ErrorResponse.write(response, callback, 400, "bad_request",
                    "ambiguous path: an empty segment or an encoded '/', '%' or ';' in " + ADMIN_PREFIX, null);
            return;
        }
        if (path != null && path.startsWith(ADMIN_PREFIX) && !path.startsWith(TenantApi.PREFIX)) {
            // The node's own endpoints (health, tail) are not requests to workers: not counted.
            admin(path.substring(ADMIN_PREFIX.length()), request, response, callback);
            return;
        }
        if (!node.awaitDeployed(DEPLOY_WAIT_MS)) {
            ErrorResponse.write(response, callback, 503, "node_starting", "the node is still deploying its workers;"
                    + " retry later", null);
            return;
        }
        admitted(request, response, callback, done -> serve(request, response, done));
    }

    /** What a request does, where an exception fails it. */
    private interface Step {
        void run() throws Exception;
    }

    /** What a request does under the front door's cap, with the callback that releases its place. */
    private interface AdmittedStep {
        void run(Callback done) throws Exception;
    }

    /** Runs {@code step}; an exception it throws fails the request with {@code callback}. */
    private void guarded(Request request, Callback callback, Step step) {
        try {
            step.run();
        } catch (VirtualMachineError e) {
            // Never swallowed: the request fails, and the error goes on to the thread's handler.
            callback.failed(e);
            throw e;
        } catch (Throwable e) {
            // The client gets the JSON error shape without the exception (JsonErrorHandler); the operator gets it here.
            log.warn("request to {} failed in the front door: {}", request.getHttpURI().getPath(), e.toString());
            callback.failed(e);
        }
    }

    /** Runs {@code step} with a place under the front door's cap, or answers 503 when it is full. */
    private void admitted(Request request, Response response, Callback callback, AdmittedStep step) {
        RequestGate.Permit permit = gate.tryEnter();
        if (permit == null) {
            ErrorResponse.write(response, callback, 503, "node_overloaded", "the node is serving its maximum of "
                    + gate.capacity() + " concurrent requests; retry later", null);
            return;
        }
        // Released when the response completes (or fails), or when a WebSocket takes the connection over.
        request.setAttribute(PERMIT, permit);
        Callback done = Callback.from(callback, permit::release);
        guarded(request, done, () -> step.run(done));
    }

    private void serve(Request request, Response response, Callback callback) throws Exception {
        String path = request.getHttpURI().getPath();
        // The tenant API counts as requests to workers: it runs and forwards to them.
        if (path != null && path.startsWith(TenantApi.PREFIX)) {
            tenantApi.handle(path.substring(TenantApi.PREFIX.length()), request, response, callback);
            return;
        }
        DeployedWorker worker = node.route(Request.getServerName(request), path);
        if (worker == null) {
            ErrorResponse.write(response, callback, ErrorCode.NOT_FOUND, "no worker is routed for this host", null);
            return;
        }
        // Issue 14: a configured route to the built-in facet supervisor skips the worker's sandbox.
        dev.bulwark.server.node.FacetRoute facetRoute = node.facetRoute(worker, path);
        if (facetRoute != null) {
            FacetRouteHandler.serve(node, facetRoute, worker, request, response, callback);
            return;
        }
        invokeWorker(request, response, callback, worker, true);
    }

    /** Invokes {@code worker} for this request; {@code mayWait}: see {@link #invoke}. */
    private void invokeWorker(Request request, Response response, Callback callback, DeployedWorker worker,
                              boolean mayWait) throws Exception {
        long invocationId = node.nextInvocationId();
        String requestId = LogHub.requestId(invocationId);
        String loadError = node.loadError(worker.name());
        if (loadError != null) {
            // The load error itself was logged once, at deploy; it may show code the client must not see.
            ErrorResponse.write(response, callback, ErrorCode.WORKER_LOAD_FAILED,
                    ErrorResponse.clientMessage(ErrorCode.WORKER_LOAD_FAILED, loadError), requestId);
            return;
        }
        invoke(request, response, callback, worker.tenant(), new dev.bulwark.sandbox.ipc.Address.Worker(worker.name()),
                worker.limits(), invocationId, requestId, request.getHttpURI().asString(),
                ClientHeaders.forWorker(request, node.settings().frontDoor(), requestId), mayWait);
    }

    /**
     * Bodies up to this size are read and dropped before their 413 is written. A client that sends
     * its body at once (no {@code Expect: 100-continue}; curl asks for it only past 1 MiB) is still
     * writing when the answer comes; the connection then closes with unread bytes, the kernel resets
     * it, and the client sees a broken pipe instead of the 413 (seen in NodeTest on a 64 KiB + 1 body).
     */
    static final long DRAIN_BEFORE_REFUSAL_BYTES = 1 << 20;

    /** Answers 413 when the request declares a body over {@code limit}; true if it did. */
    static boolean refusedAsDeclaredTooLarge(Request request, Response response, Callback callback, long limit,
                                             String requestId) {
        long declared = request.getLength();
        if (declared <= limit) return false;
        if (declared <= DRAIN_BEFORE_REFUSAL_BYTES) {
            try (InputStream in = Content.Source.asInputStream(request)) {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                // The client went away or sent less: the answer below is still the right one to try.
            }
        }
        ErrorResponse.write(response, callback, ErrorCode.REQUEST_TOO_LARGE,
                "the request body is " + declared + " bytes; the limit is " + limit, requestId);
        return true;
    }

    /**
     * Reads the request body into memory, at most {@code readAtMost} bytes (one more than may be
     * kept, so that a body over {@code limit} is seen), or answers 413 and returns null.
     */
    static byte[] readWhole(Request request, Response response, Callback callback, int readAtMost, long limit,
                            String requestId) throws IOException {
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(request)) {
            body = in.readNBytes(readAtMost);
        }
        if (body.length <= limit) return body;
        ErrorResponse.write(response, callback, ErrorCode.REQUEST_TOO_LARGE,
                "the request body is larger than the limit of " + limit + " bytes", requestId);
        return null;
    }

    /**
     * Starts a fetch invocation of {@code target} for this request and relays its response: the body
     * travels inline when small and of known length, else streamed on demand. Also the tenant API's
     * way to forward a request to a dynamic worker ({@link TenantApi}).
     *
     * @param mayWait whether this thread may block (false: a request without a body, not an upgrade,
     *                to a tenant whose sandboxes are up, started by Jetty's own thread; see {@link #routedAtOnce})
     */
    void invoke(Request request, Response response, Callback callback, String tenant, dev.bulwark.sandbox.ipc.Address target,
                dev.bulwark.sandbox.worker.Limits limits, long invocationId, String requestId, String url,
                List<Message.Header> headers, boolean mayWait) throws Exception {
        long limit = limits.requestBodyBytes();
        long declared = request.getLength();
        if (refusedAsDeclaredTooLarge(request, response, callback, limit, requestId)) return;
        String method = request.getMethod();
        boolean hasBody = !method.equals("GET") && !method.equals("HEAD") && mayHaveBody(request);
        // HTTP/2 and 3 have no Transfer-Encoding: a body of unknown length is a stream its headers
        // did not end. What was read to see that travels first in the pump.
        Content.Chunk first = null;
        if (hasBody && declared < 0 && !isHttp1(request)) {
            first = request.read(); // never blocks: null when nothing has come yet
            if (first != null && first.isLast() && !first.hasRemaining()) {
                first.release();
                first = null;
                hasBody = false;
            }
        }
        // A small body of known length travels with the request; any other body streams on demand.
        boolean streamed = hasBody && (declared < 0 || declared > INLINE_BODY_BYTES);
        byte[] body = null;
        if (hasBody && !streamed) {
            body = readWhole(request, response, callback, (int) declared + 1, limit, requestId);
            if (body == null) return;
        }
        request.setAttribute(REQUEST_ID, requestId);
        ResponseRelay relay = new ResponseRelay(response, callback, invocationId, requestId, target.workerId());
        boolean upgrade = SocketUpgrade.isUpgrade(request);
        SocketUpgrade sockets = new SocketUpgrade(relay, upgrade);
        Message.FetchStart start = new Message.FetchStart(invocationId, target, method, url, headers, body, streamed);
        InvocationChannel channel = mayWait ? node.supervisor().fetch(tenant, start, sockets)
                : node.supervisor().fetchAtOnce(tenant, start, sockets);
        relay.connect(channel);
        dev.bulwark.sandbox.trace.LatencyTrace.stamp("node.started", invocationId);
        if (upgrade) {
            sockets.await(limits.wallMs() + GUARD_SLACK_MS, node.sockets(), request, response, callback, () -> {
                if (request.getAttribute(PERMIT) instanceof RequestGate.Permit p) p.release();
            });
            return;
        }
        // The sandbox enforces the wall-clock limit; this guard only covers a sandbox that never answers.
        // The task holds the relay only weakly, and is canceled when the response completes.
        java.lang.ref.WeakReference<ResponseRelay> weak = new java.lang.ref.WeakReference<>(relay);
        relay.guard(GUARD.schedule(() -> {
            ResponseRelay r = weak.get();
            if (r != null && !r.isFinished()) r.offer(new ResponseRelay.NoAnswer());
        }, limits.wallMs() + GUARD_SLACK_MS));
        if (streamed) pumpBody(request, first, invocationId, limit, relay, channel);
    }

    /**
     * Sends a streamed request body to the sandbox, one chunk per pull, so the client is read only
     * as fast as the worker consumes. Past the limit the worker's stream errors and the client
     * gets 413 (if the response has not started). Runs on the request's virtual thread.
     */
    private void pumpBody(Request request, Content.Chunk first, long invocationId, long limit, ResponseRelay relay,
                          InvocationChannel channel) {
        long total = 0;
        byte[] buffer = new byte[BODY_CHUNK_BYTES];
        try (InputStream in = bodyOf(request, first)) {
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

    /**
     * Whether the request declares a body or may have one of unknown length: with HTTP/1 a
     * {@code Transfer-Encoding}, with HTTP/2 and 3 any request but GET and HEAD (Jetty does not say
     * whether the headers ended the stream; {@link #invoke} looks).
     */
    private static boolean mayHaveBody(Request request) {
        long declared = request.getLength();
        if (declared >= 0) return declared > 0;
        if (isHttp1(request)) return request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
        String method = request.getMethod();
        return !method.equals("GET") && !method.equals("HEAD");
    }

    private static boolean isHttp1(Request request) {
        return switch (request.getConnectionMetaData().getHttpVersion()) {
            case HTTP_0_9, HTTP_1_0, HTTP_1_1 -> true;
            case HTTP_2, HTTP_3 -> false;
        };
    }

    /**
     * The request's body: the bytes of {@code first} (a chunk read already to see whether a body
     * follows, released here; may be null), then the rest. A failed chunk fails the read, as the
     * pump's own reads fail: the worker's stream errors.
     */
    private static InputStream bodyOf(Request request, Content.Chunk first) throws IOException {
        if (first == null) return Content.Source.asInputStream(request);
        try {
            if (Content.Chunk.isFailure(first)) throw new IOException(first.getFailure());
            byte[] bytes = new byte[first.remaining()];
            first.get(bytes, 0, bytes.length);
            return new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(bytes), Content.Source.asInputStream(request));
        } finally {
            first.release();
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
            tail(rest.substring("tail/".length()), request, response, callback);
            return;
        }
        if (rest.equals("namespaces") || rest.startsWith("namespaces/")) {
            if (!authorized(request)) {
                ErrorResponse.write(response, callback, 401, "unauthorized",
                        "the admin endpoints need the node's admin token (Authorization: Bearer ..., see <data>/admin.token)",
                        null);
                return;
            }
            new AdminObjects(node.objects()).serve(rest, request, response, callback);
            return;
        }
        if (rest.equals("metrics")) { // Prometheus, with the admin token: its labels name tenants
            AdminMetrics.serve(node, authorized(request), request, response, callback);
            return;
        }
        if (rest.equals("facets") || rest.startsWith("facets/")) {
            if (!authorized(request)) {
                ErrorResponse.write(response, callback, 401, "unauthorized",
                        "the admin endpoints need the node's admin token (Authorization: Bearer ..., see <data>/admin.token)",
                        null);
                return;
            }
            new AdminFacets(node).serve(rest, request, response, callback);
            return;
        }
        ErrorResponse.write(response, callback, ErrorCode.NOT_FOUND, "no such endpoint: " + ADMIN_PREFIX + rest, null);
    }

    /**
     * Whether the request carries the node's admin token ({@code Authorization: Bearer <token>}; the
     * scheme in any case, as HTTP says). The token is compared in constant time.
     */
    private boolean authorized(Request request) {
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (auth == null) return false;
        int space = auth.indexOf(' ');
        if (space < 0 || !auth.substring(0, space).equalsIgnoreCase("Bearer")) return false;
        return MessageDigest.isEqual(auth.substring(space + 1).getBytes(StandardCharsets.UTF_8),
                node.adminToken().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * How often an idle tail writes a keep-alive line (which also finds out that its client left):
     * 15 s; tests shorten it with {@code -Dbulwark.tail.heartbeatMs} (read per tail).
     */
    static long tailHeartbeatMs() {
        return Long.getLong("bulwark.tail.heartbeatMs", 15_000);
    }

    /**
     * Streams a worker's log lines until the client leaves. The loop ends when a write fails, when
     * Jetty reports the request failed (the connection closed), or when the connection's end point
     * is closed; so a tail whose client left never outlives the next heartbeat.
     */
    private void tail(String worker, Request request, Response response, Callback callback) throws InterruptedException {
        if (!node.isDeployed(worker)) {
            ErrorResponse.write(response, callback, ErrorCode.NOT_FOUND, "no worker named '" + worker + "' is deployed", null);
            return;
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/x-ndjson");
        java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean();
        request.addFailureListener(failure -> gone.set(true));
        var endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        try (LogHub.Tail tail = node.logs().tail(worker); OutputStream out = Content.Sink.asOutputStream(response)) {
            out.write(("{\"tail\":\"" + worker + "\"}\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            long heartbeat = TimeUnit.MILLISECONDS.toNanos(tailHeartbeatMs());
            long lastWrite = System.nanoTime();
            while (!gone.get() && endPoint.isOpen()) {
                String line = tail.lines().poll(1, TimeUnit.SECONDS);
                if (line == null && System.nanoTime() - lastWrite < heartbeat) continue;
                out.write(((line == null ? "" : line) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                lastWrite = System.nanoTime();
            }
            callback.succeeded();
        } catch (IOException | java.io.UncheckedIOException | IllegalStateException clientGone) {
            callback.succeeded();
        }
    }
}
