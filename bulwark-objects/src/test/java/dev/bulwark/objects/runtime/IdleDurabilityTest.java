package dev.bulwark.objects.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.isolate.ObjectStore.Database;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 while an object's connection is closed and opened again between its turns (the idle
 * sweep at 1 ms, in {@link IdleDurabilityChild}): every acknowledged turn is there afterwards and
 * none is torn. Three kills on the same database.
 */
class IdleDurabilityTest {

    @TempDir Path dir;

    @Test
    void everyAcknowledgedWriteSurvivesKill9WhileConnectionsCloseAndReopen() throws Exception {
        Random random = new Random();
        long acknowledged = 0;
        for (int round = 0; round < 3; round++) {
            long acked = runAndKill(20 + random.nextInt(150));
            assertThat(acked).as("round %d made progress", round).isGreaterThan(acknowledged);
            acknowledged = acked;
            verify(acknowledged);
        }
    }

    private long runAndKill(long killAfter) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp", System.getProperty("java.class.path"), IdleDurabilityChild.class.getName(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        AtomicLong lastAck = new AtomicLong();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                long start = -1;
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.startsWith("ready ")) {
                        start = Long.parseLong(line.substring(6));
                        lastAck.set(start);
                        ready.complete(null);
                    } else if (line.startsWith("ack ")) {
                        long n = Long.parseLong(line.substring(4));
                        assertThat(n).isEqualTo(lastAck.get() + 1);
                        lastAck.set(n);
                        if (n - start == killAfter) new ProcessBuilder("kill", "-9", Long.toString(child.pid())).start().waitFor();
                    }
                }
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        ready.get(60, TimeUnit.SECONDS);
        reader.get(120, TimeUnit.SECONDS);
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(137);
        return lastAck.get();
    }

    private void verify(long acknowledged) {
        try (SqliteObjectStore store = new SqliteObjectStore(dir, StorageOptions.defaults())) {
            Database db = store.open("w", "C", IdleDurabilityChild.ID);
            List<Long> a = column(db, "SELECT seq FROM a ORDER BY seq");
            List<Long> b = column(db, "SELECT seq FROM b ORDER BY seq");
            long max = a.isEmpty() ? 0 : a.getLast();
            assertThat(max).isBetween(acknowledged, acknowledged + 1);
            List<Long> expected = new ArrayList<>();
            for (long i = 1; i <= max; i++) expected.add(i);
            assertThat(a).isEqualTo(expected);
            assertThat(b).isEqualTo(expected);
            for (long i = 1; i <= max; i++) assertThat(db.get(List.of("k" + i)).getFirst()).as("k%d", i).isNotNull();
            assertThat(db.get(List.of("k" + (max + 1))).getFirst()).isNull();
            db.rollback();
            db.close();
        }
    }

    private static List<Long> column(Database db, String sql) {
        return db.exec(sql, List.of()).rows().stream().map(r -> (Long) r[0]).toList();
    }
}
