package dev.bulwark.objects.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code list()} with random options against a model: a map ordered by the keys' UTF-8 bytes
 * (Cloudflare's order), after random puts, deletes, commits and rollbacks. Seeded, so a failure
 * names the seed that reproduces it.
 */
class KvListPropertyTest {

    /** Characters whose UTF-8 order differs from their UTF-16 order (the emoji sorts last in UTF-8). */
    private static final String[] ALPHABET = {"a", "b", "c", "ab", "\u0000", "é", "\uFFFD", "\uD83D\uDE00", "~", "A"};

    @TempDir Path dir;

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 40);
    }

    private static String randomKey(Random r) {
        StringBuilder sb = new StringBuilder();
        int len = r.nextInt(4);
        for (int i = 0; i < len; i++) sb.append(ALPHABET[r.nextInt(ALPHABET.length)]);
        return sb.toString();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static TreeMap<byte[], byte[]> model() {
        return new TreeMap<>(Arrays::compareUnsigned);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void listMatchesTheModel(long seed) {
        Random r = new Random(seed);
        TreeMap<byte[], byte[]> committed = model();
        TreeMap<byte[], byte[]> current = model();
        try (ObjectStorage s = ObjectStorage.open(dir.resolve("kv-" + seed + ".sqlite"), StorageOptions.defaults())) {
            for (int step = 0; step < 60; step++) {
                int op = r.nextInt(10);
                if (op < 4) {
                    String k = randomKey(r);
                    byte[] v = new byte[] {(byte) step, (byte) r.nextInt()};
                    s.put(k, v);
                    current.put(utf8(k), v);
                } else if (op < 5) {
                    Map<String, byte[]> batch = new LinkedHashMap<>();
                    for (int i = r.nextInt(5); i >= 0; i--) batch.put(randomKey(r), new byte[] {(byte) i});
                    s.put(batch);
                    batch.forEach((k, v) -> current.put(utf8(k), v));
                } else if (op < 6) {
                    String k = randomKey(r);
                    assertThat(s.delete(k)).as("seed %d delete %s", seed, k).isEqualTo(current.remove(utf8(k)) != null);
                } else if (op < 7) {
                    List<String> ks = List.of(randomKey(r), randomKey(r), randomKey(r));
                    long expected = ks.stream().distinct().filter(k -> current.remove(utf8(k)) != null).count();
                    assertThat(s.delete(ks)).as("seed %d", seed).isEqualTo(expected);
                } else if (op < 8) {
                    if (r.nextInt(4) == 0) {
                        s.rollback();
                        current.clear();
                        current.putAll(committed);
                    } else {
                        s.commit();
                        committed.clear();
                        committed.putAll(current);
                    }
                } else {
                    checkList(s, current, r, seed);
                }
            }
            checkList(s, current, r, seed);
        }
    }

    private static void checkList(ObjectStorage s, TreeMap<byte[], byte[]> model, Random r, long seed) {
        String start = null;
        String startAfter = null;
        if (r.nextInt(3) == 0) start = randomKey(r);
        else if (r.nextInt(3) == 0) startAfter = randomKey(r);
        String end = r.nextInt(3) == 0 ? randomKey(r) : null;
        String prefix = r.nextInt(3) == 0 ? randomKey(r) : null;
        boolean reverse = r.nextBoolean();
        Integer limit = r.nextInt(3) == 0 ? 1 + r.nextInt(5) : null;
        KvListOptions o = new KvListOptions(start, startAfter, end, prefix, reverse, limit);

        List<byte[]> expected = new ArrayList<>();
        for (byte[] k : model.keySet()) {
            if (o.start() != null && Arrays.compareUnsigned(k, utf8(o.start())) < 0) continue;
            if (o.startAfter() != null && Arrays.compareUnsigned(k, utf8(o.startAfter())) <= 0) continue;
            if (o.end() != null && Arrays.compareUnsigned(k, utf8(o.end())) >= 0) continue;
            if (o.prefix() != null && !startsWith(k, utf8(o.prefix()))) continue;
            expected.add(k);
        }
        if (reverse) expected = expected.reversed();
        if (limit != null && expected.size() > limit) expected = expected.subList(0, limit);

        List<KvEntry> actual = s.list(o);
        assertThat(actual.stream().map(KvEntry::key).toList()).as("seed %d, %s", seed, o)
                .isEqualTo(expected.stream().map(k -> new String(k, StandardCharsets.UTF_8)).toList());
        for (KvEntry e : actual) {
            assertThat(e.value()).as("seed %d value of %s", seed, e.key()).isEqualTo(model.get(utf8(e.key())));
        }
    }

    private static boolean startsWith(byte[] k, byte[] p) {
        return k.length >= p.length && Arrays.equals(k, 0, p.length, p, 0, p.length);
    }
}
