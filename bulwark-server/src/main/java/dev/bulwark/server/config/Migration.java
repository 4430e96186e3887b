package dev.bulwark.server.config;

import java.util.LinkedHashSet;
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
 * @param transferredClasses classes moved here from another worker of the tenant, keeping their objects
 */
public record Migration(String tag, List<String> newSqliteClasses, List<String> newClasses,
                        List<RenamedClass> renamedClasses, List<String> deletedClasses,
                        List<TransferredClass> transferredClasses) {
    public Migration {
        Objects.requireNonNull(tag, "tag");
        newSqliteClasses = List.copyOf(newSqliteClasses);
        newClasses = List.copyOf(newClasses);
        renamedClasses = List.copyOf(renamedClasses);
        deletedClasses = List.copyOf(deletedClasses);
        transferredClasses = List.copyOf(transferredClasses);
    }

    /** A migration without transfers. */
    public Migration(String tag, List<String> newSqliteClasses, List<String> newClasses,
                     List<RenamedClass> renamedClasses, List<String> deletedClasses) {
        this(tag, newSqliteClasses, newClasses, renamedClasses, deletedClasses, List.of());
    }

    /**
     * The classes that exist after {@code migrations}, in order of creation: created ones, under
     * their latest names, transferred ones, less the deleted ones.
     */
    public static LinkedHashSet<String> classesAfter(List<Migration> migrations) {
        LinkedHashSet<String> classes = new LinkedHashSet<>();
        for (Migration m : migrations) {
            classes.addAll(m.newSqliteClasses());
            classes.addAll(m.newClasses());
            for (RenamedClass r : m.renamedClasses()) {
                classes.remove(r.from());
                classes.add(r.to());
            }
            m.deletedClasses().forEach(classes::remove);
            m.transferredClasses().forEach(t -> classes.add(t.to()));
        }
        return classes;
    }
}
