package dev.bulwark.server.node;

/**
 * What the node records of one facet (issue 14), for the admin API: its id, tenant, root
 * supervisor id and path; the dynamic worker that runs it now (null: none) and the last one that
 * did ({@code codeHash}: dynamic worker ids are hashes of the parent and the loader id); requests,
 * errors (thrown, failed, 5xx) and CPU ms counted by the node since it started; its database's
 * bytes (file and WAL).
 */
public record FacetRecord(String id, String tenant, String supervisor, String path, String running, String codeHash,
                          long requests, long errors, long cpuMs, long storageBytes) {
}
