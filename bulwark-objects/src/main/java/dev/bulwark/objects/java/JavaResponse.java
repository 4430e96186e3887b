package dev.bulwark.objects.java;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A Java durable object's answer to a {@code fetch}. Status 101 (WebSocket upgrades) is not
 * available to Java objects. Headers whose name starts with {@code ':'} are the node's own and are
 * dropped.
 */
public record JavaResponse(int status, List<HttpHeader> headers, byte[] body) {
    public JavaResponse {
        if (status < 200 || status > 599) throw new IllegalArgumentException("a Java object answers with a status in 200..599");
        headers = List.copyOf(headers);
        body = body == null ? new byte[0] : body.clone();
    }

    @Override
    public byte[] body() {
        return body.clone();
    }

    /** A response with a UTF-8 text body ({@code text/plain;charset=UTF-8}). */
    public static JavaResponse text(int status, String text) {
        return new JavaResponse(status, List.of(new HttpHeader("content-type", "text/plain;charset=UTF-8")),
                text.getBytes(StandardCharsets.UTF_8));
    }

    /** The body read as UTF-8. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
