package dev.bulwark.server.config;

import java.util.Objects;

/**
 * A durable object class moved here from another worker of the same tenant by a migration
 * ({@code transferred_classes[] = {from, from_script, to}}): its objects keep their data and ids.
 */
public record TransferredClass(String from, String fromScript, String to) {
    public TransferredClass {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(fromScript, "fromScript");
        Objects.requireNonNull(to, "to");
    }
}
