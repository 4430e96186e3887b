package dev.bulwark.objects.runtime;

import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.isolate.ObjectStore.Database;

import java.nio.file.Path;
import java.util.List;

/**
 * Run in a child JVM by {@link IdleDurabilityTest}: one object's turns (two SQL rows and a KV pair
 * each) through the sandbox's store, whose sweep closes the connection after 1 ms of unused
 * storage, and every other turn waits long enough for it to: turns run on a connection opened
 * again as often as not. Prints {@code ack N} only after {@code commit()} returned.
 */
public final class IdleDurabilityChild {
    static final String ID = "cd".repeat(32);

    public static void main(String[] args) throws Exception {
        SqliteObjectStore store = new SqliteObjectStore(Path.of(args[0]), StorageOptions.defaults(), 1);
        Database db = store.open("w", "C", ID);
        db.exec("CREATE TABLE IF NOT EXISTS a (seq INTEGER PRIMARY KEY, pad BLOB)", List.of());
        db.exec("CREATE TABLE IF NOT EXISTS b (seq INTEGER PRIMARY KEY)", List.of());
        db.commit();
        long seq = (Long) db.exec("SELECT coalesce(max(seq), 0) FROM a", List.of()).rows().getFirst()[0];
        db.commit();
        System.out.println("ready " + seq);
        System.out.flush();
        while (true) {
            seq++;
            db.exec("INSERT INTO a VALUES (?, randomblob(300))", List.of(seq));
            db.put(List.of("k" + seq), List.of(new byte[] {(byte) seq}));
            db.exec("INSERT INTO b VALUES (?)", List.of(seq));
            db.commit();
            System.out.println("ack " + seq);
            System.out.flush();
            if (seq % 2 == 0) Thread.sleep(25); // the sweep (every 20 ms) closes the connection
        }
    }
}
