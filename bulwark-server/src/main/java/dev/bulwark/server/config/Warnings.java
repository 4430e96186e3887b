package dev.bulwark.server.config;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The warnings of one load, in the order they arose, each reported once. */
final class Warnings {
    private final Set<String> messages = new LinkedHashSet<>();

    void add(String message) {
        messages.add(message);
    }

    List<String> list() {
        return List.copyOf(messages);
    }
}
