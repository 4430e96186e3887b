package dev.bulwark.server.cli;

import picocli.CommandLine.Option;

import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A running node's admin endpoints as the CLI reaches them ({@code tail}, {@code objects}): the
 * options that say where the node is, and one authenticated GET with the token read from the
 * node's data directory. Every failure is a {@link Refusal} already worded for the operator.
 */
final class AdminNode {
    @Option(names = "--port", defaultValue = "8787", description = "port of the node (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--data", defaultValue = ".bulwark/data",
            description = "the node's data directory, which holds admin.token (default ${DEFAULT-VALUE})")
    Path data;

    /** A failure already worded for the operator, with the exit status it means. */
    static final class Refusal extends Exception {
        final int status;

        Refusal(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** Refuses a port no node can listen on (checked before anything else the command does). */
    void checkPort() throws Refusal {
        if (port < 1 || port > 65_535) throw new Refusal(Main.USAGE, "--port " + port + ": must be from 1 to 65535");
    }

    static HttpClient client() {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /**
     * GETs {@code /cdn-cgi/bulwark/<path>} with the node's admin token; the body streams. A node
     * that does not answer, a missing token or a bad host is a Refusal; any status is returned.
     *
     * @param timeout how long to wait for the response's head, or null to wait as long as it takes
     */
    HttpResponse<InputStream> get(HttpClient client, String path, Duration timeout) throws Exception {
        Path tokenFile = data.resolve("admin.token");
        if (!Files.isReadable(tokenFile)) {
            throw new Refusal(Main.USAGE, "no admin token at " + tokenFile + " (is the node running with --data " + data + "?)");
        }
        return send(client, host, port, path, Files.readString(tokenFile).trim(), timeout);
    }

    /**
     * GETs {@code /cdn-cgi/bulwark/<path>} of the node at {@code host:port} with a bearer
     * credential (the admin token, or a tenant's API key); the body streams. A bad host or a node
     * that does not answer is a Refusal; any status is returned.
     */
    static HttpResponse<InputStream> send(HttpClient client, String host, int port, String path, String bearer,
                                          Duration timeout) throws Exception {
        URI uri;
        try {
            uri = URI.create("http://" + host + ":" + port + "/cdn-cgi/bulwark/" + path);
        } catch (IllegalArgumentException e) {
            throw new Refusal(Main.USAGE, "--host " + host + ": not a host name or address");
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + bearer);
        if (timeout != null) request.timeout(timeout);
        try {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new Refusal(Main.FAILED, "no node answers on " + host + ":" + port + " (is it running? try --port)");
        }
    }
}
