package dev.bulwark.objects.storage;

import org.sqlite.core.CoreStatement;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs the object's own SQL: checks every statement with {@link SqlGuard} before running any,
 * runs all but the last to completion, and returns a cursor over the last. As in workerd, only
 * the last statement may have parameters.
 *
 * <p>Single-statement SQL that passed the guard is kept prepared, keyed by its exact text (as
 * workerd caches statements): running it again skips tokenizing, checking and compiling.
 */
final class SqlRunner {

    static final int CACHE_SIZE = 64;

    /**
     * A prepared statement of the cache; busy while a cursor reads from it. It is also that
     * cursor's owner (a cached statement has at most one cursor at a time), so a run of a cached
     * statement allocates no owner or callbacks of its own.
     */
    private final class Cached implements SqlCursor.Owner {
        final PreparedStatement ps;
        /** Not a plain query or DML: running it may change the schema (see {@link #schemaGeneration}). */
        final boolean mayChangeSchema;
        boolean busy;
        boolean evicted;
        /** The current run bound a large value: clear the bindings' copies when it ends. */
        boolean holdsLarge;
        /** The statement's column names, read when the schema was at {@link #namesGeneration}. */
        List<String> names;
        long namesGeneration = -1;

        Cached(PreparedStatement ps, boolean mayChangeSchema) {
            this.ps = ps;
            this.mayChangeSchema = mayChangeSchema;
        }

        @Override
        public void finished(SqlCursor cursor, boolean failed) {
            // A cursor done at once (an INSERT) was never added: no identity hash computed for it.
            if (!open.isEmpty()) open.remove(cursor);
            if (failed) discard(); else release();
        }

        @Override
        public StorageException afterError(StorageException e) {
            return SqlRunner.this.afterError(e);
        }

        /** After an error the statement may be left mid-step: finalize it rather than reuse it. */
        void discard() {
            evicted = true;
            cache.values().remove(this);
            closeQuietly(ps);
        }

        void release() {
            if (evicted) {
                closeQuietly(ps);
                return;
            }
            try {
                // Reset, so an idle cached statement is not "running" (an active statement
                // would keep a read snapshot and a pending sqlite3_interrupt alive).
                db.reset((CoreStatement) ps, holdsLarge);
            } catch (SQLException e) {
                // bindings are replaced before each run anyway
            }
            busy = false;
        }
    }

    /** The owner of a cursor over a statement that is not cached: finalized when the cursor is done. */
    private final class Uncached implements SqlCursor.Owner {
        final PreparedStatement ps;

        Uncached(PreparedStatement ps) {
            this.ps = ps;
        }

        @Override
        public void finished(SqlCursor cursor, boolean failed) {
            if (!open.isEmpty()) open.remove(cursor);
            closeQuietly(ps);
        }

        @Override
        public StorageException afterError(StorageException e) {
            return SqlRunner.this.afterError(e);
        }
    }

    /**
     * sqlite3_total_changes as the last exec left it, or -1 when unknown. Only DML changes that
     * total, and on this connection DML runs only through an exec or the storage's other methods
     * (KV, alarm, deleteAll), which call {@link #forgetTotal} first; a cursor still open may still
     * write (RETURNING completes at its end), so the total is kept only while none is open. A
     * run of a cached statement then reads the total once (after its step) instead of twice.
     */
    private long knownTotal = -1;

    /**
     * Counts what may have changed the schema: statements other than queries and DML, and
     * rollbacks. SQLite recompiles a statement after a schema change and its columns may differ
     * then (a {@code SELECT *} after {@code ALTER TABLE}); a cached statement's column names are
     * reused only while this has not moved.
     */
    private long schemaGeneration;

