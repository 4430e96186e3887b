package dev.bulwark.server.http;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.server.config.Route;
import dev.bulwark.server.config.Settings;
import dev.bulwark.server.node.DeployedWorker;
import dev.bulwark.server.node.Node;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The front door from a client's side: what a worker sees of it, what it sees of failures, where it goes. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FrontDoorTest {
    @TempDir
    static Path data;
    static Node node;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static final Limits LIMITS = new Limits(100, 5_000, 64, 5, 1 << 20, 1 << 16, 1 << 16);

    @BeforeAll
    static void start() throws Exception {
        Settings settings = Settings.of(data, "a").withPort(0);
        node = Node.start(settings);
        // Echoes what it was told about the client: its cf- headers and request.cf.
        node.deploy(worker("mirror", "a", """
                export default { fetch(request) {
                  const cf = {};
                  for (const [k, v] of request.headers) if (k.startsWith("cf-") || k.startsWith("x-")) cf[k] = v;
                  return Response.json({ headers: cf, cf: request.cf ?? null });
                } };"""), List.of(new Route("mirror.example.com/*", false)), "");
        node.deploy(worker("api", "a", "export default { fetch() { return new Response('api'); } };"),
                List.of(new Route("mirror.example.com/api/*", false), new Route("shop.example.net", true)), "", false);
        node.deploy(worker("faulty", "b", """
                export default { async fetch(request) {
                  const path = new URL(request.url).pathname;
                  if (path === "/101") return new Response(null, { status: 101, webSocket: {} });
                  if (path === "/throw") throw new Error("secret detail at /srv/app");
                  if (path === "/spin") while (true) {}
                  if (path === "/length") return new Response("0123456789", { headers: { "content-length": "5" } });
                  return new Response("ok");
                } };"""), List.of(new Route("*.faulty.test/*", false)), "");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static DeployedWorker worker(String name, String tenant, String source) {
        return new DeployedWorker(name, tenant, WorkerBundle.of("index.js",
                List.of(WorkerModule.text("index.js", ModuleType.JS, source))), "{}", LIMITS);
    }

    static HttpResponse<String> get(String host, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
                .header("Host", host).timeout(Duration.ofSeconds(60));
        if (headers.length > 0) b.headers(headers);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void clientSentCfHeadersAreReplacedByTheNodesOwn() throws Exception {
        HttpResponse<String> r = get("mirror.example.com", "/", "CF-Connecting-IP", "1.2.3.4", "CF-IPCountry", "CH",
                "CF-Ray", "forged-ray", "X-Forwarded-For", "9.9.9.9", "cf-worker", "evil", "True-Client-IP", "1.2.3.4");
        assertThat(r.statusCode()).isEqualTo(200);
        String body = r.body();
        assertThat(body).contains("\"cf-connecting-ip\":\"127.0.0.1\"").contains("\"cf-ipcountry\":\"XX\"")
                .contains("\"x-forwarded-for\":\"127.0.0.1\"").contains("\"cf-visitor\":\"{\\\"scheme\\\":\\\"http\\\"}\"")
                .doesNotContain("1.2.3.4").doesNotContain("forged-ray").doesNotContain("evil").doesNotContain("CH")
                .doesNotContain("9.9.9.9").doesNotContain("cf-bulwark");
        assertThat(body).containsPattern("\"cf-ray\":\"[0-9a-f]{16}\"");
    }

    @Test
    void requestCfCarriesWhatTheNodeKnows() throws Exception {
        HttpResponse<String> r = get("mirror.example.com", "/", "Accept-Encoding", "gzip, br");
        assertThat(r.body()).contains("\"cf\":{\"colo\":\"local\",\"httpProtocol\":\"HTTP/1.1\","
                + "\"clientAcceptEncoding\":\"gzip, br\",\"tlsVersion\":\"\",\"tlsCipher\":\"\"}");
    }

    @Test
    void aClientCannotInjectRequestCf() throws Exception {
        HttpResponse<String> r = get("mirror.example.com", "/", "cf-bulwark-request-cf", "{\"country\":\"CH\",\"asn\":13335}");
        assertThat(r.body()).doesNotContain("13335").doesNotContain("CH").contains("\"colo\":\"local\"");
    }

    @Test
    void routesChooseTheMostSpecificMatch() throws Exception {
        assertThat(get("mirror.example.com", "/api/v1").body()).isEqualTo("api");
        assertThat(get("mirror.example.com", "/other").body()).contains("\"headers\"");
        assertThat(get("shop.example.net", "/anything/at/all").body()).isEqualTo("api");
        assertThat(get("deep.sub.faulty.test", "/").body()).isEqualTo("ok");
        assertThat(get("mirror", "/").body()).as("a worker also answers on its name").contains("\"headers\"");
        assertThat(get("api.localhost", "/").statusCode()).as("workers_dev: false: not by name").isEqualTo(404);
    }

    @Test
    void anUnroutedHostIs404WhenTheNodeHasNoDefaultWorker() throws Exception {
        for (String host : List.of("127.0.0.1", "unknown.example.org", "faulty.test", "example.com")) {
            HttpResponse<String> r = get(host, "/");
            assertThat(r.statusCode()).as(host).isEqualTo(404);
            assertThat(r.body()).contains("\"code\":\"not_found\"");
        }
    }

    @Test
    void status101WithoutAWebSocketIsAClearErrorNeverABare101() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", node.port())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(("GET /101 HTTP/1.1\r\nHost: x.faulty.test\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            // The Response constructor refuses a webSocket that is not a WebSocket (as workerd's
            // does), so the worker throws; a real socket on a request that asked for no upgrade is
            // answered invalid_response by the node (SocketUpgrade).
            assertThat(answer).startsWith("HTTP/1.1 500").contains("\"code\":\"worker_threw\"")
                    .doesNotContain("101 Switching");
        }
        assertThat(get("x.faulty.test", "/").body()).isEqualTo("ok");
    }

    @Test
    void aWorkersExceptionIsNotShownToTheClientButIsLoggedUnderTheRequestId() throws Exception {
        try (BufferedReader lines = openTail("faulty")) {
            HttpResponse<String> r = get("x.faulty.test", "/throw");
            assertThat(r.statusCode()).isEqualTo(500);
            assertThat(r.body()).contains("\"code\":\"worker_threw\"").doesNotContain("secret detail")
                    .doesNotContain("/srv/app").doesNotContain("Exception");
            String requestId = r.body().replaceAll(".*\"requestId\":\"([0-9a-f]+)\".*", "$1");
            String line = nextLine(lines);
            assertThat(line).contains("secret detail").contains("\"requestId\":\"" + requestId + "\"")
                    .contains("\"worker\":\"faulty\"");
        }
    }

    @Test
    void aLimitKillIsATailEventNamingWorkerRequestAndLimit() throws Exception {
        try (BufferedReader lines = openTail("faulty")) {
            HttpResponse<String> r = get("x.faulty.test", "/spin");
            assertThat(r.statusCode()).isEqualTo(503);
            String requestId = r.body().replaceAll(".*\"requestId\":\"([0-9a-f]+)\".*", "$1");
            String line = nextLine(lines);
            assertThat(line).contains("\"level\":\"error\"").contains("\"worker\":\"faulty\"")
                    .contains("\"requestId\":\"" + requestId + "\"").contains("\"event\":\"limit_exceeded\"")
                    .contains("\"limit\":\"cpu\"").contains("CPU time limit of 100 ms");
        }
    }

    @Test
    void aResponseLongerThanItsContentLengthShowsNoJavaException() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", node.port())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(("GET /length HTTP/1.1\r\nHost: x.faulty.test\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 500").containsPattern("\"requestId\":\"[0-9a-f]{16}\"")
                    .doesNotContain("Exception").doesNotContain("written").doesNotContain("java.");
        }
    }

    @Test
    void aTrustedProxysCfHeadersPassAsSent() throws Exception {
        Settings settings = Settings.of(data.resolve("proxied"), "p").withPort(0).withLimits(LIMITS)
                .withFrontDoor(new dev.bulwark.server.config.FrontDoorSettings(List.of("127.0.0.0/8"), "ZRH"));
        try (Node proxied = Node.start(settings)) {
            proxied.deploy(worker("mirror", "p", """
                    export default { fetch(request) {
                      return Response.json({ ip: request.headers.get("cf-connecting-ip"),
                        country: request.headers.get("cf-ipcountry"), cf: request.cf });
                    } };"""), List.of(), "");
            proxied.defaultWorker("mirror");
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxied.port() + "/"))
                    .header("CF-Connecting-IP", "203.0.113.7").header("CF-IPCountry", "CH")
                    .header("cf-bulwark-request-cf", "{\"asn\":13335}").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.body()).isEqualTo("{\"ip\":\"203.0.113.7\",\"country\":\"CH\",\"cf\":{\"colo\":\"ZRH\","
                    + "\"httpProtocol\":\"HTTP/1.1\",\"tlsVersion\":\"\",\"tlsCipher\":\"\",\"country\":\"CH\"}}");
        }
    }

    @Test
    void tailOfAnUnknownWorkerIs404() throws Exception {
        String token = Files.readString(data.resolve("admin.token")).trim();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port()
                + "/cdn-cgi/bulwark/tail/nosuch")).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(404);
    }

    @Test
    void requestIdsAreNotACounter() throws Exception {
        Set<Long> ids = new HashSet<>();
        long previous = -1;
        int ascending = 0;
        for (int i = 0; i < 20; i++) {
            long id = node.nextInvocationId();
            assertThat(id).isPositive().isLessThan(1L << 53);
            assertThat(ids.add(id)).as("unique").isTrue();
            if (previous >= 0 && id == previous + 1) ascending++;
            previous = id;
        }
        assertThat(ascending).as("consecutive ids one apart").isZero();
    }

    static BufferedReader openTail(String worker) throws Exception {
        String token = Files.readString(data.resolve("admin.token")).trim();
        HttpResponse<java.io.InputStream> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port()
                + "/cdn-cgi/bulwark/tail/" + worker)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        return new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
    }

    /** The next event line of a tail (skipping its greeting and keep-alive blank lines). */
    static String nextLine(BufferedReader lines) throws Exception {
        String line;
        do {
            line = lines.readLine();
        } while (line != null && (line.isEmpty() || line.startsWith("{\"tail\"")));
        return line;
    }
}
