package dev.bulwark.bench;

import dev.bulwark.objects.storage.ObjectStorage;
import dev.bulwark.objects.storage.StorageOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Wall time of a new object's storage alone: open a database file that does not exist, run a
 * constructor's CREATE TABLE, commit (the output gate), and close; {@code rounds} rounds of
 * {@code n} objects, the median per object printed for each round.
 *
 * <pre>
 * $J --enable-native-access=ALL-UNNAMED -cp "$CP" dev.bulwark.bench.NewObjectWall [rounds] [n]
 * </pre>
 */
public final class NewObjectWall {
    private NewObjectWall() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path dir = Files.createTempDirectory("newobjectwall");
        long id = 0;
        StringBuilder out = new StringBuilder("new object (open + CREATE TABLE + commit + close), median us per round:");
        for (int r = 0; r < rounds + 1; r++) {
            long[] t = new long[n];
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                try (ObjectStorage s = ObjectStorage.open(dir.resolve((id++) + ".sqlite"), StorageOptions.defaults())) {
                    s.exec("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, v TEXT)", List.of());
                    s.commit();
                }
                t[i] = System.nanoTime() - t0;
            }
            java.util.Arrays.sort(t);
            if (r > 0) out.append(String.format(Locale.ROOT, " %.0f", t[n / 2] / 1e3)); // round 0: warm-up
        }
        System.out.println(out);
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
