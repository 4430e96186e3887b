package dev.bulwark.server.node;

/**
 * A project's route to the built-in supervisor (issue 14, {@code facets.route_prefix}): requests
 * to its worker whose path is {@code prefix} or below go from the front door straight to the
 * {@code FacetPlatform} object {@code objectName} of the worker's tenant, in the node, without an
 * event of the worker: front door → node (supervisor) → generated-code sandbox, the same number of
 * hops as front door → worker's sandbox → an object local to it.
 *
 * @param tenant     the worker's tenant (the supervisor is that tenant's object)
 * @param prefix     {@code "/"} or a path without a trailing {@code /}
 * @param objectName the supervisor object's name ({@code getByName})
 */
public record FacetRoute(String tenant, String prefix, String objectName) {
    /** The built-in supervisor's class. */
    public static final String CLASS_NAME = PlatformSupervisor.CLASS_NAME;

    /** The path the supervisor sees ({@code /...}), or null if {@code path} is not under the prefix. */
    public String rest(String path) {
        if (path == null || !path.startsWith("/")) return null;
        if (prefix.equals("/")) return path;
        if (!path.startsWith(prefix)) return null;
        if (path.length() == prefix.length()) return "/";
        return path.charAt(prefix.length()) == '/' ? path.substring(prefix.length()) : null;
    }
}
