package dev.bulwark.objects.java;

import java.util.List;
import java.util.Objects;

/**
 * A request to a Java durable object's {@code fetch}: what a JS stub's {@code fetch(request)}
 * sends, whole (the body is read before the call, as for JS objects).
 *
 * @param body the body, or null when there is none
 */
public record JavaRequest(String method, String url, List<HttpHeader> headers, byte[] body) {
    public JavaRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(url, "url");
        headers = List.copyOf(headers);
        body = body == null ? null : body.clone();
    }

    @Override
    public byte[] body() {
        return body == null ? null : body.clone();
    }

    /** The first value of a header (names compared case-insensitively), or null. */
    public String header(String name) {
        for (HttpHeader h : headers) if (h.name().equalsIgnoreCase(name)) return h.value();
        return null;
    }
}
