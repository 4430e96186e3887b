package dev.bulwark.server.node;

import java.util.ArrayList;
import java.util.List;

/**
 * The system properties a node in a JVM of its own (the crash, chaos, soak and budget tests' child
 * nodes) takes from this test JVM so that its sandboxes start as every other test's do: the suite's
 * sandbox JVM options (C1 only, root pom) and the compiler threads' nice value. Without them a
 * child node's sandboxes ran with both JIT tiers, at about twice the CPU per start.
 */
public final class ChildNodeOptions {
    private static final List<String> PROPERTIES = List.of("bulwark.sandbox.jvmOptions", "bulwark.jit.compilerNice");

    private ChildNodeOptions() {
    }

    /** {@code -Dname=value} for each of those properties this JVM has. */
    public static List<String> properties() {
        List<String> out = new ArrayList<>();
        for (String name : PROPERTIES) {
            String value = System.getProperty(name);
            if (value != null) out.add("-D" + name + "=" + value);
        }
        return out;
    }
}
