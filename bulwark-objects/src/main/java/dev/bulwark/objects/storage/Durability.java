package dev.bulwark.objects.storage;

/** How far a committed transaction survives. Both run SQLite in WAL mode. */
public enum Durability {
    /**
     * {@code synchronous=NORMAL}: a commit is in the WAL file (the OS page cache) before
     * {@code commit()} returns, so it survives {@code kill -9} of the process; a power loss or
     * kernel crash can lose the last commits (never corrupt the database).
     */
    NORMAL,
    /** {@code synchronous=FULL}: the WAL is fsynced at every commit, so commits survive power loss. */
    FULL
}
