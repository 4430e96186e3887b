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
 * Where Javet's 39 MB V8 library lives. Left alone, Javet extracts it into
 * {@code java.io.tmpdir/javet/<pid>/} at every JVM start and never removes it; a node that starts
 * sandboxes would fill the disk. Instead the library is deployed once into a directory the node
 * owns, and every JVM loads it from there.
 */
public final class NativeLibrary {
    private NativeLibrary() {}

    /** Copies the library into {@code dir} if it is not there yet (atomically); returns its path. */
    public static Path deploy(Path dir) throws IOException {
        JavetLibLoader loader = new JavetLibLoader(JSRuntimeType.V8);
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
        try (InputStream in = JavetLibLoader.class.getResourceAsStream(resource)) {
            if (in == null) throw new IOException("Javet's native library is missing from the class path: " + resource);
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    /** Makes this JVM load the library from {@code dir} (deploying it there first if needed). */
    public static void useDirectory(Path dir) throws IOException {
        deploy(dir);
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
}
