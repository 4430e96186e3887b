package dev.bulwark.sandbox.ipc;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Facets (issue 14): names, paths and ids. A facet is named by its parent (a supervisor object, or
 * a facet) and a name; its id is derived from the parent's object id and the name, so it is the
 * same for every code version the supervisor runs under that name (its storage is keyed by it) and
 * different for every other parent. Ids are not secrets: who may call a facet is decided by the
 * node from the calling invocation (only its parent), never from an id the caller sends.
 */
public final class FacetIds {
    /** Cloudflare's limit on a facet name. */
    public static final int MAX_NAME_CHARS = 128;
    /** Nesting depth counting the root supervisor: a supervisor's facets are at depth 2. */
    public static final int MAX_DEPTH = 4;
    /** The reserved worker id of facet operations (abort, delete) a supervisor asks of the node. */
    public static final String CONTROL_WORKER = "bulwark:facets";
    /** Dynamic workers' ids begin with this; a durable object of one is a facet. */
    public static final String DYNAMIC_PREFIX = "dyn-";

    private FacetIds() {}

    /** Why {@code name} is not a facet name, or null. */
    public static String nameProblem(String name) {
        if (name == null || name.isEmpty()) return "A facet name must be a non-empty string.";
        if (name.length() > MAX_NAME_CHARS) return "A facet name can be at most " + MAX_NAME_CHARS + " characters long.";
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            // NUL is allowed: the Agents SDK names its sub-agents' facets "<class>\0<name>".
            if ((c > 0 && c < 0x20) || c == 0x7f || (c >= 0x80 && c < 0xa0)) return "A facet name cannot contain control characters.";
            if (c == '/') return "A facet name cannot contain '/'.";
        }
        return null;
    }

    /** The id of facet {@code name} of the object whose id is {@code parentId}. */
    public static String id(String parentId, String name) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update("bulwark facet\n".getBytes(StandardCharsets.UTF_8));
            d.update(parentId.getBytes(StandardCharsets.UTF_8));
            d.update((byte) '\n');
            d.update(name.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether an object address is a facet (a class of a dynamic worker). */
    public static boolean isFacet(Address.DurableObject o) {
        return o.workerId().startsWith(DYNAMIC_PREFIX);
    }

    /** The path of facet {@code name} under {@code parent}: the name, below the parent's own path if it is a facet. */
    public static String path(Address.DurableObject parent, String name) {
        return isFacet(parent) ? parent.name() + "/" + name : name;
    }

    /** The depth of a facet at {@code path} (the root supervisor is depth 1). */
    public static int depth(String path) {
        int d = 2;
        for (int i = 0; i < path.length(); i++) if (path.charAt(i) == '/') d++;
        return d;
    }
}
