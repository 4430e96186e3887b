package dev.bulwark.objects.storage;

import java.sql.SQLException;
import java.util.List;

/** The object's own schema objects (everything not reserved and not SQLite's). */
final class UserSchema {

    private final Sqlite db;

    UserSchema(Sqlite db) {
        this.db = db;
    }

    /** Drops every user table, view and trigger (indexes go with their tables). */
    void dropAll() throws SQLException {
        // Foreign keys between dropped tables must not fail the drops: check them at commit.
        db.exec("PRAGMA defer_foreign_keys = ON");
        List<String[]> objects = db.queryStrings("SELECT type, name FROM sqlite_master"
                + " WHERE type IN ('view', 'trigger', 'table') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                + " AND name NOT LIKE '\\_bw\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'"
                + " ORDER BY CASE WHEN type = 'view' THEN 0 WHEN type = 'trigger' THEN 1"
                + " WHEN sql LIKE 'CREATE VIRTUAL%' THEN 2 ELSE 3 END", 2);
        for (String[] o : objects) {
            db.exec("DROP " + o[0].toUpperCase(java.util.Locale.ROOT) + " IF EXISTS \""
                    + o[1].replace("\"", "\"\"") + "\"");
        }
    }
}
