package dev.bulwark.server.node;

import dev.bulwark.server.config.SandboxSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sandbox JVM's AOT cache: used only for the class path it was made for, and never a reason a
 * sandbox fails to start (plain or confined).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SandboxAotCacheTest {
    @TempDir
    Path dir;

    @Test
    void theCacheIsUsedWhileEveryClassPathEntryIsAsItWasWhenTheNodeStarted() throws Exception {
        Path cache = Files.writeString(dir.resolve("sandbox.aot"), "cache");
        Path a = Files.writeString(dir.resolve("a.jar"), "a");
        Path b = Files.writeString(dir.resolve("b.jar"), "b");
        SandboxAotCache c = SandboxAotCache.of(cache, a + File.pathSeparator + b);

        assertThat(c.usable()).contains(cache);
        assertThat(SandboxAotCache.options(c.usable()))
                .containsExactly("-XX:AOTCache=" + cache, "-Xlog:aot=off", "-Xlog:cds=off");
    }

    @Test
    void aJarRebuiltAfterTheNodeStartedTurnsTheCacheOff() throws Exception {
        Path cache = Files.writeString(dir.resolve("sandbox.aot"), "cache");
        Path a = Files.writeString(dir.resolve("a.jar"), "a");
        Path b = Files.writeString(dir.resolve("b.jar"), "b");
        SandboxAotCache c = SandboxAotCache.of(cache, a + File.pathSeparator + b);

        // Same size, another modification time: what `mvn package` leaves when a class changed but not its length.
        Files.setLastModifiedTime(b, FileTime.fromMillis(Files.getLastModifiedTime(b).toMillis() + 2_000));
        assertThat(c.usable()).isEmpty();
        assertThat(SandboxAotCache.options(c.usable())).isEmpty();
    }

    @Test
    void aJarOfAnotherSizeOrAMissingJarTurnsTheCacheOff() throws Exception {
        Path cache = Files.writeString(dir.resolve("sandbox.aot"), "cache");
        Path a = Files.writeString(dir.resolve("a.jar"), "a");
        Path b = Files.writeString(dir.resolve("b.jar"), "b");
        SandboxAotCache resized = SandboxAotCache.of(cache, a + File.pathSeparator + b);
        FileTime t = Files.getLastModifiedTime(a);
        Files.writeString(a, "a, rebuilt");
        Files.setLastModifiedTime(a, t);
        assertThat(resized.usable()).isEmpty();

        SandboxAotCache removed = SandboxAotCache.of(cache, b.toString());
        Files.delete(b);
        assertThat(removed.usable()).isEmpty();
    }

    @Test
    void noCacheFileOrNoPropertyMeansNoOption() throws Exception {
        Path a = Files.writeString(dir.resolve("a.jar"), "a");
        assertThat(SandboxAotCache.of(dir.resolve("missing.aot"), a.toString()).usable()).isEmpty();
        assertThat(SandboxAotCache.none().usable()).isEmpty();
        assertThat(SandboxAotCache.options(Optional.empty())).isEmpty();
    }

    @Test
    void aSandboxGivenACacheItCannotUseStartsAnyway() throws Exception {
        Path cache = Files.write(dir.resolve("sandbox.aot"), new byte[]{1, 2, 3, 4, 5, 6, 7, 8});
        assertThat(startsWith(SandboxSettings.Confine.OFF, cache)).isTrue();
    }

    @Test
    void aConfinedSandboxSeesTheCacheFileInItsViewAndStartsWithAnUnusableOne() throws Exception {
        Confinement here = Confinement.detect(SandboxSettings.Confine.AUTO, "bulwark-aot-" + ProcessHandle.current().pid());
        boolean namespaces = here.confined();
        here.close();
        org.junit.jupiter.api.Assumptions.assumeTrue(namespaces, "this kernel refuses the sandbox namespaces");
        Path cache = Files.write(dir.resolve("sandbox.aot"), new byte[]{9, 9, 9, 9, 9, 9, 9, 9});
        assertThat(startsWith(SandboxSettings.Confine.AUTO, cache)).isTrue();
    }

    /**
     * Starts a sandbox with the cache and waits for its Ready; for a confined one, also checks that the
     * file is at its own path inside the sandbox's root (where its JVM opens it).
     */
    private boolean startsWith(SandboxSettings.Confine mode, Path cache) throws Exception {
        Confinement confinement = Confinement.detect(mode, "bulwark-aot-" + ProcessHandle.current().pid());
        Path run = Files.createDirectories(dir.resolve("run"));
        Path data = Files.createDirectories(dir.resolve("data"));
        SandboxAotCache aot = SandboxAotCache.of(cache, System.getProperty("java.class.path"));
        assertThat(aot.usable()).contains(cache);
        SandboxLauncher launcher = new SandboxLauncher(run, data, 64, 1, 1, 1024, List.of(),
                SandboxSettings.DEFAULT_OBJECT_IDLE_MS, SandboxSettings.DEFAULT_OBJECT_STORAGE_IDLE_MS, confinement, aot,
                dev.bulwark.sandbox.isolate.Dormancy.OFF,
                dev.bulwark.objects.storage.StorageOptions.defaults());
        try (SandboxProcess s = SandboxProcess.start("aot-1", "alpha", launcher, m -> {}, x -> {})) {
            assertThat(s.isAlive()).isTrue();
            assertThat(Files.readString(Path.of("/proc/" + s.pid() + "/cmdline")).split("\0"))
                    .contains("-XX:AOTCache=" + cache);
            if (confinement.confined()) {
                assertThat(Files.readAllBytes(Path.of("/proc/" + s.pid() + "/root" + cache)))
                        .isEqualTo(Files.readAllBytes(cache));
            }
            return true;
        } finally {
            launcher.killAll();
            launcher.release("aot-1");
            confinement.close();
        }
    }
}
