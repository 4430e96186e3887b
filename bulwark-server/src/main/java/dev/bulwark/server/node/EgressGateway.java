package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.config.EgressSettings;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Every outbound {@code fetch()} of a worker comes here, and nowhere else: sandboxes have no
 * network of their own. A request leaves only if its host matches the operator's allowlist and,
 * unless private networks are allowed, every address the host resolves to is public.
 */
final class EgressGateway {
    /** Largest response body passed back to a worker. */
    static final int MAX_BODY = 32 << 20;
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te",
            "upgrade", "host", "content-length", "expect", "proxy-connection", "trailer");

    private final EgressSettings settings;
    private final HttpClient client;

    EgressGateway(EgressSettings settings) {
        this.settings = settings;
        this.client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(10))
                .executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor())
                .build();
    }

    void handle(Message.Subrequest s, Consumer<Message> reply) {
        Thread.startVirtualThread(() -> reply.accept(perform(s)));
    }

    Message perform(Message.Subrequest s) {
        URI uri;
        try {
            uri = URI.create(s.url());
        } catch (IllegalArgumentException e) {
            return new Message.SubrequestFailed(s.subrequestId(), "Invalid URL: " + s.url());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return new Message.SubrequestFailed(s.subrequestId(), "Fetch API cannot load: " + s.url());
        }
        String host = uri.getHost();
        if (host == null || !settings.allowsHost(host)) {
            return new Message.SubrequestFailed(s.subrequestId(),
                    "Network connection to " + host + " is not allowed by this node's egress policy");
        }
        if (!settings.allowPrivateNetworks()) {
            try {
                for (InetAddress a : InetAddress.getAllByName(host)) {
                    if (isPrivate(a)) {
                        return new Message.SubrequestFailed(s.subrequestId(),
                                "Network connection to " + host + " (" + a.getHostAddress()
                                        + ") is not allowed: private addresses are denied");
                    }
                }
            } catch (UnknownHostException e) {
                return new Message.SubrequestFailed(s.subrequestId(), "DNS lookup failed for " + host);
            }
        }
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30));
            for (Message.Header h : s.headers()) {
                if (!HOP_BY_HOP.contains(h.name().toLowerCase(Locale.ROOT))) b.header(h.name(), h.value());
            }
            byte[] body = s.body();
            b.method(s.method(), body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            List<Message.Header> headers = new ArrayList<>();
            r.headers().map().forEach((k, vs) -> {
                if (!k.startsWith(":")) vs.forEach(v -> headers.add(new Message.Header(k, v)));
            });
            byte[] rb = r.body();
            if (rb != null && rb.length > MAX_BODY) {
                return new Message.SubrequestFailed(s.subrequestId(), "response body larger than " + MAX_BODY + " bytes");
            }
            return new Message.SubrequestResult(s.subrequestId(), r.statusCode(), "", headers, rb, s.url());
        } catch (IOException | IllegalArgumentException e) {
            return new Message.SubrequestFailed(s.subrequestId(), "Network error: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Message.SubrequestFailed(s.subrequestId(), "interrupted");
        }
    }

    static boolean isPrivate(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        if (b.length == 4) {
            int first = b[0] & 0xff, second = b[1] & 0xff;
            return first == 0 || (first == 100 && second >= 64 && second < 128) // CGNAT
                    || (first == 198 && (second == 18 || second == 19)) || first >= 224;
        }
        return (b[0] & 0xfe) == 0xfc; // IPv6 unique local fc00::/7
    }
}
