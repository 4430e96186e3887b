package dev.bulwark.objects.storage;

import java.nio.file.Path;
import java.util.List;

/**
 * Run in a child JVM by {@link DurabilityTest}: writes forever, one event turn per sequence
 * number (two SQL rows and a KV pair, every 7th a chunked value), and prints {@code ack N} only
 * after {@code commit()} returned, which is what the runtime's output gate waits for.
 */
public final class DurabilityChild {

    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        Durability durability = Durability.valueOf(args[1]);
        ObjectStorage s = ObjectStorage.open(file, StorageOptions.defaults().withDurability(durability));
        s.exec("CREATE TABLE IF NOT EXISTS a (seq INTEGER PRIMARY KEY, pad BLOB);"
                + " CREATE TABLE IF NOT EXISTS b (seq INTEGER PRIMARY KEY)", List.of());
        s.commit();
        long seq = (Long) s.exec("SELECT coalesce(max(seq), 0) FROM a", List.of()).next().getFirst();
        System.out.println("ready " + seq);
        System.out.flush();
        while (true) {
            seq++;
            s.exec("INSERT INTO a VALUES (?, randomblob(300))", List.of(seq));
            s.put("k" + seq, seq % 7 == 0 ? new byte[KvStore.INLINE_MAX * 2] : new byte[] {(byte) seq});
            s.exec("INSERT INTO b VALUES (?)", List.of(seq));
            s.commit();
            System.out.println("ack " + seq);
            System.out.flush();
        }
    }
}
