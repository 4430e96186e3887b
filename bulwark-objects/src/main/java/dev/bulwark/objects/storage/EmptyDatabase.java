package dev.bulwark.objects.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A new object's database file, written from a template instead of created by SQLite. Creating
 * one with SQLite switches it to WAL mode in a rollback-journal transaction (a journal file, its
 * syncs and its deletion) at the object's first event; the template is that empty database, made
 * once per process, so a new object's file is one small write.
 */
final class EmptyDatabase {

    private static volatile byte[] template;

    private EmptyDatabase() {}

    /**
     * Creates {@code file} as an empty database in WAL mode unless it exists. The file appears
     * whole or not at all (written aside, then linked into place), so a crash never leaves a torn
     * one; with {@code sync} it and its directory are synced before this returns.
     */
    static void createIfAbsent(Path file, boolean sync) {
        if (Files.exists(file)) return;
        byte[] bytes = template(file.getParent());
        Path aside = aside(file);
        try {
            try (FileChannel ch = FileChannel.open(aside, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
                if (sync) ch.force(true);
            }
            try {
                Files.createLink(file, aside);
            } catch (FileAlreadyExistsException e) {
                // created meanwhile: keep that one
            }
            if (sync) syncDirectory(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(aside);
            } catch (IOException ignored) {
                // a leftover .new file is harmless
            }
        }
    }

    private static Path aside(Path file) {
        return file.resolveSibling(file.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".new");
    }

    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** The bytes of an empty database as {@link Sqlite} makes it; made once, in {@code dir}. */
    private static byte[] template(Path dir) {
        byte[] t = template;
        if (t != null) return t;
        synchronized (EmptyDatabase.class) {
            if (template != null) return template;
            Path made = aside(dir.resolve("template.sqlite"));
            try {
                new Sqlite(made, StorageOptions.defaults()).close();
                t = Files.readAllBytes(made);
                if (t.length < 100 || t[18] != 2 || t[19] != 2) {
                    throw new IllegalStateException("the empty database is not in WAL mode");
                }
                template = t;
                return t;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                ObjectStorage.deleteStorage(made);
            }
        }
    }
}
