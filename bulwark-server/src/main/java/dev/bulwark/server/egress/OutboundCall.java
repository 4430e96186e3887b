package dev.bulwark.server.egress;

/**
 * One outbound request of a worker, as the gateway saw it.
 *
 * @param method   the HTTP method
 * @param host     the canonical host asked for (never the path or query: they may carry secrets)
 * @param status   the upstream's status, or 0 when there was no response
 * @param outcome  {@code ok}, {@code denied}, {@code failed}, {@code canceled}, {@code too_large} or {@code timeout}
 * @param bytesIn  response body bytes passed to the worker
 * @param bytesOut request body bytes sent upstream
 * @param millis   from the gateway receiving it to its end (body included)
 */
public record OutboundCall(String method, String host, int status, String outcome, long bytesIn, long bytesOut,
                           long millis) {}
