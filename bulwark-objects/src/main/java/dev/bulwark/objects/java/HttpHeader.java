package dev.bulwark.objects.java;

import java.util.Objects;

/** One HTTP header line of a {@link JavaRequest} or {@link JavaResponse}. */
public record HttpHeader(String name, String value) {
    public HttpHeader {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
