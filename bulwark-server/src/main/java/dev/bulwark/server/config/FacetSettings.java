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
 */
public record FacetSettings(int maxFacets, long maxBytesPerFacet, long maxBytesTotal, long cpuMsPerPeriod, long periodMs,
                            long requestsPerSecond) {
    public static final FacetSettings NONE = new FacetSettings(-1, -1, -1, -1, 60_000, -1);

    public FacetSettings {
        if (periodMs <= 0) throw new IllegalArgumentException("facets.period_ms must be positive");
    }
}
