package dev.bulwark.server.governance;

import java.net.URI;
import java.util.Arrays;
import java.util.Set;

/**
 * Where the node tells of approvals ({@code governance.approvals.notify}): a URL the node POSTs a
 * JSON event to (through its egress policy) when an approval is created, escalated or expires,
 * signed with {@code secret} (HMAC-SHA256; see {@link ApprovalNotifier}).
 *
 * @param url    http or https
 * @param secret the HMAC key (at least 16 bytes)
 * @param events which of {@link #EVENTS} to send
 */
public record ApprovalHook(URI url, byte[] secret, Set<String> events) {
    /** The events: an approval is created (pending), escalated, or expired. */
    public static final Set<String> EVENTS = Set.of("pending", "escalated", "expired");

    public ApprovalHook {
        if (url == null || !("https".equals(url.getScheme()) || "http".equals(url.getScheme())) || url.getHost() == null) {
            throw new IllegalArgumentException("an approval hook's URL is http or https with a host");
        }
        if (secret == null || secret.length < 16) throw new IllegalArgumentException("an approval hook's secret is at least 16 bytes");
        secret = secret.clone();
        events = Set.copyOf(events);
        if (events.isEmpty() || !EVENTS.containsAll(events)) throw new IllegalArgumentException("events are some of " + EVENTS);
    }

    /** A hook for every event. */
    public ApprovalHook(URI url, byte[] secret) {
        this(url, secret, EVENTS);
    }

    @Override
    public byte[] secret() {
        return secret.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ApprovalHook h && url.equals(h.url) && Arrays.equals(secret, h.secret) && events.equals(h.events);
    }

    @Override
    public int hashCode() {
        return url.hashCode() * 31 + events.hashCode();
    }

    /** Never the secret. */
    @Override
    public String toString() {
        return "ApprovalHook[url=" + url + ", events=" + events + "]";
    }
}
