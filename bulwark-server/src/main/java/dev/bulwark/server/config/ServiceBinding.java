package dev.bulwark.server.config;

import java.util.Objects;

/**
 * Another worker bound into this worker's env ({@code services[]}).
 *
 * @param binding    the env binding name
 * @param service    the name of the worker bound to
 * @param entrypoint the named entrypoint of that worker, or null for its default export
 */
public record ServiceBinding(String binding, String service, String entrypoint) {
    public ServiceBinding {
        Objects.requireNonNull(binding, "binding");
        Objects.requireNonNull(service, "service");
    }
}
