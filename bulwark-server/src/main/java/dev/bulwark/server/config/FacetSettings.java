package dev.bulwark.server.config;

/**
 * The default quotas of every supervisor's facets (issue 14), from the {@code facets} table of
 * the {@code bulwark} section or {@code bulwark.toml}; each may be changed per supervisor at run
 * time ({@code Node.facetQuotas()}, the admin API). Absent (-1): no limit.
 *
 * @param maxFacets         facets per supervisor ({@code max_facets})
 * @param maxBytesPerFacet  storage bytes of one facet ({@code max_bytes_per_facet})
 * @param maxBytesTotal     storage bytes of all of a supervisor's facets ({@code max_bytes_total})
 * @param cpuMsPerPeriod    CPU ms one facet may use per period ({@code cpu_ms_per_period})
 * @param periodMs          that period ({@code period_ms}, default 60000)
 * @param requestsPerSecond requests per second to one facet ({@code requests_per_second})
 * @param routePrefix       null, or a path prefix ({@code route_prefix}, e.g. {@code "/"} or {@code "/apps"}) whose
 *                          requests to this project's worker go from the front door straight to the built-in
 *                          supervisor ({@code FacetPlatform}), without the worker: it sees the path after the prefix
 * @param routeObject       the name of that supervisor object ({@code route_object}, default {@code "main"}): the
 *                          object a worker of the tenant reaches with {@code env.PLATFORM.getByName(name)}
 */
public record FacetSettings(int maxFacets, long maxBytesPerFacet, long maxBytesTotal, long cpuMsPerPeriod, long periodMs,
                            long requestsPerSecond, String routePrefix, String routeObject) {
    public static final FacetSettings NONE = new FacetSettings(-1, -1, -1, -1, 60_000, -1);
    public static final String DEFAULT_ROUTE_OBJECT = "main";

    public FacetSettings {
        if (periodMs <= 0) throw new IllegalArgumentException("facets.period_ms must be positive");
        if (routePrefix != null && !isPrefix(routePrefix)) {
            throw new IllegalArgumentException("facets.route_prefix must be \"/\" or a path like \"/apps\" (no trailing '/', '*', '?' or '%')");
        }
        if (routeObject == null || routeObject.isEmpty()) routeObject = DEFAULT_ROUTE_OBJECT;
    }

    /** Quotas only, no route. */
    public FacetSettings(int maxFacets, long maxBytesPerFacet, long maxBytesTotal, long cpuMsPerPeriod, long periodMs,
                         long requestsPerSecond) {
        this(maxFacets, maxBytesPerFacet, maxBytesTotal, cpuMsPerPeriod, periodMs, requestsPerSecond, null, null);
    }

    static boolean isPrefix(String p) {
        if (p.equals("/")) return true;
        return p.length() > 1 && p.length() <= 256 && p.startsWith("/") && !p.endsWith("/")
                && p.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '*' && c != '?' && c != '%' && c != '#');
    }
}
