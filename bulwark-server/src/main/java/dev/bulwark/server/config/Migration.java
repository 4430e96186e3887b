package dev.bulwark.server.config;

import java.util.List;
import java.util.Objects;

/**
 * One durable object migration ({@code migrations[]}), applied in order of the list.
 *
 * @param tag              unique name of the migration
 * @param newSqliteClasses classes created with SQLite-backed storage
 * @param newClasses       classes created with key-value storage
 * @param renamedClasses   classes renamed, keeping their objects
 * @param deletedClasses   classes deleted with all their objects
 */
public record Migration(String tag, List<String> newSqliteClasses, List<String> newClasses,
                        List<RenamedClass> renamedClasses, List<String> deletedClasses) {
    public Migration {
        Objects.requireNonNull(tag, "tag");
        newSqliteClasses = List.copyOf(newSqliteClasses);
        newClasses = List.copyOf(newClasses);
        renamedClasses = List.copyOf(renamedClasses);
        deletedClasses = List.copyOf(deletedClasses);
    }
}
