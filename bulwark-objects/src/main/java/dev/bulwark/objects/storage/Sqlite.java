package dev.bulwark.objects.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteLimits;
import org.sqlite.SQLiteOpenMode;
import org.sqlite.core.Codes;
import org.sqlite.core.CoreStatement;
import org.sqlite.core.DB;

/**
 * The one SQLite connection of an object: opened in WAL mode with exclusive locking (so a second
 * process cannot open the same object's database while this one lives), the durability and size
 * limits applied, ATTACH disabled, extensions off.
 */
final class Sqlite implements AutoCloseable {

    static final int PAGE_SIZE = 4096;

    private final SQLiteConnection conn;
    private final StorageOptions options;
    /**
     * True from an open that found no WAL to the first commit, under {@link Durability#NORMAL}: the
     * connection runs with {@code synchronous=OFF} and no automatic checkpoint meanwhile. See
     * {@link #freshWal}.
     */
    private boolean unsyncedFreshWal;

    Sqlite(Path file, StorageOptions options) {
        this.options = options;
        this.unsyncedFreshWal = options.durability() == Durability.NORMAL && freshWal(file);
        SQLiteConfig config = new SQLiteConfig();
        config.setPageSize(PAGE_SIZE);
        // Locking mode, synchronous and WAL mode are set below, in that order: a WAL first opened
        // in exclusive locking mode keeps its index in the connection's memory, with no -shm file
        // to hold open and map (a descriptor and a shared mapping less per open object). Any
        // statement that reads the schema first (PRAGMA synchronous does) would open the -shm.
        config.enableLoadExtension(false);
        config.setBusyTimeout(0);
        // sqlite-jdbc would otherwise run "SELECT last_insert_rowid()" (a regex match, a prepare,
        // a step and a finalize) after every INSERT for Statement.getGeneratedKeys, which we never call.
        config.setGetGeneratedKeys(false);
        // Every call into this connection already goes through sqlite-jdbc's DB monitor (its
        // natives and SafeStmtPtr are synchronized on it; sqlite3_interrupt takes no mutex by
        // design), so SQLite's own per-connection mutex, entered by every API call, only costs.
        config.setOpenMode(SQLiteOpenMode.NOMUTEX);
        try {
            this.conn = (SQLiteConnection) config.createConnection("jdbc:sqlite:" + file.toAbsolutePath());
        } catch (SQLException e) {
            throw SqliteErrors.translate(e, options.maxDatabaseBytes());
        }
        try {
            conn.setAutoCommit(true);
            // Transactions are ours (BEGIN IMMEDIATE ... COMMIT as plain SQL, see Transactions), never
            // JDBC's. With JDBC's auto-commit flag on, sqlite-jdbc steps a "begin;" and resets it
            // after every statement that completes, to make sure no transaction was left open.
            // Clearing the flag (without the "begin;" setAutoCommit(false) would run) turns that off.
            conn.getConnectionConfig().setAutoCommit(false);
            conn.setLimit(SQLiteLimits.SQLITE_LIMIT_ATTACHED, 0);
            conn.setLimit(SQLiteLimits.SQLITE_LIMIT_LENGTH, (int) Math.min(Integer.MAX_VALUE,
                    options.maxValueBytes() + 1024));
            exec("PRAGMA locking_mode = EXCLUSIVE");
            exec("PRAGMA synchronous = " + (options.durability() == Durability.FULL ? "FULL"
                    : unsyncedFreshWal ? "OFF" : "NORMAL"));
            long pages = Math.max(16, options.maxDatabaseBytes() / PAGE_SIZE);
            exec("PRAGMA max_page_count = " + pages);
            exec("PRAGMA trusted_schema = OFF");
            // As workerd's SQLite (built with SQLITE_DEFAULT_FOREIGN_KEYS=1): foreign keys are
            // enforced. The pragma must run outside a transaction, so user code cannot turn it off
            // (its every exec runs in one); defer_foreign_keys still moves the check to the commit.
            exec("PRAGMA foreign_keys = ON");
            queryStrings("PRAGMA journal_mode = WAL", 1);
            exec("PRAGMA wal_autocheckpoint = " + (unsyncedFreshWal ? 0 : options.walCheckpointPages()));
        } catch (SQLException e) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // already failing
            }
            throw SqliteErrors.translate(e, options.maxDatabaseBytes());
        }
    }

    /**
     * Whether {@code file}'s WAL is absent or empty, so the first commit starts a new one. SQLite
     * then syncs the new WAL's header and, as the WAL file was just created, its directory: two
     * fsyncs (~0.4-0.9 ms each on this kind of disk) on the way of every new object's, and every
     * re-opened object's, first write. {@code synchronous=NORMAL} in WAL mode promises to survive a
     * process crash (the page cache does that, with or without fsync) and to keep the database
     * consistent through a power loss, not to keep the last commits; for a WAL with no earlier
     * frames those two syncs buy neither. Until the first checkpoint nothing is written to the
     * database file itself, and a checkpoint always runs under NORMAL (automatic ones are off until
     * the first commit, {@link #close} restores NORMAL first), syncing the WAL and its directory
     * before the database is touched. After a power loss a WAL whose header or directory entry
     * did not reach the disk is ignored (its commits lost, as NORMAL allows), and frames past the
     * last valid checksum are too. A WAL left with frames (a crash) is not fresh: NORMAL at once.
     */
    private static boolean freshWal(Path file) {
        Path wal = file.resolveSibling(file.getFileName() + "-wal");
        try {
            return Files.size(wal) == 0;
        } catch (NoSuchFileException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** After a COMMIT: the first one into a fresh WAL returns the connection to NORMAL (see {@link #freshWal}). */
    void committed() throws SQLException {
        if (!unsyncedFreshWal) return;
        unsyncedFreshWal = false;
        exec("PRAGMA synchronous = NORMAL");
        exec("PRAGMA wal_autocheckpoint = " + options.walCheckpointPages());
    }

    /** Whether the connection runs unsynced until its first commit (tests). */
    boolean unsyncedUntilFirstCommit() {
        return unsyncedFreshWal;
    }

    /** Runs trusted SQL (ours, never the object's) with no result. */
    void exec(String sql) throws SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }

    /** Trusted statements {@link #run} keeps prepared, by text. */
    private final java.util.Map<String, CoreStatement> kept = new java.util.HashMap<>();
    private static final int KEPT_MAX = 16;

    /**
     * Runs trusted SQL with no result and no parameters that runs often (BEGIN, COMMIT,
     * savepoints): kept prepared, so an event's transaction costs no compiling.
     */
    void run(String sql) throws SQLException {
        CoreStatement stmt = kept.get(sql);
        if (stmt == null) {
            if (kept.size() >= KEPT_MAX) {
                exec(sql);
                return;
            }
            stmt = (CoreStatement) conn.prepareStatement(sql);
            kept.put(sql, stmt);
        }
        try {
            // Stepped here, not through DB.execute(stmt, null): that one takes the connection's
            // monitor, steps, resets, and our reset came on top (one JNI call more per BEGIN and
            // per COMMIT, i.e. two per write event). None of these statements has parameters.
            int rc = stmt.pointer.safeRunInt(DB::step);
            if ((rc & 0xff) != Codes.SQLITE_DONE && (rc & 0xff) != Codes.SQLITE_ROW) conn.getDatabase().throwex(rc);
            reset(stmt, false);
        } catch (SQLException e) {
            // sqlite-jdbc may have finalized it; prepare it afresh next time.
            kept.remove(sql);
            try {
                ((PreparedStatement) stmt).close();
            } catch (SQLException ignored) {
                // already failing
            }
            throw e;
        }
    }

    /** Runs a trusted single-value query (e.g. a pragma). */
    long queryLong(String sql) throws SQLException {
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /** Runs a trusted query and returns its rows as strings. */
    java.util.List<String[]> queryStrings(String sql, int columns) throws SQLException {
        java.util.List<String[]> out = new java.util.ArrayList<>();
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                String[] row = new String[columns];
                for (int i = 0; i < columns; i++) row[i] = rs.getString(i + 1);
                out.add(row);
            }
        }
        return out;
    }

    PreparedStatement prepare(String sql) throws SQLException {
        return conn.prepareStatement(sql);
    }

    /**
     * Binds {@code values} to all of a statement's parameters and steps it once; true if it
     * stopped on a row. The caller resets the statement when done with it.
     */
    boolean execute(CoreStatement stmt, Object[] values) throws SQLException {
        return conn.getDatabase().execute(stmt, values);
    }

    /** Steps to the next row: true on a row, false when done; an SQLite error throws. */
    boolean step(CoreStatement stmt) throws SQLException {
        int rc = stmt.pointer.safeRunInt(DB::step);
        return switch (rc & 0xff) {
            case Codes.SQLITE_ROW -> true;
            case Codes.SQLITE_DONE -> false;
            default -> {
                conn.getDatabase().throwex(rc);
                yield false;
            }
        };
    }

    /** The current row's values: null, Long, Double, String or byte[]. */
    Object[] row(CoreStatement stmt, int width) throws SQLException {
        return stmt.pointer.safeRun((d, p) -> {
            Object[] row = new Object[width];
            for (int i = 0; i < width; i++) {
                row[i] = switch (d.column_type(p, i)) {
                    case Codes.SQLITE_INTEGER -> d.column_long(p, i);
                    case Codes.SQLITE_FLOAT -> d.column_double(p, i);
                    case Codes.SQLITE_NULL -> null;
                    case Codes.SQLITE_BLOB -> {
                        byte[] b = d.column_blob(p, i);
                        yield b == null ? new byte[0] : b;
                    }
                    default -> d.column_text(p, i);
                };
            }
            return row;
        });
    }

    /** The statement's result column names (none for a statement without results). */
    java.util.List<String> columnNames(CoreStatement stmt) throws SQLException {
        return stmt.pointer.safeRun((d, p) -> {
            int n = d.column_count(p);
            if (n == 0) return java.util.List.of();
            String[] names = new String[n];
            for (int i = 0; i < n; i++) names[i] = d.column_name(p, i);
            return java.util.List.of(names);
        });
    }

    /** Makes a statement ready to run again (and drops its bindings' copies if {@code clearBindings}). */
    void reset(CoreStatement stmt, boolean clearBindings) throws SQLException {
        stmt.pointer.safeRunInt((d, p) -> {
            d.reset(p);
            return clearBindings ? d.clear_bindings(p) : 0;
        });
    }

    /** Rows changed by all statements since the connection opened (sqlite3_total_changes). */
    long totalChanges() throws SQLException {
        return conn.getDatabase().total_changes();
    }

    /** Aborts the statement running now (sqlite3_interrupt); safe from another thread. */
    void interrupt() throws SQLException {
        conn.getDatabase().interrupt();
    }

    /** Copies the database with SQLite's online backup API. */
    void backupTo(Path target) throws SQLException {
        int rc = conn.getDatabase().backup("main", target.toAbsolutePath().toString(), null);
        if (rc != 0) throw new SQLException("backup failed with SQLite code " + rc);
    }

    StorageException translate(SQLException e) {
        return SqliteErrors.translate(e, options.maxDatabaseBytes());
    }

    boolean isClosed() {
        try {
            return conn.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    @Override
    public void close() {
        for (CoreStatement stmt : kept.values()) {
            try {
                ((PreparedStatement) stmt).close();
            } catch (SQLException ignored) {
                // the connection closes next
            }
        }
        kept.clear();
        try {
            // The checkpoint SQLite runs at close must sync the WAL before it writes the database.
            if (unsyncedFreshWal) exec("PRAGMA synchronous = NORMAL");
            conn.close();
        } catch (SQLException e) {
            throw translate(e);
        }
    }
}
