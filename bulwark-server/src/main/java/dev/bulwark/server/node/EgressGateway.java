package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.isolate.IsolateHost;
import dev.bulwark.server.config.EgressRule;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.egress.AddressClassifier;
import dev.bulwark.server.egress.AddressGuard;
import dev.bulwark.server.egress.EgressTarget;
import dev.bulwark.server.egress.OutboundCall;
import org.eclipse.jetty.client.AsyncRequestContent;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every outbound {@code fetch()} and {@code connect()} of a worker comes here, and nowhere else:
 * sandboxes have no network of their own ({@link TcpTunnel} carries a {@code connect()}). A
 * request leaves only if the allowlist allows it (scheme, host, port, path prefix, method, worker,
 * tenant) and every address its host resolves to may be reached ({@link AddressGuard}: the client
 * connects to exactly the addresses that were checked).
 *
 * <p>Memory is bounded, whatever workers do: the upstream body is read only as fast as the worker
 * acknowledges what it consumed ({@link Message#SUBREQUEST_WINDOW} ahead at most, in chunks of
 * {@link Message#STREAM_CHUNK}), and at most {@link EgressSettings#maxConcurrent} upstreams (and
 * {@link EgressSettings#maxConcurrentPerTenant} per tenant) are open, so the node holds at most a
 * chunk and the client's buffers per upstream. Bodies are capped while they stream; every request
 * has a deadline. Each call is logged (logger {@code bulwark.egress}) and added to its invocation's
 * outbound summary.
 */
final class EgressGateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("bulwark.egress");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te",
            "upgrade", "host", "content-length", "expect", "proxy-connection", "trailer", "proxy-authorization",
            InvocationRecords.VIA, InvocationRecords.TREE);
    /** Request bodies held for upstreams at once, node-wide: 64 MiB. */
    static final int REQUEST_BODY_BUDGET_KIB = 64 << 10;
    /** How long a connection may sit idle (no bytes either way) before the request fails. */
    static final long IDLE_TIMEOUT_MS = 30_000;

    /** Who asked: the sandbox the subrequest came from, and its tenant. */
    record Origin(IsolateHost sandbox, String tenant) {}

    private record Key(IsolateHost sandbox, long subrequestId) {}

    private final EgressSettings settings;
    private final InvocationRecords invocations;
    private final AddressGuard guard;
    private final HttpClient client;
    private final Semaphore global;
    /** Request body bytes (in KiB) the gateway holds for upstreams at once, over all requests. */
    private final Semaphore requestBodyKib = new Semaphore(REQUEST_BODY_BUDGET_KIB);
    private final Map<String, Semaphore> perTenant = new ConcurrentHashMap<>();
    private final Map<Key, Upstream> live = new ConcurrentHashMap<>();
    /** TLS for connect() with secureTransport "on" or startTls(): the JDK's trust store, host names checked. */
    private volatile SSLSocketFactory tls;
    private volatile OutboundSockets outbound;

    EgressGateway(EgressSettings settings, InvocationRecords invocations) {
        this(settings, invocations, new AddressClassifier());
    }

    EgressGateway(EgressSettings settings, InvocationRecords invocations, AddressClassifier classifier) {
        this.settings = settings;
        this.invocations = invocations;
        this.guard = new AddressGuard(classifier, settings.allowPrivateNetworks(), settings.testOnlyAllowLoopback());
        this.global = new Semaphore(settings.maxConcurrent());
        this.tls = (SSLSocketFactory) SSLSocketFactory.getDefault();
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("egress");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        this.client = new HttpClient();
        client.setExecutor(threads);
        client.setSocketAddressResolver(guard);
        client.setFollowRedirects(false);
        client.setConnectTimeout(10_000);
        client.setIdleTimeout(IDLE_TIMEOUT_MS);
        client.setUserAgentField(null);
        client.setMaxConnectionsPerDestination(Math.min(64, settings.maxConcurrent()));
        client.setMaxRequestsQueuedPerDestination(settings.maxConcurrent());
        // Bodies pass through as the upstream sent them (no transparent decompression to bomb the cap).
        client.getContentDecoderFactories().clear();
        // Pooled buffers retained between requests are capped too (8 MiB heap, 8 MiB direct).
        client.setByteBufferPool(new ArrayByteBufferPool(0, 0, 64 << 10, Integer.MAX_VALUE, 8L << 20, 8L << 20));
        try {
            client.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start the egress HTTP client", e);
        }
    }

    /** A message of the egress protocol from a sandbox: a subrequest, an acknowledgement or a cancellation. */
    void receive(Origin from, Message m) {
        switch (m) {
            case Message.Subrequest s -> start(from, s, false);
            case Message.StreamedSubrequest s -> start(from,
                    new Message.Subrequest(s.invocationId(), s.subrequestId(), s.method(), s.url(), s.headers(), null), true);
            case Message.SubrequestBodyChunk c -> uploaded(from, c.subrequestId(), c.data());
            case Message.SubrequestBodyEnd e -> uploaded(from, e.subrequestId(), new Upstream.UploadEnd(e.error()));
            case Message.SubrequestStartTls t -> uploaded(from, t.subrequestId(), new Upstream.StartTls());
            case Message.SubrequestAck a -> {
                Upstream u = live.get(new Key(from.sandbox(), a.subrequestId()));
                if (u != null) u.acknowledge(a.bytes());
            }
            case Message.SubrequestCancel c -> {
                Upstream u = live.get(new Key(from.sandbox(), c.subrequestId()));
                if (u != null) u.cancel();
            }
            default -> throw new IllegalArgumentException("not an egress message: " + m.getClass().getSimpleName());
        }
    }

    /**
     * Registers the subrequest before anything else can happen to it (a cancellation right behind
     * it on the same connection must find it), then performs it on a virtual thread.
     */
    private void start(Origin from, Message.Subrequest s, boolean streamedBody) {
        Key key = new Key(from.sandbox(), s.subrequestId());
        Upstream upstream = new Upstream();
        if (live.putIfAbsent(key, upstream) != null) {
            reply(from, new Message.SubrequestFailed(s.subrequestId(), "fetch(): duplicate subrequest"));
            return;
        }
        Thread.startVirtualThread(() -> {
            try {
                perform(from, s, streamedBody, upstream);
            } finally {
                live.remove(key, upstream);
            }
        });
    }

    private void uploaded(Origin from, long subrequestId, Object piece) {
        Upstream u = live.get(new Key(from.sandbox(), subrequestId));
        // More than was pulled is a broken sandbox: that upload ends.
        if (u != null && !u.uploaded(piece)) u.cancel();
    }

    /** Where WebSocket upgrades go (set once by the node, after the socket hub exists). */
    void outbound(OutboundSockets sockets) {
        this.outbound = sockets;
    }

    /** Node-wide outbound slots free now (tests). */
    int freeSlots() {
        return global.availablePermits();
    }

    OutboundSockets outboundSockets() {
        return outbound;
    }

    HttpClient httpClient() {
        return client;
    }

    /** An invocation is over: the WebSockets it opened close (unless a client's socket keeps them). */
    void invocationDone(long invocationId) {
        OutboundSockets o = outbound;
        if (o != null) o.invocationDone(invocationId);
    }

    /** A GET with {@code Upgrade: websocket}: what Workers' fetch() makes a WebSocket handshake. */
    static boolean isWebSocketUpgrade(String method, List<Message.Header> headers) {
        if (!method.equals("GET")) return false;
        for (Message.Header h : headers) {
            if (h.name().equalsIgnoreCase("upgrade") && h.value().trim().equalsIgnoreCase("websocket")) return true;
        }
        return false;
    }

    /**
     * The WebSocket handshake of a worker's fetch(): through the same client (so the same address
     * checks, with no window between the check and the connection), under the same allowlist
     * (checked by the caller). A 101 answers the worker with the socket's id in the internal header
     * {@code :bulwark-websocket}, as a durable object's 101 does; any other answer is an ordinary
     * response (its body up to {@link Message#SUBREQUEST_WINDOW} bytes).
     */
    private boolean webSocket(Origin from, Message.Subrequest s, InvocationRecords.Record inv, EgressTarget target, long started,
                              Runnable releaseSlots) {
        String host = target.host().name();
        if (!(from.sandbox() instanceof SandboxProcess home)) {
            fail(from, s, inv, "GET", host, 0, "failed", "WebSockets are not available here", 0, started);
            return false;
        }
        OutboundSockets.Outbound socket = outbound.register(inv.id(), inv.tenant(), home);
        org.eclipse.jetty.websocket.client.ClientUpgradeRequest upgrade = new org.eclipse.jetty.websocket.client.ClientUpgradeRequest();
        Map<String, List<String>> fields = new java.util.LinkedHashMap<>();
        for (Message.Header header : s.headers()) {
            String name = header.name().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(name) && !OutboundSockets.HANDSHAKE_HEADERS.contains(name)) {
                fields.computeIfAbsent(name, k -> new ArrayList<>()).add(header.value());
            }
        }
        for (Message.Header loop : inv.loopHeaders()) fields.put(loop.name(), List.of(loop.value()));
        if (!fields.isEmpty()) upgrade.setHeaders(fields);
        List<String> protocols = OutboundSockets.subProtocols(s.headers());
        if (!protocols.isEmpty()) upgrade.setSubProtocols(protocols);
        RefusedUpgrade refused = new RefusedUpgrade();
        java.net.URI uri = java.net.URI.create((target.scheme().equals("https") ? "wss" : "ws") + target.uri().toString()
                .substring(target.scheme().length()));
        org.eclipse.jetty.websocket.api.Session session;
        try {
            session = outbound.client().connect(socket, uri, upgrade, refused)
                    .get(settings.timeoutMs(), TimeUnit.MILLISECONDS);
        } catch (IOException | RuntimeException e) {
            outbound.unregister(inv.id(), socket);
            log.warn("WebSocket handshake to {} could not start: {}", host, e.toString());
            fail(from, s, inv, "GET", host, 0, "failed", describe(e, host), 0, started);
            return false;
        } catch (ExecutionException e) {
            outbound.unregister(inv.id(), socket);
            Throwable cause = e.getCause();
            AddressGuard.Denied denied = null;
            for (Throwable t = cause; t != null && denied == null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof AddressGuard.Denied d) denied = d;
            }
            if (denied != null) {
                deny(from, s, inv, "GET", host, denied.getMessage(), started);
            } else if (refused.status > 0) {
                byte[] body = refused.body();
                reply(from, new Message.SubrequestHead(s.subrequestId(), refused.status, refused.reason, refused.headers, s.url(),
                        body.length > 0));
                for (int at = 0; at < body.length; at += Message.STREAM_CHUNK) {
                    reply(from, new Message.SubrequestChunk(s.subrequestId(),
                            Arrays.copyOfRange(body, at, Math.min(body.length, at + Message.STREAM_CHUNK))));
                }
                if (body.length > 0) reply(from, new Message.SubrequestEnd(s.subrequestId(), null));
                record(inv, "GET", host, refused.status, "ok", body.length, 0, started);
            } else {
                fail(from, s, inv, "GET", host, 0, outcome(cause), describe(cause, host), 0, started);
            }
            return false;
        } catch (TimeoutException e) {
            outbound.unregister(inv.id(), socket);
            fail(from, s, inv, "GET", host, 0, "timeout", "The upstream did not answer within " + settings.timeoutMs() + " ms",
                    0, started);
            return false;
        } catch (InterruptedException e) {
            outbound.unregister(inv.id(), socket);
            Thread.currentThread().interrupt();
            return false;
        }
        List<Message.Header> headers = new ArrayList<>();
        var response = session.getUpgradeResponse();
        for (var e : response.getHeaders().entrySet()) {
            for (String v : e.getValue()) headers.add(new Message.Header(e.getKey().toLowerCase(Locale.ROOT), v));
        }
        socket.onForget(releaseSlots);
        // Its frames' bytes grow this record (the opener's; see SocketMeter for one that outlives it):
        // metered before the worker hears of it, so its first sends are counted.
        socket.meter(new SocketMeter(inv, record(inv, "GET", host, 101, "ok", 0, 0, started), host, invocations));
        headers.add(new Message.Header(":bulwark-websocket", Long.toString(socket.id)));
        reply(from, new Message.SubrequestHead(s.subrequestId(), 101, "Switching Protocols", headers, s.url(), false));
        return true;
    }

    /** An upstream response's fields as a worker sees them (names in lower case). */
    private static List<Message.Header> headersOf(Iterable<HttpField> fields) {
        List<Message.Header> headers = new ArrayList<>();
        for (HttpField f : fields) headers.add(new Message.Header(f.getName().toLowerCase(Locale.ROOT), f.getValue()));
        return headers;
    }

    /** What a server that refused the upgrade answered: status, headers and the start of its body. */
    private static final class RefusedUpgrade implements org.eclipse.jetty.websocket.client.JettyUpgradeListener {
        volatile int status;
        volatile String reason = "";
        volatile List<Message.Header> headers = List.of();
        private final java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();

        @Override
        public void onHandshakeRequest(Request request) {
            request.onResponseHeaders(r -> {
                if (r.getStatus() == 101) return;
                headers = headersOf(r.getHeaders());
                reason = r.getReason() == null ? "" : r.getReason();
                status = r.getStatus();
            });
            request.onResponseContent((r, content) -> {
                synchronized (body) {
                    int room = (int) Message.SUBREQUEST_WINDOW - body.size();
                    int n = Math.min(room, content.remaining());
                    for (int i = 0; i < n; i++) body.write(content.get());
                }
            });
        }

        byte[] body() {
            synchronized (body) {
                return body.toByteArray();
            }
        }
    }

    /** The sandbox is gone: close every upstream it had open. */
    void sandboxGone(IsolateHost sandbox) {
        live.forEach((k, u) -> {
            if (k.sandbox() == sandbox) u.cancel();
        });
        OutboundSockets o = outbound;
        if (o != null && sandbox instanceof SandboxProcess p) o.sandboxGone(p);
    }

    /** Tests only: the TLS a connect() uses, trusting a local test server's own certificate instead of the JDK's roots. */
    void trustForTests(SSLSocketFactory factory) {
        this.tls = factory;
    }

    /** Whether the gateway's HTTP client still runs (tests: closing the node stops it). */
    boolean clientRunning() {
        return client.isRunning();
    }

    int openUpstreams() {
        return live.size();
    }

    private void perform(Origin from, Message.Subrequest s, boolean streamedBody, Upstream upstream) {
        long started = System.nanoTime();
        InvocationRecords.Record inv = invocations.get(s.invocationId());
        String method = s.method() == null ? "GET" : s.method().toUpperCase(Locale.ROOT);
        long bytesOut = s.body() == null ? 0 : s.body().length;
        if (inv == null || !inv.tenant().equals(from.tenant())) {
            // A request that ended already, or one this sandbox does not run.
            reply(from, new Message.SubrequestFailed(s.subrequestId(), "fetch() can only be called while handling a request"));
            return;
        }
        // A connect() (cloudflare:sockets) comes as a streamed CONNECT to tcp://, tls:// or starttls://host:port.
        boolean socket = method.equals("CONNECT");
        EgressTarget target;
        try {
            if (socket && !streamedBody) throw new IllegalArgumentException("connect(): not a socket request");
            target = socket ? EgressTarget.parseSocket(s.url()) : EgressTarget.parse(s.url());
        } catch (IllegalArgumentException e) {
            deny(from, s, inv, method, "", e.getMessage(), started);
            return;
        }
        String host = target.host().name();
        if (socket && target.port() == 25) {
            // As Cloudflare: SMTP from workers would make every node an open relay for spam.
            deny(from, s, inv, method, host, "Connections to port 25 are prohibited", started);
            return;
        }
        if (!settings.allows(socket ? EgressRule.TCP : target.scheme(), host, target.port(), target.path(), method,
                inv.worker(), inv.tenant())) {
            deny(from, s, inv, method, host, "Network connection to " + host + (socket ? ":" + target.port() : "")
                    + " is not allowed by this node's egress policy", started);
            return;
        }
        Semaphore tenantSlots = perTenant.computeIfAbsent(inv.tenant(), t -> new Semaphore(settings.maxConcurrentPerTenant()));
        if (!global.tryAcquire()) {
            fail(from, s, inv, method, host, 0, "failed", "Too many outbound requests in flight on this node; try again later",
                    0, started);
            return;
        }
        if (!tenantSlots.tryAcquire()) {
            global.release();
            fail(from, s, inv, method, host, 0, "failed",
                    "Too many outbound requests in flight for this tenant; try again later", 0, started);
            return;
        }
        int bodyKib = (int) ((bytesOut + 1023) >> 10);
        if (bodyKib > 0 && !requestBodyKib.tryAcquire(bodyKib)) {
            tenantSlots.release();
            global.release();
            fail(from, s, inv, method, host, 0, "failed",
                    "Too many request body bytes in flight on this node; try again later", 0, started);
            return;
        }
        boolean kept = false;
        try {
            if (upstream.isCanceled()) return; // the worker gave up before it started
            if (!socket && isWebSocketUpgrade(method, s.headers()) && outbound != null) {
                // An open WebSocket keeps its slots, as a connect() socket does, until it is gone.
                kept = webSocket(from, s, inv, target, started, () -> {
                    tenantSlots.release();
                    global.release();
                });
            } else if (socket) {
                TcpTunnel.Outcome o = new TcpTunnel(m -> reply(from, m), s.subrequestId(), target, upstream, settings, guard,
                        tls).run();
                record(inv, method, host, o.status(), o.outcome(), o.bytesIn(), o.bytesOut(), started);
            } else {
                stream(from, s, streamedBody, inv, method, target, upstream, started, bytesOut);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (bodyKib > 0) requestBodyKib.release(bodyKib);
            if (!kept) {
                tenantSlots.release();
                global.release();
            }
        }
    }

    private void stream(Origin from, Message.Subrequest s, boolean streamedBody, InvocationRecords.Record inv,
                        String method, EgressTarget target, Upstream upstream, long started, long bytesOut) {
        String host = target.host().name();
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(settings.timeoutMs());
        Request request = client.newRequest(target.uri()).method(method)
                .timeout(settings.timeoutMs(), TimeUnit.MILLISECONDS)
                .idleTimeout(IDLE_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .headers(h -> {
                    for (Message.Header header : s.headers()) {
                        if (!HOP_BY_HOP.contains(header.name().toLowerCase(Locale.ROOT))) h.add(header.name(), header.value());
                    }
                    for (Message.Header loop : inv.loopHeaders()) h.put(loop.name(), loop.value());
                });
        if (s.body() != null) request.body(new BytesRequestContent(s.body()));
        AsyncRequestContent upload = streamedBody ? new AsyncRequestContent() : null;
        if (upload != null) request.body(upload);
        InputStreamResponseListener listener = new InputStreamResponseListener();
        upstream.onCancel(() -> request.abort(new IOException("canceled by the worker")));
        request.send(listener);
        java.util.concurrent.atomic.AtomicLong uploadedBytes = new java.util.concurrent.atomic.AtomicLong();
        if (upload != null) {
            Thread.startVirtualThread(() -> pumpUpload(from, s.subrequestId(), upstream, upload, deadline, uploadedBytes));
        }
        Response response;
        try {
            response = listener.get(settings.timeoutMs(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof AddressGuard.Denied denied) {
                deny(from, s, inv, method, host, denied.getMessage(), started);
            } else if (!upstream.isCanceled()) {
                // The client's own total timeout (egress.timeout_ms) races the wait below: one message for both.
                String message = cause instanceof TimeoutException
                        ? "The upstream did not answer within " + settings.timeoutMs() + " ms" : describe(cause, host);
                fail(from, s, inv, method, host, 0, outcome(cause), message, bytesOut, started);
            }
            return;
        } catch (TimeoutException e) {
            request.abort(e);
            fail(from, s, inv, method, host, 0, "timeout", "The upstream did not answer within " + settings.timeoutMs() + " ms",
                    bytesOut, started);
            return;
        } catch (InterruptedException e) {
            request.abort(e);
            Thread.currentThread().interrupt();
            return;
        }
        int status = response.getStatus();
        List<Message.Header> headers = headersOf(response.getHeaders());
        boolean hasBody = !method.equals("HEAD") && status != 204 && status != 304 && status >= 200;
        reply(from, new Message.SubrequestHead(s.subrequestId(), status, response.getReason() == null ? "" : response.getReason(),
                headers, s.url(), hasBody));
        if (!hasBody) {
            request.abort(new IOException("no body expected"));
            record(inv, method, host, status, "ok", 0, bytesOut, started);
            return;
        }
        long total = 0;
        String outcome = "ok";
        byte[] buffer = new byte[Message.STREAM_CHUNK];
        try (InputStream in = listener.getInputStream()) {
            while (true) {
                if (!upstream.awaitRoom(deadline)) {
                    if (!upstream.isCanceled()) {
                        outcome = "timeout";
                        reply(from, new Message.SubrequestEnd(s.subrequestId(),
                                "The response body was not read within " + settings.timeoutMs() + " ms"));
                    } else {
                        outcome = "canceled";
                    }
                    request.abort(new IOException("ended"));
                    break;
                }
                int n = in.read(buffer);
                if (n < 0) {
                    reply(from, new Message.SubrequestEnd(s.subrequestId(), null));
                    break;
                }
                total += n;
                if (total > settings.maxResponseBytes()) {
                    outcome = "too_large";
                    total -= n;
                    request.abort(new IOException("too large"));
                    reply(from, new Message.SubrequestEnd(s.subrequestId(),
                            "The response body is larger than this node passes to a worker (" + settings.maxResponseBytes() + " bytes)"));
                    break;
                }
                upstream.sent(n);
                reply(from, new Message.SubrequestChunk(s.subrequestId(), Arrays.copyOf(buffer, n)));
            }
        } catch (IOException e) {
            if (upstream.isCanceled()) {
                outcome = "canceled";
            } else {
                outcome = outcome(e);
                reply(from, new Message.SubrequestEnd(s.subrequestId(), describe(e, host)));
            }
        } catch (InterruptedException e) {
            request.abort(e);
            Thread.currentThread().interrupt();
            outcome = "canceled";
        }
        record(inv, method, host, status, outcome, total, bytesOut + uploadedBytes.get(), started);
    }

    /**
     * Feeds a streamed request body to the upstream: one pull to the sandbox, one chunk back, and
     * the next pull only once the client has taken that chunk, so at most one chunk is held here.
     */
    private void pumpUpload(Origin from, long subrequestId, Upstream upstream, AsyncRequestContent upload, long deadline,
                            java.util.concurrent.atomic.AtomicLong uploadedBytes) {
        try {
            while (true) {
                reply(from, new Message.SubrequestBodyPull(subrequestId));
                Object next = upstream.nextUpload(deadline);
                if (next == null) {
                    upload.fail(new IOException("the request body did not come in time"));
                    return;
                }
                if (next instanceof Upstream.UploadEnd end) {
                    if (end.error() == null) upload.close();
                    else upload.fail(new IOException(end.error()));
                    return;
                }
                byte[] chunk = (byte[]) next;
                org.eclipse.jetty.util.FutureCallback written = new org.eclipse.jetty.util.FutureCallback();
                upload.write(java.nio.ByteBuffer.wrap(chunk), written);
                written.get(EgressGateway.IDLE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                uploadedBytes.addAndGet(chunk.length);
            }
        } catch (InterruptedException e) {
            upload.fail(e);
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            upload.fail(e); // the request ended (answered, aborted or timed out): stop pulling
        }
    }

    private void deny(Origin from, Message.Subrequest s, InvocationRecords.Record inv, String method, String host,
                      String message, long started) {
        reply(from, new Message.SubrequestFailed(s.subrequestId(), message));
        record(inv, method, host, 0, "denied", 0, 0, started);
    }

    private void fail(Origin from, Message.Subrequest s, InvocationRecords.Record inv, String method, String host,
                      int status, String outcome, String message, long bytesOut, long started) {
        reply(from, new Message.SubrequestFailed(s.subrequestId(), message));
        record(inv, method, host, status, outcome, 0, bytesOut, started);
    }

    private static void reply(Origin from, Message m) {
        from.sandbox().deliver(m);
    }

    /** Adds the call to the invocation's summary (and logs it); returns its place there ({@code OutboundSummary.add}). */
    private int record(InvocationRecords.Record inv, String method, String host, int status, String outcome,
                       long bytesIn, long bytesOut, long started) {
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        OutboundCall call = new OutboundCall(method, host, status, outcome, bytesIn, bytesOut, millis);
        int index = inv.outbound().add(call);
        if (log.isInfoEnabled()) {
            ObjectNode json = JSON.createObjectNode();
            json.put("requestId", LogHub.requestId(inv.id()));
            json.put("worker", inv.worker());
            json.put("tenant", inv.tenant());
            json.put("method", method);
            json.put("host", host);
            json.put("status", status);
            json.put("outcome", outcome);
            json.put("bytesIn", bytesIn);
            json.put("bytesOut", bytesOut);
            json.put("ms", millis);
            log.info(json.toString());
        }
        return index;
    }

    private static String outcome(Throwable e) {
        return e instanceof TimeoutException || e instanceof java.net.SocketTimeoutException ? "timeout" : "failed";
    }

    /** What the worker is told about a network failure: never a Java exception's name or text. */
    static String describe(Throwable e, String host) {
        Throwable root = e;
        boolean tls = e instanceof SSLException;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
            tls |= root instanceof SSLException; // a refused certificate's root is a CertificateException
        }
        if (tls) return "TLS connection to " + host + " failed";
        if (root instanceof ConnectException) return "Network connection to " + host + " was refused";
        if (root instanceof UnknownHostException) return "DNS lookup failed for " + host;
        if (root instanceof TimeoutException || root instanceof java.net.SocketTimeoutException) {
            return "Network connection to " + host + " timed out";
        }
        return "Network connection to " + host + " failed";
    }

    @Override
    public void close() {
        live.values().forEach(Upstream::cancel);
        OutboundSockets o = outbound;
        if (o != null) o.close();
        try {
            client.stop();
        } catch (Exception e) {
            log.warn("stopping the egress HTTP client: {}", e.toString());
        }
    }
}
