package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.server.config.EgressRule;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code connect()} of {@code cloudflare:sockets}, as Cloudflare documents it, against real TCP
 * servers on this machine, through the node's egress gateway: the policy must allow the host and
 * port with a rule naming {@code tcp}, and the addresses the gateway refuses for {@code fetch()}
 * (metadata, private, port 25) it refuses for a socket too.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TcpSocketsTest {
    @TempDir
    static Path data;
    static Node node;
    static ServerSocket echo, tlsEcho, gopher, bulk, unlisted, starttls, halfClose, untrusted;
    /** What the half-closing server received after it ended its own side. */
    static final java.util.concurrent.BlockingQueue<String> afterItsEnd = new java.util.concurrent.LinkedBlockingQueue<>();
    /** Connections the echo server saw end (the peer closed, or reset). */
    static final AtomicInteger echoEnded = new AtomicInteger();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static final String WORKER = """
            import { connect } from 'cloudflare:sockets';
            const enc = new TextEncoder();
            async function readUntil(reader, marker) {
              const dec = new TextDecoder();
              let text = '';
              while (!text.includes(marker)) {
                const { value, done } = await reader.read();
                if (done) break;
                text += dec.decode(value, { stream: true });
              }
              return text;
            }
            const outcome = (p) => p.then((v) => 'ok', (e) => e.name + ': ' + e.message);
            export default {
              async fetch(request, env) {
                const url = new URL(request.url);
                const q = url.searchParams;
                switch (url.pathname) {
                  case '/echo': {
                    const tls = q.has('tls');
                    const socket = connect({ hostname: '127.0.0.1', port: Number(tls ? env.TLS_ECHO : env.ECHO) },
                      tls ? { secureTransport: 'on' } : undefined);
                    const writer = socket.writable.getWriter();
                    await writer.write(enc.encode('hello\\nworld\\n'));
                    const info = await socket.opened;
                    const text = await readUntil(socket.readable.getReader(), 'WORLD\\n');
                    await socket.close();
                    return new Response([info.remoteAddress, String(info.localAddress), socket.secureTransport,
                      String(socket.upgraded), text.replaceAll('\\n', '|')].join(' '));
                  }
                  case '/gopher': {
                    // Cloudflare's own example: write, close the writer, answer with the readable side.
                    const socket = connect('127.0.0.1:' + env.GOPHER);
                    const writer = socket.writable.getWriter();
                    await writer.write(enc.encode(url.pathname + '\\r\\n'));
                    await writer.close();
                    return new Response(socket.readable, { headers: { 'Content-Type': 'text/plain' } });
                  }
                  case '/bulk': {
                    const socket = connect('127.0.0.1:' + env.BULK);
                    const writer = socket.writable.getWriter();
                    await writer.write(enc.encode(q.get('n') + '\\n'));
                    let total = 0;
                    for await (const chunk of socket.readable) total += chunk.byteLength;
                    await socket.closed;
                    return new Response(String(total));
                  }
                  case '/fail': {
                    const socket = connect(q.get('to'), q.has('tls') ? { secureTransport: 'on' } : undefined);
                    const write = socket.writable.getWriter().write(enc.encode('x'));
                    return new Response([await outcome(socket.opened), await outcome(socket.closed), await outcome(write)].join('\\n'));
                  }
                  case '/throws': {
                    try {
                      connect(JSON.parse(q.get('a')), q.has('o') ? JSON.parse(q.get('o')) : undefined);
                      return new Response('no error');
                    } catch (e) {
                      return new Response(e.name + ': ' + e.message);
                    }
                  }
                  case '/string': {
                    const socket = connect('127.0.0.1:' + env.ECHO);
                    const result = await outcome(socket.writable.getWriter().write('text'));
                    return new Response(result + '\\n' + await outcome(socket.closed));
                  }
                  case '/starttls': {
                    const socket = connect('127.0.0.1:' + env.ECHO, { secureTransport: q.get('mode') });
                    try { socket.startTls(); return new Response('no error'); }
                    catch (e) { return new Response(e.name + ': ' + e.message); }
                    finally { socket.close(); }
                  }
                  case '/starttls-ok': {
                    // As a database driver does: ask in the clear, read the go-ahead, then startTls().
                    const socket = connect('127.0.0.1:' + env.STARTTLS, { secureTransport: 'starttls' });
                    const writer = socket.writable.getWriter();
                    await writer.write(enc.encode(q.get('ask') + '\\n'));
                    const reader = socket.readable.getReader();
                    const go = await readUntil(reader, '\\n');
                    reader.releaseLock();
                    writer.releaseLock();
                    const tls = socket.startTls();
                    const upgradedWhenAsked = socket.upgraded;
                    const opened = await outcome(tls.opened);
                    const w2 = tls.writable.getWriter();
                    await outcome(w2.write(enc.encode('secret\\n')));
                    const text = opened === 'ok' ? await readUntil(tls.readable.getReader(), 'SECRET\\n') : '';
                    await tls.close();
                    return new Response([go.trim(), String(upgradedWhenAsked), tls.secureTransport, opened, text.trim(),
                      await outcome(socket.closed), await outcome(tls.closed)].join(' | '));
                  }
                  case '/starttls-queued': {
                    // Writes still queued in the writable side when startTls() is called go out first,
                    // in the clear (workerd flushes them), and the socket it returns writes after them.
                    const socket = connect('127.0.0.1:' + env.STARTTLS, { secureTransport: 'starttls' });
                    const writer = socket.writable.getWriter();
                    const first = outcome(writer.write(enc.encode('STARTTLS')));
                    const second = outcome(writer.write(enc.encode('-NOGO\\n')));
                    const tls = socket.startTls();
                    const w2 = tls.writable.getWriter();
                    const secret = outcome(w2.write(enc.encode('secret\\n')));
                    const opened = await outcome(tls.opened);
                    const text = opened === 'ok' ? await readUntil(tls.readable.getReader(), 'SECRET\\n') : '';
                    await tls.close();
                    return new Response([await first, await second, await secret, opened, text.trim()].join(' | '));
                  }
                  case '/half': {
                    // The server ends its side first; the worker writes after that.
                    const halfOpen = q.get('allowHalfOpen') === 'true';
                    const socket = connect('127.0.0.1:' + env.HALF, { allowHalfOpen: halfOpen });
                    // The test's own mark first, so the server's record of this connection is told apart.
                    const first = socket.writable.getWriter();
                    await first.write(enc.encode(q.get('mark') + '\\n'));
                    first.releaseLock();
                    // Read to the peer's end: that is when Workers closes the writable side (without allowHalfOpen).
                    const text = await readUntil(socket.readable.getReader(), 'the end that never comes');
                    const writer = socket.writable.getWriter();
                    const late = await outcome(writer.write(enc.encode('late\\n')).then(() => writer.close()));
                    return new Response([text.trim(), late, await outcome(socket.closed)].join(' | '));
                  }
                  case '/leave': {
                    const socket = connect('127.0.0.1:' + env.ECHO);
                    await socket.opened;
                    return new Response('left it open');
                  }
                  default: return new Response('no such test', { status: 404 });
                }
              }
            };""";

    /** A dynamic worker loaded with globalOutbound null: no connect() either. */
    static final String PARENT = """
            export default {
              async fetch(request, env) {
                const child = env.LOADER.get('closed', () => ({
                  compatibilityDate: '2025-06-01', mainModule: 'm.js', globalOutbound: null,
                  modules: { 'm.js': `import { connect } from 'cloudflare:sockets';
                    export default { fetch() {
                      try { connect('127.0.0.1:${env.ECHO}'); return new Response('connected'); }
                      catch (e) { return new Response(e.name + ': ' + e.message); } } };` },
                }));
                return child.getEntrypoint().fetch(request);
              }
            };""";

    @BeforeAll
    static void start() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        javax.net.ssl.SSLContext tls = testTls();
        Consumer<Socket> echoLines = socket -> {
            try (socket; BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))) {
                OutputStream out = socket.getOutputStream();
                for (String line; (line = in.readLine()) != null; ) {
                    out.write((line.toUpperCase(Locale.ROOT) + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            } catch (IOException ignored) {
                // a reset is an end too
            }
            echoEnded.incrementAndGet();
        };
        echo = serve(new ServerSocket(0, 50, loopback), echoLines);
        tlsEcho = serve(tls.getServerSocketFactory().createServerSocket(0, 50, loopback), echoLines);
        gopher = serve(new ServerSocket(0, 50, loopback), socket -> {
            // Reads the whole request (to the client's half-close), then answers and closes.
            try (socket) {
                String request = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                socket.getOutputStream().write(("you sent " + request.strip()).getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the test sees it
            }
        });
        bulk = serve(new ServerSocket(0, 50, loopback), socket -> {
            try (socket) {
                InputStream in = socket.getInputStream();
                StringBuilder n = new StringBuilder();
                for (int c; (c = in.read()) != '\n' && c >= 0; ) n.append((char) c);
                byte[] chunk = new byte[100_000];
                OutputStream out = socket.getOutputStream();
                for (long left = Long.parseLong(n.toString()); left > 0; left -= chunk.length) {
                    out.write(chunk, 0, (int) Math.min(left, chunk.length));
                }
            } catch (IOException ignored) {
                // the test sees it
            }
        });
        unlisted = serve(new ServerSocket(0, 50, loopback), socket -> { });
        starttls = serve(new ServerSocket(0, 50, loopback), socket -> {
            // A line in the clear; "STARTTLS" is answered "GO" and TLS follows (an echo over TLS);
            // "STARTTLS-CLEAR" is answered "GO" and then more plain text where the handshake should be.
            try (socket) {
                InputStream in = socket.getInputStream();
                StringBuilder line = new StringBuilder();
                for (int c; (c = in.read()) != '\n' && c >= 0; ) line.append((char) c);
                OutputStream out = socket.getOutputStream();
                // "STARTTLS-NOGO": TLS follows at once, without the go-ahead.
                if (!line.toString().equals("STARTTLS-NOGO")) out.write("GO\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (line.toString().equals("STARTTLS-CLEAR")) {
                    Thread.sleep(500);
                    out.write("INJECTED\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    in.readAllBytes();
                    return;
                }
                javax.net.ssl.SSLSocket secure = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
                        .createSocket(socket, in, true);
                secure.setUseClientMode(false);
                BufferedReader lines = new BufferedReader(new InputStreamReader(secure.getInputStream(), StandardCharsets.UTF_8));
                for (String l; (l = lines.readLine()) != null; ) {
                    secure.getOutputStream().write((l.toUpperCase(Locale.ROOT) + "\n").getBytes(StandardCharsets.UTF_8));
                    secure.getOutputStream().flush();
                }
            } catch (IOException | InterruptedException ignored) {
                // the test sees it
            }
        });
        // A TLS server whose certificate the node does not trust (a key of its own, self-signed).
        untrusted = serve(tlsContext(selfSigned("other.p12"), selfSigned("other-trust.p12")).getServerSocketFactory()
                .createServerSocket(0, 50, loopback), socket -> {
            try (socket) {
                socket.getInputStream().read();
            } catch (IOException ignored) {
                // the handshake fails: what the test wants
            }
        });
        halfClose = serve(new ServerSocket(0, 50, loopback), socket -> {
            // Says bye and ends its side, then records what still comes (a half-open peer may write).
            try (socket) {
                socket.getOutputStream().write("bye\n".getBytes(StandardCharsets.UTF_8));
                socket.shutdownOutput();
                afterItsEnd.add(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                afterItsEnd.add("reset");
            }
        });
        EgressSettings egress = new EgressSettings(List.of("127.0.0.1"), false)
                .withRules(List.of(
                        new EgressRule("127.0.0.1", Set.of("tcp"), Set.of(echo.getLocalPort(), gopher.getLocalPort(),
                                bulk.getLocalPort(), starttls.getLocalPort(), halfClose.getLocalPort(),
                                untrusted.getLocalPort(), tlsEcho.getLocalPort()), "", Set.of(),
                                Set.of(), Set.of()),
                        new EgressRule("*", Set.of("tcp"), Set.of(25, 80, 5432), "", Set.of(), Set.of(), Set.of())))
                .withTestOnlyLoopbackAllowed();
        node = Node.start(Settings.of(data, "t1").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(2)).withEgress(egress));
        node.egress.trustForTests(tls.getSocketFactory());
        String env = "{\"ECHO\":\"" + echo.getLocalPort() + "\",\"GOPHER\":\"" + gopher.getLocalPort()
                + "\",\"BULK\":\"" + bulk.getLocalPort() + "\",\"STARTTLS\":\"" + starttls.getLocalPort()
                + "\",\"HALF\":\"" + halfClose.getLocalPort() + "\",\"TLS_ECHO\":\"" + tlsEcho.getLocalPort() + "\"}";
        node.deploy(new DeployedWorker("sockets", "t1", bundle(WORKER), env, Limits.DEFAULTS));
        node.deploy(new DeployedWorker("parent", "t1", bundle(PARENT), env,
                List.of(new dev.bulwark.sandbox.worker.Binding.WorkerLoader("LOADER")), true, Limits.DEFAULTS));
    }

    /**
     * A key and a self-signed certificate for 127.0.0.1 made by the JDK's keytool, as one context
     * for the test server (its key) and the node's connect() (trusting only that certificate).
     */
    static javax.net.ssl.SSLContext testTls() throws Exception {
        java.security.KeyStore keys = selfSigned("tls.p12");
        return tlsContext(keys, keys);
    }

    /** A PKCS12 key store holding a new key and its self-signed certificate for 127.0.0.1 (alias "test"). */
    static java.security.KeyStore selfSigned(String file) throws Exception {
        Path store = data.resolve(file);
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "test", "-keyalg", "EC", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(store)) {
            keys.load(in, "changeit".toCharArray());
        }
        return keys;
    }

    /** TLS with {@code keys}' key, trusting only {@code trusted}'s certificate. */
    static javax.net.ssl.SSLContext tlsContext(java.security.KeyStore keys, java.security.KeyStore trusted) throws Exception {
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("test", trusted.getCertificate("test"));
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, "changeit".toCharArray());
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    static ServerSocket serve(ServerSocket server, Consumer<Socket> each) {
        Thread.startVirtualThread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread.startVirtualThread(() -> each.accept(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }

    static WorkerBundle bundle(String js) {
        return WorkerBundle.of("index.js", List.of(WorkerModule.text("index.js", ModuleType.JS, js)));
    }

    @AfterAll
    static void stop() throws IOException {
        if (node != null) node.close();
        for (ServerSocket s : new ServerSocket[] {echo, tlsEcho, gopher, bulk, unlisted, starttls, halfClose, untrusted}) {
            if (s != null) s.close();
        }
    }

    static String get(String worker, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .header("Host", worker).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    static String q(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Test
    void aSocketWritesAndReadsBothWaysAndSaysWhereItIsConnected() throws Exception {
        assertThat(get("sockets", "/echo")).isEqualTo("127.0.0.1:" + echo.getLocalPort() + " undefined off false HELLO|WORLD|");
    }

    @Test
    void secureTransportOnSpeaksTlsToATrustedServer() throws Exception {
        assertThat(get("sockets", "/echo?tls")).isEqualTo("127.0.0.1:" + tlsEcho.getLocalPort() + " undefined on false HELLO|WORLD|");
    }

    @Test
    void cloudflaresExampleClosesTheWriterAndStreamsTheReadableSideAsTheResponse() throws Exception {
        // The server answers only after the client's half-close: the writer's close() must reach it as a FIN.
        assertThat(get("sockets", "/gopher")).isEqualTo("you sent /gopher");
    }

    @Test
    void eightMegabytesArriveWholeThroughTheWindow() throws Exception {
        // More than the node may send ahead of the worker's reads: the acknowledgements must keep it flowing.
        assertThat(get("sockets", "/bulk?n=" + (8 << 20))).isEqualTo(String.valueOf(8 << 20));
    }

    @Test
    void aPortTheRulesDoNotNameIsRefusedByThePolicy() throws Exception {
        String to = "127.0.0.1:" + unlisted.getLocalPort();
        String refused = "Error: proxy request failed, cannot connect to the specified address: Network connection to "
                + to + " is not allowed by this node's egress policy";
        assertThat(get("sockets", "/fail?to=" + q(to))).isEqualTo(refused + "\n" + refused + "\n" + refused);
    }

    @Test
    void metadataPrivateAndSmtpAddressesAreRefusedEvenWhenARuleAllowsAnyHost() throws Exception {
        assertThat(get("sockets", "/fail?to=" + q("169.254.169.254:80")).lines().findFirst().orElseThrow())
                .isEqualTo("Error: proxy request failed, cannot connect to the specified address: Network connection to "
                        + "169.254.169.254 (169.254.169.254) is not allowed: it is a cloud metadata address");
        assertThat(get("sockets", "/fail?to=" + q("10.1.2.3:5432")).lines().findFirst().orElseThrow())
                .startsWith("Error: proxy request failed, cannot connect to the specified address: Network connection to "
                        + "10.1.2.3 (10.1.2.3) is not allowed: it is ");
        assertThat(get("sockets", "/fail?to=" + q("mail.example.com:25")).lines().findFirst().orElseThrow())
                .isEqualTo("Error: proxy request failed, cannot connect to the specified address: Connections to port 25 are prohibited");
    }

    @Test
    void aServerCertificateTheNodeDoesNotTrustIsRefused() throws Exception {
        // The handshake fails on the certificate: nothing the worker writes is sent.
        assertThat(get("sockets", "/fail?tls&to=" + q("127.0.0.1:" + untrusted.getLocalPort())).lines().findFirst().orElseThrow())
                .isEqualTo("Error: proxy request failed, cannot connect to the specified address: TLS connection to 127.0.0.1 failed");
    }

    @Test
    void badAddressesAndOptionsAreTypeErrorsInWorkerdsWords() throws Exception {
        assertThat(get("sockets", "/throws?a=" + q("\"127.0.0.1\"")))
                .isEqualTo("TypeError: Specified address is missing port.");
        assertThat(get("sockets", "/throws?a=" + q("\"\"")))
                .isEqualTo("TypeError: Specified address is empty string, contains unsupported characters or is too long.");
        assertThat(get("sockets", "/throws?a=" + q("\"a b:80\"")))
                .isEqualTo("TypeError: Specified address is empty string, contains unsupported characters or is too long.");
        assertThat(get("sockets", "/throws?a=" + q("{\"hostname\":\"example.com\",\"port\":0}")))
                .isEqualTo("TypeError: Specified address has an invalid port: 0");
        assertThat(get("sockets", "/throws?a=" + q("\"example.com:80\"") + "&o=" + q("{\"secureTransport\":\"maybe\"}")))
                .isEqualTo("TypeError: Unsupported value in secureTransport socket option: maybe");
    }

    @Test
    void onlyBytesCanBeWritten() throws Exception {
        assertThat(get("sockets", "/string")).isEqualTo("TypeError: This WritableStream only supports writing byte types.\n"
                + "TypeError: This WritableStream only supports writing byte types.");
    }

    @Test
    void startTlsNeedsTheStarttlsOption() throws Exception {
        assertThat(get("sockets", "/starttls?mode=on")).isEqualTo("TypeError: Cannot startTls on a TLS socket.");
        assertThat(get("sockets", "/starttls?mode=off")).isEqualTo(
                "TypeError: The `secureTransport` socket option must be set to 'starttls' for startTls to be used.");
    }

    @Test
    void startTlsUpgradesTheConnectionWhereTheWorkerAsks() throws Exception {
        assertThat(get("sockets", "/starttls-ok?ask=STARTTLS")).isEqualTo("GO | true | on | ok | SECRET | ok | ok");
    }

    @Test
    void writesQueuedWhenStartTlsIsCalledGoOutFirst() throws Exception {
        assertThat(get("sockets", "/starttls-queued")).isEqualTo("ok | ok | ok | ok | SECRET");
    }

    @Test
    void aServerThatAnswersStartTlsInTheClearIsNotTrusted() throws Exception {
        // Its plain text arrives where the handshake should: the handshake fails, nothing is read as if secured.
        assertThat(get("sockets", "/starttls-ok?ask=STARTTLS-CLEAR"))
                .startsWith("GO | true | on | TypeError: TLS connection to 127.0.0.1 failed | ");
    }

    @Test
    void withoutAllowHalfOpenThePeersEndClosesTheWritableSide() throws Exception {
        assertThat(get("sockets", "/half?allowHalfOpen=false&mark=closes")).isEqualTo("bye | TypeError: The socket is closed. | ok");
        assertThat(recordOf("closes")).as("the server hears the socket's end, and nothing after").isEqualTo("closes\n");
    }

    @Test
    void withAllowHalfOpenTheWorkerWritesAfterThePeersEnd() throws Exception {
        assertThat(get("sockets", "/half?allowHalfOpen=true&mark=stays")).isEqualTo("bye | ok | ok");
        assertThat(recordOf("stays")).isEqualTo("stays\nlate\n");
    }

    /** What the half-closing server received on the connection that began with {@code mark}. */
    static String recordOf(String mark) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            String r = afterItsEnd.poll(1, TimeUnit.SECONDS);
            if (r != null && r.startsWith(mark + "\n")) return r;
            if (r != null) afterItsEnd.add(r); // another test's connection
        }
        return null;
    }

    @Test
    void aSocketLeftOpenIsClosedWhenItsRequestEnds() throws Exception {
        int before = echoEnded.get();
        assertThat(get("sockets", "/leave")).isEqualTo("left it open");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(echoEnded.get()).isGreaterThan(before));
    }

    @Test
    void aDynamicWorkerWithoutNetworkCannotConnect() throws Exception {
        assertThat(get("parent", "/")).isEqualTo("Error: This worker is not permitted to access the internet via global "
                + "functions like fetch(). It must use capabilities (such as bindings in 'env') to talk to the outside world.");
    }
}
