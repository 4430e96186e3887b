package dev.bulwark.objects.storage;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A real child process writes and acknowledges each commit, gets {@code kill -9} at a random
 * moment, and after reopening every acknowledged write is there and no transaction is torn.
 * Several kills on the same database (the child resumes where the last one stopped). The long
 * variant: {@code -Dbulwark.durability.kills=25}.
 */
class DurabilityTest {

    @TempDir Path dir;

    @ParameterizedTest
    @EnumSource(Durability.class)
    void everyAcknowledgedWriteSurvivesKill9AndNoTransactionIsTorn(Durability durability) throws Exception {
        int kills = Integer.getInteger("bulwark.durability.kills", 3);
        Path file = dir.resolve("durable.sqlite");
        Random random = new Random(Long.getLong("bulwark.durability.seed", System.nanoTime()));
        long acknowledged = 0;
        for (int round = 0; round < kills; round++) {
            long acked = runAndKill(file, durability, random);
            assertThat(acked).as("round %d made progress", round).isGreaterThan(acknowledged);
            acknowledged = acked;
            verify(file, acknowledged);
        }
    }

    private long runAndKill(Path file, Durability durability, Random random) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp", System.getProperty("java.class.path"),
                DurabilityChild.class.getName(), file.toString(), durability.name())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        AtomicLong lastAck = new AtomicLong();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        // Kill after a random number of acknowledged commits, at a random point inside a turn.
        long killAfter = 20 + random.nextInt(400);
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                long startSeq = -1;
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.startsWith("ready ")) {
                        startSeq = Long.parseLong(line.substring(6));
                        lastAck.set(startSeq);
                        ready.complete(null);
                    } else if (line.startsWith("ack ")) {
                        long n = Long.parseLong(line.substring(4));
                        assertThat(n).isEqualTo(lastAck.get() + 1);
                        lastAck.set(n);
                        if (n - startSeq == killAfter) kill(child);
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        ready.get(60, TimeUnit.SECONDS);
        reader.get(120, TimeUnit.SECONDS); // EOF: the child is dead and every ack it printed is read
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(137);
        return lastAck.get();
    }

    private static void kill(Process child) {
        try {
            new ProcessBuilder("kill", "-9", Long.toString(child.pid())).start().waitFor();
        } catch (IOException | InterruptedException e) {
            child.destroyForcibly(); // SIGKILL too
        }
    }

    private static void verify(Path file, long acknowledged) {
        try (ObjectStorage s = ObjectStorage.open(file, StorageOptions.defaults())) {
            List<Long> a = column(s, "SELECT seq FROM a ORDER BY seq");
            List<Long> b = column(s, "SELECT seq FROM b ORDER BY seq");
            long max = a.isEmpty() ? 0 : a.getLast();
            // Every acknowledged turn is there; at most the one turn in flight committed unacked.
            assertThat(max).isBetween(acknowledged, acknowledged + 1);
            List<Long> expected = new ArrayList<>();
            for (long i = 1; i <= max; i++) expected.add(i);
            assertThat(a).isEqualTo(expected);
            // No torn transaction: both tables and the KV pairs hold exactly the same turns.
            assertThat(b).isEqualTo(expected);
            assertThat(s.get("k" + (max + 1))).isNull();
            for (long i = 1; i <= max; i++) {
                byte[] v = s.get("k" + i);
                assertThat(v).as("k%d", i).isNotNull();
                assertThat(v.length).isEqualTo(i % 7 == 0 ? KvStore.INLINE_MAX * 2 : 1);
            }
            assertThat(SqlTest.all(s.exec("PRAGMA quick_check", List.of()))).containsExactly(List.of("ok"));
        }
    }

    private static List<Long> column(ObjectStorage s, String sql) {
        return SqlTest.all(s.exec(sql, List.of())).stream().map(r -> (Long) r.getFirst()).toList();
    }
}
