package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.enums.JSRuntimeType;
import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.loader.IJavetLibLoadingListener;
import com.caoccao.javet.interop.loader.JavetLibLoader;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Where Javet's 45 MB V8 library (the i18n build) and ICU's data file live. Left alone, Javet
 * extracts its library into {@code java.io.tmpdir/javet/<pid>/} at every JVM start and never
 * removes it; a node that starts sandboxes would fill the disk. Instead both are deployed once
 * into a directory the node owns, and every JVM loads them from there.
 */
public final class NativeLibrary {
    private NativeLibrary() {}

    /** The V8 build we run: with ICU, so Intl and Unicode property escapes exist as in workerd. */
    static final JSRuntimeType RUNTIME = JSRuntimeType.V8I18n;

    /** Where this JVM loads from, once {@link #useDirectory} was called. */
    private static volatile Path directory;

    /**
     * The library as this JVM first inflated it from Javet's jar: later directories (a node per
     * test, nodes an application starts one after another) copy it instead of inflating 45 MB again
     * (~0.4 s of CPU each), as {@link IcuData} does with its data.
     */
    private static volatile KeptCopy inflated;

    /**
     * Copies the library and ICU's data into {@code dir} if they are not there yet (atomically);
     * returns the library's path.
     */
    public static Path deploy(Path dir) throws IOException {
        IcuData.deploy(dir);
        JavetLibLoader loader = new JavetLibLoader(RUNTIME);
        String fileName;
        String resource;
        try {
            fileName = loader.getLibFileName();
            resource = loader.getResourceFileName();
        } catch (JavetException e) {
            throw new IOException("cannot name Javet's native library", e);
        }
        Files.createDirectories(dir);
        Path target = dir.resolve(fileName);
        if (Files.isRegularFile(target) && Files.size(target) > 0) return target;
        Path tmp = Files.createTempFile(dir, fileName, ".part");
        try {
            KeptCopy known = inflated;
            if (known != null && known.copyTo(tmp)) {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return target;
            }
            try (InputStream in = JavetLibLoader.class.getResourceAsStream(resource)) {
                if (in == null) throw new IOException("Javet's native library is missing from the class path: " + resource);
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            inflated = KeptCopy.of(target); // the first, or one whose kept copy is no longer whole
            if (known != null) known.close();
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }

    /** Makes this JVM load the library from {@code dir} (deploying it there first if needed). */
    public static void useDirectory(Path dir) throws IOException {
        deploy(dir);
        directory = dir;
        File libDir = dir.toFile();
        JavetLibLoader.setLibLoadingListener(new IJavetLibLoadingListener() {
            @Override
            public File getLibPath(JSRuntimeType type) {
                return libDir;
            }

            @Override
            public boolean isDeploy(JSRuntimeType type) {
                return false;
            }
        });
    }

    /**
     * ICU's data file for this JVM: in the directory given to {@link #useDirectory}, or else (tests,
     * embedded use) in {@code java.io.tmpdir/bulwark-icu/}, shared by every JVM that uses it.
     */
    static Path icuDataFile() throws IOException {
        Path dir = directory;
        if (dir != null) {
            Path file = dir.resolve(IcuData.FILE_NAME);
            if (!IcuData.isValid(file)) IcuData.deploy(dir);
            return file;
        }
        return IcuData.deploy(Path.of(System.getProperty("java.io.tmpdir"), "bulwark-icu"));
    }
}
