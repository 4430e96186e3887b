package dev.bulwark.objects.storage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Rough costs for docs/notes/storage.md (a main, not a test: tests do not assert timings).
 * Run: java --enable-native-access=ALL-UNNAMED -cp target/classes:target/test-classes:sqlite-jdbc.jar
 *      dev.bulwark.objects.storage.StorageBench target/bench
 */
public final class StorageBench {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "target/bench");
        Files.createDirectories(dir);
        for (int round = 0; round < 2; round++) {
            System.out.println("round " + round);
            for (Durability d : Durability.values()) run(dir, d);
        }
    }

    private static void run(Path dir, Durability d) {
        Path file = dir.resolve("bench-" + d + ".sqlite");
        ObjectStorage.deleteStorage(file);
        try (ObjectStorage s = ObjectStorage.open(file, StorageOptions.defaults().withDurability(d))) {
            s.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", List.of());
            s.commit();
            int turns = 500;
            long t0 = System.nanoTime();
            for (int i = 0; i < turns; i++) {
                s.exec("INSERT INTO t (v) VALUES (?)", List.of("value " + i));
                s.commit();
            }
            long oneInsertTurn = (System.nanoTime() - t0) / turns;

            t0 = System.nanoTime();
            for (int i = 0; i < 10_000; i++) s.exec("INSERT INTO t (v) VALUES (?)", List.of("bulk " + i));
            s.commit();
            long bulk = System.nanoTime() - t0;

            t0 = System.nanoTime();
            for (int i = 0; i < turns; i++) {
                s.put("counter", new byte[] {(byte) i});
                s.commit();
            }
            long kvPutTurn = (System.nanoTime() - t0) / turns;

            int reads = 20_000;
            t0 = System.nanoTime();
            for (int i = 0; i < reads; i++) s.get("counter");
            long kvGet = (System.nanoTime() - t0) / reads;

            t0 = System.nanoTime();
            for (int i = 0; i < reads; i++) {
                SqlCursor c = s.exec("SELECT v FROM t WHERE id = ?", List.of((long) (1 + i % 500)));
                c.next();
                c.close();
            }
            s.commit();
            long select = (System.nanoTime() - t0) / reads;

            t0 = System.nanoTime();
            for (int i = 0; i < 100; i++) {
                try (ObjectStorage o = ObjectStorage.open(dir.resolve("new-" + i + ".sqlite"), StorageOptions.defaults()
                        .withDurability(d))) {
                    o.put("k", new byte[] {1});
                    o.commit();
                }
            }
            long newObject = (System.nanoTime() - t0) / 100;
            for (int i = 0; i < 100; i++) ObjectStorage.deleteStorage(dir.resolve("new-" + i + ".sqlite"));

            System.out.printf("%-6s turn(1 INSERT+commit) %6.1f us | 10k INSERTs+commit %6.1f ms (%.0f rows/s)"
                            + " | turn(KV put+commit) %6.1f us | KV get %5.1f us | SELECT by id %5.1f us"
                            + " | new object open+put+commit+close %6.1f us%n",
                    d, oneInsertTurn / 1e3, bulk / 1e6, 10_000 / (bulk / 1e9), kvPutTurn / 1e3, kvGet / 1e3,
                    select / 1e3, newObject / 1e3);
        }
    }
}
