package dev.bulwark.server.config;

import java.util.Objects;

/**
 * A durable object namespace bound into the worker's env ({@code durable_objects.bindings[]}).
 *
 * @param name       the env binding name
 * @param className  the exported class implementing the object
 * @param scriptName the worker that exports the class, or null for this worker
 */
public record DurableObjectBinding(String name, String className, String scriptName) {
    public DurableObjectBinding {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(className, "className");
    }
}
