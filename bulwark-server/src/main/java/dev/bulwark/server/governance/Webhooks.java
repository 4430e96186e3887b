package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.config.EgressSettings;
import dev.bulwark.server.egress.AddressClassifier;
import dev.bulwark.server.egress.AddressGuard;
import dev.bulwark.server.egress.EgressTarget;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpMethod;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Tools that are HTTP webhooks to an operator's service. The node POSTs
 * {@code {tool, session, tenant, actor, idempotencyKey, args}} as JSON with an
 * {@code Idempotency-Key} header and the tool's credential headers, which the node adds on the way
 * out: they are in no argument, result or audit row, and generated code never sees them. The
 * request obeys the node's egress policy as the gateway does ({@code egress.allow} / rules, for the
 * worker name {@value #WORKER}; private, loopback, link-local, metadata addresses refused by the
 * same {@link AddressGuard}, which also pins the address it checked; no redirects). A 2xx JSON
 * answer (at most {@value #MAX_RESPONSE_BYTES} bytes) is the tool's value; anything else fails the
 * call ({@code tool_failed}, recorded).
 */
final class Webhooks implements AutoCloseable {
    static final String WORKER = "bulwark:governance";
    static final int MAX_RESPONSE_BYTES = 1 << 20;
    static final long TIMEOUT_MS = 30_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EgressSettings egress;
    private final HttpClient client = new HttpClient();

    Webhooks(EgressSettings egress) {
        this.egress = egress;
        client.setSocketAddressResolver(new AddressGuard(new AddressClassifier(), egress.allowPrivateNetworks(),
                egress.testOnlyAllowLoopback()));
        client.setFollowRedirects(false);
        client.setConnectTimeout(10_000);
        client.setUserAgentField(null);
        try {
            client.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start the webhook HTTP client", e);
        }
    }

    ToolFunction function(String name, URI url, Map<String, String> credentials) {
        EgressTarget target = EgressTarget.parse(url.toString());
        return call -> post(name, url, target, credentials, call, null, false);
    }

    /**
     * The lookup of a webhook tool: the same POST (same body and {@code Idempotency-Key}) to
     * {@code url}; a 2xx answer {@code {"applied": true, "value": ...}} or {@code {"applied": false}}
     * says what happened, anything else is "cannot tell".
     */
    ToolLookup lookup(String name, URI url, Map<String, String> credentials) {
        EgressTarget target = EgressTarget.parse(url.toString());
        return call -> {
            Object found = post(name, url, target, credentials, call, null, false);
            if (found instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("applied"))) return new ToolLookup.Applied(m.get("value"));
            if (found instanceof Map<?, ?> m && Boolean.FALSE.equals(m.get("applied"))) return new ToolLookup.NotApplied();
            return new ToolLookup.Unknown();
        };
    }

    /** The revert of a webhook tool: the call's body plus {@code value} (its recorded value) POSTed to {@code url}; 2xx = undone. */
    ToolRevert revert(String name, URI url, Map<String, String> credentials) {
        EgressTarget target = EgressTarget.parse(url.toString());
        return (call, value) -> post(name, url, target, credentials, call, value, true);
    }

    private Object post(String name, URI url, EgressTarget target, Map<String, String> credentials, ToolCall call, Object value,
                        boolean withValue) throws Exception {
        if (!egress.allows(target.scheme(), target.host().name(), target.port(), target.path(), "POST", WORKER, call.tenant())) {
            throw new IllegalStateException("the egress policy does not allow the webhook of " + name + " (" + url.getHost() + ")");
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("tool", name);
        body.put("session", call.session());
        body.put("tenant", call.tenant());
        body.put("actor", call.actor());
        body.put("idempotencyKey", call.idempotencyKey());
        body.set("args", JSON.valueToTree(call.args()));
        if (withValue) body.set("value", JSON.valueToTree(value));
        Request request = client.newRequest(url).method(HttpMethod.POST).timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .headers(h -> {
                    h.put("Idempotency-Key", call.idempotencyKey());
                    credentials.forEach(h::put);
                })
                .body(new BytesRequestContent("application/json", body.toString().getBytes(StandardCharsets.UTF_8)));
        var listener = new org.eclipse.jetty.client.CompletableResponseListener(request, MAX_RESPONSE_BYTES);
        ContentResponse response = listener.send().get(TIMEOUT_MS + 1_000, TimeUnit.MILLISECONDS);
        if (response.getStatus() / 100 != 2) {
            throw new IllegalStateException("the webhook of " + name + " answered " + response.getStatus());
        }
        byte[] content = response.getContent();
        if (content.length == 0) return null;
        JsonNode tree = JSON.readTree(content);
        return JSON.treeToValue(tree, Object.class);
    }

    /**
     * POSTs {@code body} (JSON) to {@code url} with {@code headers}, under the same egress policy and
     * address guard as the tools (for {@code tenant}); answers the status. The answer's content is
     * read (at most {@value #MAX_RESPONSE_BYTES} bytes) and dropped.
     *
     * @throws IllegalStateException when the egress policy does not allow the URL (not worth retrying)
     * @throws Exception             when the request fails (worth retrying)
     */
    int postEvent(URI url, Map<String, String> headers, byte[] body, String tenant, long timeoutMs) throws Exception {
        EgressTarget target = EgressTarget.parse(url.toString());
        if (!egress.allows(target.scheme(), target.host().name(), target.port(), target.path(), "POST", WORKER, tenant)) {
            throw new IllegalStateException("the egress policy does not allow " + url.getHost());
        }
        Request request = client.newRequest(url).method(HttpMethod.POST).timeout(timeoutMs, TimeUnit.MILLISECONDS)
                .headers(h -> headers.forEach(h::put))
                .body(new BytesRequestContent("application/json", body));
        var listener = new org.eclipse.jetty.client.CompletableResponseListener(request, MAX_RESPONSE_BYTES);
        return listener.send().get(timeoutMs + 1_000, TimeUnit.MILLISECONDS).getStatus();
    }

    @Override
    public void close() {
        try {
            client.stop();
        } catch (Exception e) {
            // best effort
        }
    }
}
