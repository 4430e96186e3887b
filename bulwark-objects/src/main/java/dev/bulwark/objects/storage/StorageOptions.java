package dev.bulwark.objects.storage;

/**
 * How an object's storage is opened.
 *
 * @param maxValueBytes    largest KV value (bytes after the JS side serialized it); Cloudflare
 *                         refuses more than 2 MiB, Bulwark stores up to this in chunks; also the
 *                         largest string or blob SQL may hold (SQLITE_LIMIT_LENGTH)
 * @param maxDatabaseBytes the database may not grow past this (enforced by max_page_count)
 * @param durability       what a commit survives
 */
public record StorageOptions(long maxValueBytes, long maxDatabaseBytes, Durability durability) {

    public static final long DEFAULT_MAX_VALUE_BYTES = 32L << 20;
    public static final long DEFAULT_MAX_DATABASE_BYTES = 10_000_000_000L;

    public StorageOptions {
        if (maxValueBytes < 1 || maxValueBytes > Integer.MAX_VALUE - 1024) {
            throw new IllegalArgumentException("maxValueBytes out of range: " + maxValueBytes);
        }
        if (maxDatabaseBytes < 64 * 1024) {
            throw new IllegalArgumentException("maxDatabaseBytes too small: " + maxDatabaseBytes);
        }
        if (durability == null) throw new IllegalArgumentException("durability is required");
    }

    public static StorageOptions defaults() {
        return new StorageOptions(DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_DATABASE_BYTES, Durability.NORMAL);
    }

    public StorageOptions withDurability(Durability d) {
        return new StorageOptions(maxValueBytes, maxDatabaseBytes, d);
    }

    public StorageOptions withMaxDatabaseBytes(long bytes) {
        return new StorageOptions(maxValueBytes, bytes, durability);
    }

    public StorageOptions withMaxValueBytes(long bytes) {
        return new StorageOptions(bytes, maxDatabaseBytes, durability);
    }
}
