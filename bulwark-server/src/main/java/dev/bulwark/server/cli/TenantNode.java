package dev.bulwark.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.cli.AdminNode.Refusal;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A running node's tenant API as the CLI reaches it ({@code audit prove}, {@code audit export}):
 * where the node is and the tenant's API key (governance answers tenants, not the admin token).
 * Every failure is a {@link Refusal} already worded for the operator, as {@link AdminNode}'s.
 */
final class TenantNode {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--port", defaultValue = "8787", description = "port of the node (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--api-key", description = "the tenant's API key (default: the environment variable BULWARK_API_KEY)")
    String apiKey;

    /** Refuses a port no node can listen on (checked before anything else the command does). */
    void checkPort() throws Refusal {
        if (port < 1 || port > 65_535) throw new Refusal(Main.USAGE, "--port " + port + ": must be from 1 to 65535");
    }

    /** The key from {@code --api-key} or {@code BULWARK_API_KEY}. */
    String key() throws Refusal {
        String key = apiKey != null ? apiKey : System.getenv("BULWARK_API_KEY");
        if (key == null || key.isBlank()) throw new Refusal(Main.USAGE, "a tenant API key is needed (--api-key or BULWARK_API_KEY)");
        return key.trim();
    }

    /**
     * GETs the tenant API's {@code path} (below {@code /cdn-cgi/bulwark/api/}); the body streams.
     * A status other than 200 is a Refusal naming it and the node's error message.
     */
    HttpResponse<InputStream> get(String path, Duration timeout) throws Exception {
        HttpResponse<InputStream> response = AdminNode.send(AdminNode.client(), host, port, "api/" + path, key(), timeout);
        if (response.statusCode() != 200) {
            String message;
            try (InputStream in = response.body()) {
                message = JSON.readTree(in.readNBytes(64 << 10)).path("error").path("message").asText("");
            } catch (IOException e) {
                message = "";
            }
            throw new Refusal(Main.FAILED, "the node answered " + response.statusCode() + (message.isEmpty() ? "" : ": " + message));
        }
        return response;
    }
}
