package dev.bulwark.objects.java;

import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A durable object class implemented in Java, as an embedder registers it with the node.
 *
 * @param name     the class name: what {@code class_name} says in a worker's
 *                 {@code durable_objects.bindings} (with {@code script_name} {@value JavaObjects#SCRIPT_NAME}),
 *                 and a directory name of its storage; a JS identifier of at most 64 characters
 * @param methods  the methods RPC callers may call; any other name is refused before the object
 *                 is reached, with workerd's "The RPC receiver does not implement the method"
 * @param bindable whether JS workers may bind it; a class that is not (governance's session
 *                 objects) is reachable only from Java, through {@link JavaObjects#namespace}
 * @param factory  makes the instance of one object (on its first event, and after eviction)
 */
public record JavaObjectClass(String name, Set<String> methods, boolean bindable, Factory factory) {

    /** Makes the instance of one object; may read its storage through the context. */
    @FunctionalInterface
    public interface Factory {
        JavaDurableObject create(JavaObjectContext ctx) throws Exception;
    }

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]{0,63}");
    /** Names a stub never forwards as RPC (rpc.js's RESERVED), so no class may export them. */
    private static final Set<String> RESERVED = Set.of("constructor", "fetch", "connect", "alarm", "webSocketMessage",
            "webSocketClose", "webSocketError", "then", "dup");

    public JavaObjectClass {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(factory, "factory");
        if (!IDENTIFIER.matcher(name).matches()) {
            throw new IllegalArgumentException("a Java object class name is a JS identifier of at most 64 characters: " + name);
        }
        methods = Set.copyOf(methods);
        for (String m : methods) {
            if (!IDENTIFIER.matcher(m).matches() || RESERVED.contains(m)) {
                throw new IllegalArgumentException("'" + m + "' cannot be an RPC method of a Java object");
            }
        }
    }

    /** A class JS workers may bind, with these RPC methods. */
    public static JavaObjectClass bindable(String name, Factory factory, String... methods) {
        return new JavaObjectClass(name, Set.of(methods), true, factory);
    }

    /** A class reachable only from Java (not by any worker's binding). */
    public static JavaObjectClass javaOnly(String name, Factory factory, String... methods) {
        return new JavaObjectClass(name, Set.of(methods), false, factory);
    }
}
