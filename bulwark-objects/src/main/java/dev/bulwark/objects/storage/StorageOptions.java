package dev.bulwark.objects.storage;

/**
 * How an object's storage is opened.
 *
 * @param maxValueBytes    largest KV value (bytes after the JS side serialized it); Cloudflare
 *                         refuses more than 2 MiB, Bulwark stores up to this in chunks; also the
 *                         largest string or blob SQL may hold (SQLITE_LIMIT_LENGTH)
 * @param maxDatabaseBytes the database may not grow past this (enforced by max_page_count)
 * @param durability       what a commit survives
 * @param walCheckpointPages WAL pages after which a commit checkpoints ({@code wal_autocheckpoint}).
 *                         The checkpoint runs inside the commit that crosses the mark and ends with
 *                         an fsync of the database file, so its whole cost lands on one event's
 *                         answer. SQLite's 1,000 (~4 MiB flushed, 4–7 ms here) suits bulk writers
 *                         (one checkpoint per large transaction, not several); 100 suits objects
 *                         whose answers' tail latency matters more than bulk throughput (the node's
 *                         governance session objects: docs/benchmarks.md, "After the fifth
 *                         session's merges"). Durability is the same either way.
 */
public record StorageOptions(long maxValueBytes, long maxDatabaseBytes, Durability durability, int walCheckpointPages) {

    public static final long DEFAULT_MAX_VALUE_BYTES = 32L << 20;
    public static final long DEFAULT_MAX_DATABASE_BYTES = 10_000_000_000L;
    public static final int DEFAULT_WAL_CHECKPOINT_PAGES = 1000;

    public StorageOptions(long maxValueBytes, long maxDatabaseBytes, Durability durability) {
        this(maxValueBytes, maxDatabaseBytes, durability, DEFAULT_WAL_CHECKPOINT_PAGES);
    }

    public StorageOptions {
        if (maxValueBytes < 1 || maxValueBytes > Integer.MAX_VALUE - 1024) {
            throw new IllegalArgumentException("maxValueBytes out of range: " + maxValueBytes);
        }
        if (maxDatabaseBytes < 64 * 1024) {
            throw new IllegalArgumentException("maxDatabaseBytes too small: " + maxDatabaseBytes);
        }
        if (durability == null) throw new IllegalArgumentException("durability is required");
        if (walCheckpointPages < 1 || walCheckpointPages > 1_000_000) {
            throw new IllegalArgumentException("walCheckpointPages out of range: " + walCheckpointPages);
        }
    }

    public static StorageOptions defaults() {
        return new StorageOptions(DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_DATABASE_BYTES, Durability.NORMAL);
    }

    public StorageOptions withDurability(Durability d) {
        return new StorageOptions(maxValueBytes, maxDatabaseBytes, d, walCheckpointPages);
    }

    public StorageOptions withMaxDatabaseBytes(long bytes) {
        return new StorageOptions(maxValueBytes, bytes, durability, walCheckpointPages);
    }

    public StorageOptions withMaxValueBytes(long bytes) {
        return new StorageOptions(bytes, maxDatabaseBytes, durability, walCheckpointPages);
    }

    public StorageOptions withWalCheckpointPages(int pages) {
        return new StorageOptions(maxValueBytes, maxDatabaseBytes, durability, pages);
    }
}
