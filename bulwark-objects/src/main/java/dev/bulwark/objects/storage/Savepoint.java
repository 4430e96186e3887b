package dev.bulwark.objects.storage;

/**
 * A savepoint nested in the implicit transaction (for the async {@code transaction()} of the JS
 * API; {@link ObjectStorage#transactionSync} uses it too). End it exactly once, innermost first.
 */
public final class Savepoint {

    private final Transactions tx;
    private final int level;
    private boolean ended;

    Savepoint(Transactions tx, int level) {
        this.tx = tx;
        this.level = level;
    }

    /** Keeps the savepoint's writes as part of the enclosing transaction. */
    public void release() {
        checkNotEnded();
        tx.release(level);
        ended = true;
    }

    /** Undoes every write made since the savepoint began. */
    public void rollback() {
        checkNotEnded();
        tx.rollbackTo(level);
        ended = true;
    }

    private void checkNotEnded() {
        if (ended) throw new StorageException(StorageException.Kind.STATE, "savepoint already ended");
    }
}
