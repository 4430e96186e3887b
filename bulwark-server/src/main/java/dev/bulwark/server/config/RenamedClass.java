package dev.bulwark.server.config;

import java.util.Objects;

/** A durable object class renamed by a migration ({@code renamed_classes[] = {from, to}}). */
public record RenamedClass(String from, String to) {
    public RenamedClass {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
    }
}
