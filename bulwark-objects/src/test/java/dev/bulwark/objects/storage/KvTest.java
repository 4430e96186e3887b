package dev.bulwark.objects.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvTest {

    @TempDir Path dir;
    ObjectStorage s;

    @BeforeEach
    void open() {
        s = ObjectStorage.open(dir.resolve("o.sqlite"), StorageOptions.defaults());
    }

    @AfterEach
    void close() {
        s.close();
    }

    private ObjectStorage reopen() {
        s.close();
        s = ObjectStorage.open(dir.resolve("o.sqlite"), StorageOptions.defaults());
        return s;
    }

    @Test
    void aNewObjectHasNoKeysAndNoAlarmAndNoReservedTablesYet() {
        assertThat(s.get("k")).isNull();
        assertThat(s.list(KvListOptions.all())).isEmpty();
        assertThat(s.delete("k")).isFalse();
        assertThat(s.getAlarm()).isEmpty();
        assertThat(SqlTest.all(s.exec("SELECT name FROM sqlite_master", List.of()))).isEmpty();
    }

    @Test
    void putGetDeleteSingle() {
        s.put("", new byte[0]);
        s.put("k", new byte[] {1});
        s.put("k", new byte[] {2});
        assertThat(s.get("k")).containsExactly(2);
        assertThat(s.get("")).isEmpty();
        assertThat(s.delete("k")).isTrue();
        assertThat(s.delete("k")).isFalse();
        assertThat(s.get("k")).isNull();
    }

    @Test
    void batchGetReturnsOnlyExistingKeysInTheOrderAsked() {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("b", new byte[] {2});
        entries.put("a", new byte[] {1});
        s.put(entries);
        var got = s.get(List.of("z", "b", "a"));
        assertThat(got.keySet()).containsExactly("b", "a");
        assertThat(got.get("a")).containsExactly(1);
        assertThat(s.delete(List.of("a", "b", "c"))).isEqualTo(2);
    }

    @Test
    void batchesAreLimitedTo128KeysAsInWorkers() {
        List<String> keys = IntStream.range(0, 129).mapToObj(i -> "k" + i).toList();
        Map<String, byte[]> entries = new LinkedHashMap<>();
        keys.forEach(k -> entries.put(k, new byte[] {1}));
        assertThatThrownBy(() -> s.get(keys)).hasMessage("Maximum number of keys is 128.")
                .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.RANGE);
        assertThatThrownBy(() -> s.put(entries)).hasMessage("Maximum number of keys is 128.");
        assertThatThrownBy(() -> s.delete(keys)).hasMessage("Maximum number of keys is 128.");
        assertThat(s.get(keys.subList(0, 128))).isEmpty();
        entries.remove("k128");
        s.put(entries);
        assertThat(s.get(keys.subList(0, 128))).hasSize(128);
        assertThat(s.delete(keys.subList(0, 128))).isEqualTo(128);
    }

    @Test
    void keysAreLimitedTo2048Utf8Bytes() {
        String ok = "é".repeat(1024); // 2048 bytes
        s.put(ok, new byte[] {1});
        assertThat(s.get(ok)).containsExactly(1);
        assertThatThrownBy(() -> s.put(ok + "a", new byte[] {1})).hasMessage("Keys cannot be larger than 2048 bytes.")
                .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.RANGE);
        assertThatThrownBy(() -> s.get(ok + "a")).hasMessage("Keys cannot be larger than 2048 bytes.");
    }

    @Test
    void valuesUpToTheConfiguredMaximumAreStoredInChunksAndComeBackWhole() throws Exception {
        Random r = new Random(1);
        byte[] big = new byte[5 * KvStore.CHUNK + 123];
        r.nextBytes(big);
        byte[] medium = new byte[KvStore.INLINE_MAX + 1];
        r.nextBytes(medium);
        s.put("big", big);
        s.put("medium", medium);
        s.put("small", new byte[] {9});
        assertThat(s.get("big")).isEqualTo(big);
        s.commit();
        reopen();
        assertThat(s.get("big")).isEqualTo(big);
        assertThat(s.get("medium")).isEqualTo(medium);
        assertThat(s.list(KvListOptions.all()).stream().map(KvEntry::key)).containsExactly("big", "medium", "small");
        assertThat(s.list(KvListOptions.all()).getFirst().value()).isEqualTo(big);
        // Overwriting a chunked value with a small one leaves no chunks behind.
        s.put("big", new byte[] {1});
        s.delete("medium");
        s.commit();
        assertThat(s.get("big")).containsExactly(1);
        s.close();
        try (Sqlite raw = new Sqlite(dir.resolve("o.sqlite"), StorageOptions.defaults())) {
            assertThat(raw.queryLong("SELECT count(*) FROM _bw_kv_chunk")).isZero();
        }
        reopen();
    }

    @Test
    void theMaximumValueSizeIsConfigurableAndEnforced(@TempDir Path d2) {
        try (ObjectStorage small = ObjectStorage.open(d2.resolve("s.sqlite"),
                StorageOptions.defaults().withMaxValueBytes(1000))) {
            small.put("ok", new byte[1000]);
            assertThatThrownBy(() -> small.put("no", new byte[1001]))
                    .hasMessage("Values cannot be larger than 1000 bytes.")
                    .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.RANGE);
        }
    }

    @Test
    void listOptionsAreValidatedAsInWorkers() {
        assertThatThrownBy(() -> s.list(new KvListOptions("a", "b", null, null, false, null)))
                .hasMessage("list() cannot be called with both start and startAfter values.")
                .extracting(e -> ((StorageException) e).kind()).isEqualTo(StorageException.Kind.TYPE);
        assertThatThrownBy(() -> s.list(new KvListOptions(null, null, null, null, false, 0)))
                .hasMessage("List limit must be positive.");
    }

    @Test
    void listOrdersByUtf8BytesNotUtf16() {
        // In UTF-16 the emoji's surrogates (D83D ...) sort before U+FFFD; in UTF-8 (F0 ...) after
        // it (EF BF BD). Cloudflare orders by UTF-8.
        s.put("\uD83D\uDE00", new byte[] {1});
        s.put("\uFFFD", new byte[] {2});
        s.put("z", new byte[] {3});
        assertThat(s.list(KvListOptions.all()).stream().map(KvEntry::key))
                .containsExactly("z", "\uFFFD", "\uD83D\uDE00");
    }

    @Test
    void alarmsAreSetReplacedAndDeleted() {
        s.setAlarm(1000);
        s.setAlarm(2000);
        s.commit();
        assertThat(reopen().getAlarm()).hasValue(2000);
        s.deleteAlarm();
        s.commit();
        assertThat(reopen().getAlarm()).isEmpty();
    }

    @Test
    void tenThousandPutsInOneTurnCommitTogether() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            keys.add(String.format("k%05d", i));
            s.put(keys.getLast(), new byte[] {(byte) i});
        }
        s.commit();
        assertThat(reopen().list(new KvListOptions(null, null, null, "k", true, 3)).stream().map(KvEntry::key))
                .containsExactly("k09999", "k09998", "k09997");
    }
}
