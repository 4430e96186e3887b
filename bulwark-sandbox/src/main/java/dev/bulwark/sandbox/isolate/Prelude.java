package dev.bulwark.sandbox.isolate;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The Web API prelude (built from {@code src/prelude}, see its README) as a script source. */
final class Prelude {
    static final String RESOURCE = "/dev/bulwark/sandbox/prelude/prelude.js";

    private Prelude() {}

    static String source() {
        try (InputStream in = Prelude.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("prelude missing from the class path: " + RESOURCE);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