    private final Sqlite db;
    private final Transactions tx;
    /** Keeps each open cursor's rows written its own while others write (see {@link ChangeWindows}). */
    private final ChangeWindows windows;
    private final Set<SqlCursor> open = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<String, Cached> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            if (size() <= CACHE_SIZE) return false;
            Cached c = eldest.getValue();
            if (c.busy) c.evicted = true; else closeQuietly(c.ps);
            return true;
        }
    };

    SqlRunner(Sqlite db, Transactions tx) {
        this.db = db;
        this.tx = tx;
        this.windows = new ChangeWindows(db);
        tx.onRollback(this::schemaMayHaveChanged);
    }

    /** Forgets every cached statement's column names (DDL, a rollback, deleteAll). */
    void schemaMayHaveChanged() {
        schemaGeneration++;
    }

    /** True unless the statement is a query or DML, which cannot change the schema. */
    private static boolean mayChangeSchema(List<SqlToken> statement) {
        SqlToken first = statement.getFirst();
        for (String dml : DML) {
            if (first.is(dml)) return false;
        }
        return true;
    }

    private static final List<String> DML = List.of("SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "VALUES");

    /** Something other than an exec may have changed sqlite3_total_changes (see {@link #knownTotal}). */
    void forgetTotal() {
        knownTotal = -1;
        windows.leave();
    }

    SqlCursor exec(String sql, List<?> bindings) {
        windows.leave(); // an open cursor's count stops here: what this exec writes is not its own
        Cached hit = cache.get(sql);
        if (hit != null && !hit.busy) {
            tx.ensureOpen();
            long before = knownTotal >= 0 ? knownTotal : changes();
            knownTotal = -1;
            return run(hit, hit.ps, hit.mayChangeSchema, bindings, 0, before);
        }
        knownTotal = -1;
        if (sql.indexOf('\0') >= 0) {
            // SQLite stops reading at NUL; refuse rather than check text SQLite would not see.
            throw new StorageException(StorageException.Kind.AUTH, "SQL may not contain NUL characters: SQLITE_AUTH");
        }
        List<SqlToken> tokens = SqlTokenizer.tokenize(sql);
        List<List<SqlToken>> statements = SqlTokenizer.statements(tokens);
        if (statements.isEmpty() || onlyCommentsAfterLastSemicolon(sql, tokens)) {
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
        long changesBefore = changes();
        for (int i = 0; i < statements.size() - 1; i++) {
            if (mayChangeSchema(statements.get(i))) schemaMayHaveChanged();
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
        PreparedStatement ps;
        try {
            ps = db.prepare(text(sql, statements.getLast()));
        } catch (SQLException e) {
            throw tx.afterError(db.translate(e));
        }
        boolean ddl = mayChangeSchema(statements.getLast());
        Cached entry = null;
        if (statements.size() == 1 && hit == null) {
            entry = new Cached(ps, ddl);
            cache.put(sql, entry);
        }
        return run(entry, ps, ddl, bindings, read, changesBefore);
    }

    private long changes() {
        try {
            return db.totalChanges();
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    /** Binds and runs the last statement; {@code cached} is null for an uncached statement. */
    private SqlCursor run(Cached cached, PreparedStatement ps, boolean ddl, List<?> bindings, long read,
                          long changesBefore) {
        SqlCursor.Owner owner;
        if (cached != null) {
            cached.busy = true;
            // Every run binds every parameter again, so an idle cached statement keeps its last
            // bindings; SQLite holds copies of them, worth a clear_bindings only when large.
            cached.holdsLarge = holdsLarge(bindings);
            owner = cached;
        } else {
            owner = new Uncached(ps);
        }
        try {
            int expected = ps.getParameterMetaData().getParameterCount();
            if (expected != bindings.size()) {
                throw new StorageException(StorageException.Kind.SQL, "Wrong number of parameter bindings for SQL query.");
            }
            Object[] values = bindings.toArray();
            for (Object v : values) checkBinding(v);
            // Binds and steps to the first row now, so that errors (constraints, RETURNING)
            // surface from exec. Straight through sqlite-jdbc's DB (no ResultSet, no metadata).
            CoreStatement stmt = (CoreStatement) ps;
            if (ddl) schemaMayHaveChanged();
            boolean first = db.execute(stmt, values);
            if (ddl) schemaMayHaveChanged();
            List<String> names = names(cached, stmt);
            SqlCursor cursor = new SqlCursor(db, names.isEmpty() ? null : stmt, first, names, read, changesBefore, owner,
                    windows);
            if (!cursor.isDone()) {
                open.add(cursor);
            } else if (open.isEmpty()) {
                // Done at once: the total it read at its end is the next exec's "before".
                knownTotal = cursor.totalAfter();
            }
            return cursor;
        } catch (SQLException e) {
            discard(cached, ps);
            throw afterError(db.translate(e));
        } catch (RuntimeException e) {
            discard(cached, ps);
            throw e;
        }
    }

    /** After an error the statement may be left mid-step: finalize it rather than reuse it. */
    private void discard(Cached cached, PreparedStatement ps) {
        knownTotal = -1;
        if (cached != null) cached.discard(); else closeQuietly(ps);
    }

    private StorageException afterError(StorageException e) {
        knownTotal = -1;
        if (e.getMessage().contains("SQLITE_INTERRUPT")) {
            // SQLite keeps an interrupt pending while any statement is still active; finalize the
            // idle cached ones so that the next statement runs normally.
            for (Cached c : List.copyOf(cache.values())) {
                if (!c.busy) closeQuietly(c.ps);
            }
            cache.values().removeIf(c -> !c.busy);
        }
        return tx.afterError(e);
    }

    /** Closes cursors still open (their statements would block a rollback or close). */
    void closeAll() {
        for (SqlCursor c : List.copyOf(open)) c.close();
    }

    /** Closes every cursor and cached statement (before the connection closes). */
    void close() {
        closeAll();
        for (Cached c : cache.values()) closeQuietly(c.ps);
        cache.clear();
    }

    static final int LARGE_BINDING = 4096;

    /** The statement's column names (after its first step), from the cache while the schema is unchanged. */
    private List<String> names(Cached cached, CoreStatement stmt) throws SQLException {
        if (cached != null && cached.namesGeneration == schemaGeneration) return cached.names;
        List<String> names = db.columnNames(stmt);
        if (cached != null) {
            cached.names = names;
            cached.namesGeneration = schemaGeneration;
        }
        return names;
    }

    private static boolean holdsLarge(List<?> bindings) {
        for (Object b : bindings) {
            if (b instanceof String s && s.length() > LARGE_BINDING / 2) return true;
            if (b instanceof byte[] a && a.length > LARGE_BINDING) return true;
        }
        return false;
    }

    private static void checkBinding(Object value) {
        switch (value) {
            case null -> { }
            case Long l -> { }
            case Integer i -> { }
            case Double d -> { }
            case String s -> { }
            case byte[] b -> { }
            default -> throw new StorageException(StorageException.Kind.TYPE,
                    "Unsupported binding type: " + value.getClass().getSimpleName());
        }
    }

    /**
     * workerd prepares what follows each ';' until nothing but white space is left: comments alone
     * there make an empty statement, its error (SQLite would compile nothing from them).
     */
    private static boolean onlyCommentsAfterLastSemicolon(String sql, List<SqlToken> tokens) {
        if (tokens.getLast().kind() != SqlToken.Kind.SEMICOLON) return false;
        for (int i = tokens.getLast().end(); i < sql.length(); i++) {
            if (!SqlTokenizer.isSpace(sql.charAt(i))) return true;
        }
        return false;
    }

    private static String text(String sql, List<SqlToken> stmt) {
        return sql.substring(stmt.getFirst().start(), stmt.getLast().end());
    }

    private static void closeQuietly(PreparedStatement ps) {
        try {
            ps.close();
        } catch (SQLException ignored) {
            // nothing to recover
        }
    }
}
