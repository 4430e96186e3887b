package dev.bulwark.server.config;

import java.util.Objects;

/**
 * Another worker bound into this worker's env ({@code services[]}).
 *
 * @param binding    the env binding name
 * @param service    the name of the worker bound to
 * @param entrypoint the named entrypoint of that worker, or null for its default export
 * @param propsJson  see the constructor
 */
public record ServiceBinding(String binding, String service, String entrypoint, String propsJson) {
    /**
     * @param propsJson the binding's {@code props} as a JSON object (the callee's {@code ctx.props}), or null
     */
    public ServiceBinding {
        Objects.requireNonNull(binding, "binding");
        Objects.requireNonNull(service, "service");
    }

    public ServiceBinding(String binding, String service, String entrypoint) {
        this(binding, service, entrypoint, null);
    }
}
