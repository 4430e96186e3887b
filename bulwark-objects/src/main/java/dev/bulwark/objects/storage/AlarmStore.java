package dev.bulwark.objects.storage;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.OptionalLong;

/** The object's one alarm time (epoch milliseconds), in a reserved table, written transactionally. */
final class AlarmStore {

    private final Sqlite db;
    private final Transactions tx;
    private final ReservedSchema schema;

    AlarmStore(Sqlite db, Transactions tx, ReservedSchema schema) {
        this.db = db;
        this.tx = tx;
        this.schema = schema;
    }

    OptionalLong get() {
        if (!schema.present()) return OptionalLong.empty();
        try (PreparedStatement ps = db.prepare("SELECT time FROM " + ReservedSchema.ALARM + " WHERE id = 1");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
    }

    void set(long epochMillis) {
        tx.ensureOpen();
        try {
            schema.ensure();
            try (PreparedStatement ps = db.prepare("INSERT INTO " + ReservedSchema.ALARM
                    + " (id, time) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET time = excluded.time")) {
                ps.setLong(1, epochMillis);
                ps.executeUpdate();
            }
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
    }

    void delete() {
        if (!schema.present()) return;
        tx.ensureOpen();
        try {
            db.exec("DELETE FROM " + ReservedSchema.ALARM);
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
    }
}
