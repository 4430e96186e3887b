package dev.bulwark.server.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes project files for tests. */
final class Fixtures {
    private Fixtures() {
    }

    static Path write(Path dir, String relative, String content) {
        return write(dir, relative, content.getBytes(StandardCharsets.UTF_8));
    }

    static Path write(Path dir, String relative, byte[] content) {
        try {
            Path path = dir.resolve(relative);
            Files.createDirectories(path.getParent());
            return Files.write(path, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies the class-path resource {@code /config/<resource>} to {@code dir/<as>}. */
    static Path copyResource(String resource, Path dir, String as) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/config/" + resource)) {
            if (in == null) throw new IllegalArgumentException("no resource /config/" + resource);
            return write(dir, as, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A minimal project: wrangler.jsonc with {@code json} as its content, and an index.js main module. */
    static Path project(Path dir, String json) {
        write(dir, "wrangler.jsonc", json);
        write(dir, "index.js", "export default { fetch() { return new Response('ok'); } };\n");
        return dir;
    }
}
