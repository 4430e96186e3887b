package dev.bulwark.objects.storage;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The implicit transaction that coalesces an event turn's writes, and the savepoints nested in
 * it. The first operation opens it; {@link #commit()} (the runtime's output gate) makes it durable.
 *
 * <p>Some SQLite errors (SQLITE_FULL, I/O errors, an interrupted write) may roll back the whole
 * transaction on their own. After such an error we resynchronise: the turn's writes are then gone,
 * so the transaction is marked lost and the next {@link #commit()} fails instead of letting the
 * runtime acknowledge writes that were never made durable.
 */
final class Transactions {

    private final Sqlite db;
    private final List<Runnable> onRollback = new ArrayList<>();
    private boolean open;
    private int depth;
    private String lost;

    Transactions(Sqlite db) {
        this.db = db;
    }

    void onRollback(Runnable r) {
        onRollback.add(r);
    }

    boolean isOpen() {
        return open;
    }

    int depth() {
        return depth;
    }

    /** No transaction or savepoint is open and no lost one waits to fail the next commit. */
    boolean settled() {
        return !open && depth == 0 && lost == null;
    }

    void ensureOpen() {
        if (lost != null) throw new StorageException(StorageException.Kind.STATE, lost);
        if (open) return;
        try {
            db.run("BEGIN IMMEDIATE");
            open = true;
        } catch (SQLException e) {
            throw db.translate(e);
        }
    }

    void commit() {
        if (depth > 0) {
            throw new StorageException(StorageException.Kind.STATE, "commit() inside transactionSync()");
        }
        if (lost != null) {
            String why = lost;
            lost = null;
            throw new StorageException(StorageException.Kind.STATE, why);
        }
        if (!open) return;
        try {
            db.run("COMMIT");
            open = false;
        } catch (SQLException e) {
            StorageException err = db.translate(e);
            rollback();
            throw err;
        }
        try {
            db.committed();
        } catch (SQLException e) {
            throw db.translate(e); // the commit itself stands
        }
    }

    /** Drops everything written since the last commit (also a lost marker). Never throws SQL errors. */
    void rollback() {
        lost = null;
        depth = 0;
        if (open) {
            open = false;
            try {
                db.run("ROLLBACK");
            } catch (SQLException e) {
                // SQLite already rolled it back (e.g. after SQLITE_FULL): nothing left to undo.
            }
        }
        onRollback.forEach(Runnable::run);
    }

    Savepoint savepoint() {
        ensureOpen();
        String name = "_bw_sp" + depth;
        try {
            db.run("SAVEPOINT " + name);
        } catch (SQLException e) {
            throw afterError(db.translate(e));
        }
        depth++;
        return new Savepoint(this, depth);
    }

    void release(int level) {
        checkLevel(level);
        try {
            db.run("RELEASE _bw_sp" + (level - 1));
            depth--;
        } catch (SQLException e) {
            throw afterError(db.translate(e));
        }
    }

    void rollbackTo(int level) {
        checkLevel(level);
        String name = "_bw_sp" + (level - 1);
        try {
            db.run("ROLLBACK TO " + name);
            db.run("RELEASE " + name);
            depth--;
        } catch (SQLException e) {
            throw afterError(db.translate(e));
        }
        onRollback.forEach(Runnable::run);
    }

    private void checkLevel(int level) {
        if (level != depth) {
            throw new StorageException(StorageException.Kind.STATE,
                    "savepoints must be ended innermost first (ending level " + level + ", open " + depth + ")");
        }
    }

    /**
     * Called with every error a statement raised inside the transaction. Most SQL errors
     * (constraint, syntax) undo only their statement, but some end the whole transaction: probe
     * with BEGIN, which fails only while a transaction is still open.
     */
    StorageException afterError(StorageException e) {
        // Refusals before execution cannot have touched the transaction; anything SQLite ran may
        // have (SQLITE_FULL, I/O errors, an interrupted write all roll the transaction back).
        if (!open || e.kind() == StorageException.Kind.AUTH || e.kind() == StorageException.Kind.RANGE
                || e.kind() == StorageException.Kind.TYPE) {
            return e;
        }
        try {
            db.run("BEGIN IMMEDIATE");
        } catch (SQLException stillOpen) {
            return e; // "cannot start a transaction within a transaction": our writes are intact
        }
        // The transaction was gone: undo the probe and remember that this turn's writes are lost.
        try {
            db.run("ROLLBACK");
        } catch (SQLException ignored) {
            // nothing to undo
        }
        open = false;
        depth = 0;
        lost = "the writes of this event were rolled back after an earlier error (" + e.getMessage() + ")";
        onRollback.forEach(Runnable::run);
        return e;
    }
}
