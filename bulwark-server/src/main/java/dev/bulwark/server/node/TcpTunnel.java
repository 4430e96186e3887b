package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.egress.AddressGuard;
import dev.bulwark.server.egress.EgressTarget;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One worker's {@code connect()} (cloudflare:sockets): a TCP connection from the node, TLS when
 * asked, to an address the egress policy and the {@link AddressGuard} allowed (the socket connects
 * to exactly the addresses that were checked). It travels as a subrequest used as a tunnel:
 * {@code SubrequestHead} once connected (the socket's {@code opened}); the peer's bytes as
 * {@code SubrequestChunk}s, never more than a window ahead of what the worker read, and
 * {@code SubrequestEnd} at the peer's end of stream; the worker's bytes pulled one piece at a
 * time ({@code SubrequestBodyPull}) and written as they come, its {@code SubrequestBodyEnd} a
 * half-close. The connection lives until both directions are over, or until the worker, its
 * invocation or its sandbox cancels the subrequest.
 *
 * <p>A socket opened for {@code starttls} may start TLS once, where the worker's
 * {@code SubrequestStartTls} comes among its pieces: the reading side parks (it reads with a short
 * timeout until then), the handshake runs on the writing side, a second {@code SubrequestHead}
 * says it is done, and both sides go on over TLS. Bytes the peer sends in the clear after the
 * worker asked for TLS end the connection (the STARTTLS injection attack).
 *
 * <p>Runs on the virtual thread the gateway gave the subrequest: connecting and reading block
 * here, the worker's writes on a second virtual thread.
 */
final class TcpTunnel {
    static final int CONNECT_TIMEOUT_MS = 10_000;
    /** Far enough never to come: a socket may stay open as long as its invocation runs. */
    private static final long NO_DEADLINE = Long.MAX_VALUE / 4;
    /** How often the reading side of a starttls socket looks up from its read to see whether TLS is wanted. */
    private static final int STARTTLS_POLL_MS = 100;

    /** How the tunnel ended, for the invocation's outbound record. */
    record Outcome(int status, String outcome, long bytesIn, long bytesOut) {}

    private final Consumer<Message> reply;
    private final long id;
    private final EgressTarget target;
    /** The target's canonical host: the name TLS checks and the worker's error messages say. */
    private final String host;
    private final Upstream upstream;
    private final EgressSettings settings;
    private final AddressGuard guard;
    private final SSLSocketFactory tls;
    private final AtomicLong bytesOut = new AtomicLong();
    /** The worker asked for TLS (starttls sockets only, once). */
    private volatile boolean tlsWanted;
    /** The reading side stopped reading the plain socket; the handshake may begin. */
    private final CountDownLatch readsParked = new CountDownLatch(1);
    /** The handshake is over; {@link #tlsIn} is its stream, or null when it failed. */
    private final CountDownLatch tlsDone = new CountDownLatch(1);
    private volatile InputStream tlsIn;
    /** The worker was told how the peer's side ended (one SubrequestEnd at most). */
    private final AtomicBoolean ended = new AtomicBoolean();

    TcpTunnel(Consumer<Message> reply, long subrequestId, EgressTarget target, Upstream upstream, EgressSettings settings,
              AddressGuard guard, SSLSocketFactory tls) {
        this.reply = reply;
        this.id = subrequestId;
        this.target = target;
        this.host = target.host().name();
        this.upstream = upstream;
        this.settings = settings;
        this.guard = guard;
        this.tls = tls;
    }

    Outcome run() throws InterruptedException {
        List<InetAddress> addresses;
        try {
            addresses = guard.check(target.host());
        } catch (AddressGuard.Denied denied) {
            reply.accept(new Message.SubrequestFailed(id, denied.getMessage()));
            return new Outcome(0, "denied", 0, 0);
        }
        Socket socket;
        try {
            socket = open(addresses);
        } catch (IOException e) {
            if (upstream.isCanceled()) return new Outcome(0, "canceled", 0, 0);
            reply.accept(new Message.SubrequestFailed(id, EgressGateway.describe(e, host)));
            return new Outcome(0, e instanceof SocketTimeoutException ? "timeout" : "failed", 0, 0);
        }
        upstream.onCancel(() -> closeQuietly(socket));
        try {
            reply.accept(new Message.SubrequestHead(id, 200, "OK", List.of(), target.uri().toString(), true));
            Thread writer = Thread.startVirtualThread(() -> pumpWrites(socket));
            Outcome read = pumpReads(socket);
            // The peer ended its side: the worker may still write (a half-open socket) until it
            // closes its side or is canceled.
            writer.join();
            return read;
        } finally {
            closeQuietly(socket);
        }
    }

    /** Connects to the first address that answers, then starts TLS if asked (SNI and the host name checked). */
    private Socket open(List<InetAddress> addresses) throws IOException {
        IOException last = null;
        for (InetAddress a : addresses) {
            if (upstream.isCanceled()) throw new IOException("canceled");
            Socket plain = new Socket();
            try {
                plain.setTcpNoDelay(true);
                plain.connect(new InetSocketAddress(a, target.port()), CONNECT_TIMEOUT_MS);
                return target.scheme().equals("tls") ? handshake(plain) : plain;
            } catch (IOException e) {
                closeQuietly(plain);
                last = e;
                if (e instanceof SSLException) break; // the peer answered: another address would not help
            }
        }
        throw last != null ? last : new IOException("no address");
    }

    private SSLSocket handshake(Socket plain) throws IOException {
        SSLSocket ssl = (SSLSocket) tls.createSocket(plain, host, target.port(), true);
        SSLParameters params = ssl.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        if (!target.host().isLiteral()) params.setServerNames(List.of(new SNIHostName(host)));
        ssl.setSSLParameters(params);
        ssl.setSoTimeout(CONNECT_TIMEOUT_MS);
        ssl.startHandshake();
        ssl.setSoTimeout(0);
        return ssl;
    }

    /** The peer's bytes to the worker, as fast as the worker reads them. */
    private Outcome pumpReads(Socket socket) throws InterruptedException {
        long total = 0;
        byte[] buffer = new byte[Message.STREAM_CHUNK];
        boolean canStartTls = target.scheme().equals("starttls");
        try {
            InputStream in = socket.getInputStream();
            if (canStartTls) socket.setSoTimeout(STARTTLS_POLL_MS);
            while (true) {
                if (canStartTls && tlsWanted) {
                    readsParked.countDown();
                    tlsDone.await();
                    if (tlsIn == null) return outcome("failed", total); // the writing side said why
                    in = tlsIn;
                    canStartTls = false;
                }
                // A worker that stops reading for egress.timeout_ms loses the connection.
                if (!upstream.awaitRoom(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.timeoutMs()))) {
                    if (upstream.isCanceled()) return outcome("canceled", total);
                    end("The socket was not read for " + settings.timeoutMs() + " ms");
                    return outcome("timeout", total);
                }
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException pollAgain) {
                    if (canStartTls) continue;
                    throw pollAgain;
                }
                if (n > 0 && canStartTls && tlsWanted) {
                    end("The server sent data in the clear after startTls()");
                    return outcome("failed", total);
                }
                if (n < 0) {
                    if (ended.compareAndSet(false, true)) reply.accept(new Message.SubrequestEnd(id, null));
                    return outcome("ok", total);
                }
                total += n;
                if (total > settings.maxResponseBytes()) {
                    end("The socket received more than this node passes to a worker (" + settings.maxResponseBytes() + " bytes)");
                    return outcome("too_large", total - n);
                }
                upstream.sent(n);
                reply.accept(new Message.SubrequestChunk(id, Arrays.copyOf(buffer, n)));
            }
        } catch (IOException e) {
            if (upstream.isCanceled()) return outcome("canceled", total);
            end(EgressGateway.describe(e, host));
            return outcome("failed", total);
        }
    }

    /** The worker's bytes to the peer: one piece pulled, written, then the next. */
    private void pumpWrites(Socket socket) {
        try {
            OutputStream out = socket.getOutputStream();
            while (true) {
                reply.accept(new Message.SubrequestBodyPull(id));
                Object next = upstream.nextUpload(System.nanoTime() + NO_DEADLINE);
                if (next == null) return; // canceled
                if (next instanceof Upstream.StartTls) {
                    out = startTlsHere(socket);
                    if (out == null) return;
                    continue;
                }
                if (next instanceof Upstream.UploadEnd end) {
                    if (end.error() != null) {
                        end(end.error()); // the worker's writable broke: the connection goes with it
                    } else {
                        out.flush();
                        socket.shutdownOutput(); // a half-close (TLS: close_notify)
                    }
                    return;
                }
                byte[] piece = (byte[]) next;
                out.write(piece);
                out.flush();
                bytesOut.addAndGet(piece.length);
            }
        } catch (IOException | UnsupportedOperationException e) {
            if (!upstream.isCanceled()) end(EgressGateway.describe(e, host)); // the peer is gone: reads end too
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The worker's startTls(): parks the reading side, runs the handshake on the plain socket (the
     * host name checked, as for secureTransport "on"), tells the worker, and lets the reading side
     * go on over TLS. Null when the connection ended instead (the worker was told why).
     */
    private OutputStream startTlsHere(Socket socket) throws InterruptedException {
        if (!target.scheme().equals("starttls") || tlsWanted) {
            end("startTls() is only for a socket opened with secureTransport: \"starttls\", once");
            return null;
        }
        tlsWanted = true;
        try {
            while (!readsParked.await(200, TimeUnit.MILLISECONDS)) {
                if (upstream.isCanceled()) return null;
            }
            SSLSocket ssl = handshake(socket);
            OutputStream out = ssl.getOutputStream();
            tlsIn = ssl.getInputStream();
            reply.accept(new Message.SubrequestHead(id, 200, "OK", List.of(), target.uri().toString(), true));
            return out;
        } catch (IOException e) {
            end(EgressGateway.describe(e, host));
            return null;
        } finally {
            tlsDone.countDown();
        }
    }

    /** The connection breaks: the worker hears why (unless it heard an end already), and the socket closes. */
    private void end(String error) {
        if (ended.compareAndSet(false, true)) reply.accept(new Message.SubrequestEnd(id, error));
        upstream.cancel();
    }

    private Outcome outcome(String outcome, long bytesIn) {
        return new Outcome(200, outcome, bytesIn, bytesOut.get());
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing is all that was asked
        }
    }
}
