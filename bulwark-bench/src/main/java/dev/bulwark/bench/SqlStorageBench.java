package dev.bulwark.bench;

import dev.bulwark.objects.storage.ObjectStorage;
import dev.bulwark.objects.storage.SqlCursor;
import dev.bulwark.objects.storage.StorageOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The storage engine's {@code exec} alone, in Java below the isolate boundary: the same
 * statements NodeHarness's {@code sql} mode runs from JS ({@code SELECT ? AS v} and one
 * {@code INSERT}). The difference between the two figures is what crossing into and out of the
 * isolate costs per call (host function call, arguments read and the result built over JNI,
 * the JS cursor).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1)
@State(Scope.Thread)
public class SqlStorageBench {

    private Path dir;
    private ObjectStorage storage;
    private long i;

    @Setup(Level.Trial)
    public void open() throws Exception {
        dir = Files.createTempDirectory("sqlbench");
        storage = ObjectStorage.open(dir.resolve("o.sqlite"), StorageOptions.defaults());
        storage.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)", List.of()).close();
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        storage.close();
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Benchmark
    public Object selectOne() {
        try (SqlCursor c = storage.exec("SELECT ? AS v", List.of(i++))) {
            return c.next();
        }
    }

    @Benchmark
    public Object insert() {
        try (SqlCursor c = storage.exec("INSERT INTO rows (v) VALUES (?)", List.of("r" + i++))) {
            return c.rowsWritten();
        }
    }
}
