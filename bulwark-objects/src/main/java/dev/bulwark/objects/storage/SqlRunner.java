package dev.bulwark.objects.storage;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Runs the object's own SQL: checks every statement with {@link SqlGuard} before running any,
 * runs all but the last to completion, and returns a cursor over the last. As in workerd, only
 * the last statement may have parameters.
 */
final class SqlRunner {

    private final Sqlite db;
    private final Transactions tx;
    private final Set<SqlCursor> open = Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    SqlRunner(Sqlite db, Transactions tx) {
        this.db = db;
        this.tx = tx;
    }

    SqlCursor exec(String sql, List<?> bindings) {
        if (sql.indexOf('\0') >= 0) {
            // SQLite stops reading at NUL; refuse rather than check text SQLite would not see.
            throw new StorageException(StorageException.Kind.AUTH, "SQL may not contain NUL characters: SQLITE_AUTH");
        }
        List<List<SqlToken>> statements = SqlTokenizer.statements(SqlTokenizer.tokenize(sql));
        if (statements.isEmpty()) {
            throw new StorageException(StorageException.Kind.SQL, "SQL code did not contain a statement.");
        }
        for (List<SqlToken> s : statements) SqlGuard.check(s);
        for (int i = 0; i < statements.size() - 1; i++) {
            if (statements.get(i).stream().anyMatch(t -> t.kind() == SqlToken.Kind.PARAM)) {
                throw new StorageException(StorageException.Kind.SQL, "When executing multiple SQL statements "
                        + "in a single call, only the last statement can have parameters.");
            }
        }
        tx.ensureOpen();
        long read = 0;
        long changesBefore;
        try {
            changesBefore = db.totalChanges();
        } catch (SQLException e) {
            throw db.translate(e);
        }
        for (int i = 0; i < statements.size() - 1; i++) {
            try (PreparedStatement ps = db.prepare(text(sql, statements.get(i)))) {
                if (ps.execute()) {
                    try (ResultSet rs = ps.getResultSet()) {
                        while (rs.next()) read++;
                    }
                }
            } catch (SQLException e) {
                throw tx.afterError(db.translate(e));
            }
        }
        return last(sql, statements.getLast(), bindings, read, changesBefore);
    }

    private SqlCursor last(String sql, List<SqlToken> stmt, List<?> bindings, long read, long changesBefore) {
        PreparedStatement ps = null;
        try {
            ps = db.prepare(text(sql, stmt));
            int expected = ps.getParameterMetaData().getParameterCount();
            if (expected != bindings.size()) {
                throw new StorageException(StorageException.Kind.SQL, "Wrong number of parameter bindings for SQL query.");
            }
            for (int i = 0; i < bindings.size(); i++) bind(ps, i + 1, bindings.get(i));
            ResultSet rs = ps.execute() ? ps.getResultSet() : null;
            List<String> names = List.of();
            if (rs != null) {
                ResultSetMetaData md = rs.getMetaData();
                List<String> n = new ArrayList<>(md.getColumnCount());
                for (int c = 1; c <= md.getColumnCount(); c++) n.add(md.getColumnLabel(c));
                names = Collections.unmodifiableList(n);
            }
            // Step to the first row now so that errors (constraints, RETURNING) surface from exec.
            boolean first = rs != null && rs.next();
            SqlCursor[] holder = new SqlCursor[1];
            SqlCursor cursor = new SqlCursor(db, ps, rs, first, names, read, changesBefore,
                    () -> open.remove(holder[0]));
            holder[0] = cursor;
            if (!cursor.isDone()) open.add(cursor);
            return cursor;
        } catch (SQLException e) {
            closeQuietly(ps);
            throw tx.afterError(db.translate(e));
        } catch (RuntimeException e) {
            closeQuietly(ps);
            throw e;
        }
    }

    /** Closes cursors still open (their statements would block a rollback or close). */
    void closeAll() {
        for (SqlCursor c : List.copyOf(open)) c.close();
    }

    private static void bind(PreparedStatement ps, int index, Object value) throws SQLException {
        switch (value) {
            case null -> ps.setNull(index, java.sql.Types.NULL);
            case Long l -> ps.setLong(index, l);
            case Integer i -> ps.setLong(index, i);
            case Double d -> ps.setDouble(index, d);
            case String s -> ps.setString(index, s);
            case byte[] b -> ps.setBytes(index, b);
            default -> throw new StorageException(StorageException.Kind.TYPE,
                    "Unsupported binding type: " + value.getClass().getSimpleName());
        }
    }

    private static String text(String sql, List<SqlToken> stmt) {
        return sql.substring(stmt.getFirst().start(), stmt.getLast().end());
    }

    private static void closeQuietly(PreparedStatement ps) {
        if (ps == null) return;
        try {
            ps.close();
        } catch (SQLException ignored) {
            // nothing to recover
        }
    }
}
