package dev.bulwark.server.caps;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's registry of Java capabilities, by name. Registering makes a capability available;
 * putting it into a worker's env is {@code Node.withCapability(worker, envName, name)}; a worker
 * can then pass its stub on (in RPC arguments, or in a dynamic worker's env) like any stub.
 */
public final class JavaCapabilities {
    private final Map<String, JavaCapability> byName = new ConcurrentHashMap<>();

    /** Registers (or replaces) the capability called {@code name}. */
    public void register(String name, JavaCapability capability) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(capability, "capability");
        byName.put(name, capability);
    }

    /** The capability registered as {@code name}, or null. */
    public JavaCapability get(String name) {
        return byName.get(name);
    }
}
