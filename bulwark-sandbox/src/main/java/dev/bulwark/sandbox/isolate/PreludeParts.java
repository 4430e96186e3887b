package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.callback.IJavetDirectCallable;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueString;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The parts of the prelude kept out of the startup snapshot (built by {@code src/prelude/build.mjs}
 * into {@code prelude/parts/NAME.js}): most workers never use them, and every byte of the snapshot
 * costs every isolate about three bytes of RSS and some deserialization time
 * (docs/notes/snapshot.md). The host function {@code preludePart(name)} compiles a part into the
 * calling isolate, once per isolate (the prelude keeps what it returns); its source is read once per
 * process. A part's script evaluates to a function of the prelude internals it needs.
 */
final class PreludeParts {
    /** The parts there are; anything else is refused. */
    static final Set<String> NAMES = Set.of("html-rewriter", "urlpattern", "subtle");
    private static final String DIR = "/dev/bulwark/sandbox/prelude/parts/";
    private static final Map<String, String> SOURCES = new ConcurrentHashMap<>();

    interface Binder {
        void bind(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn) throws JavetException;
    }

    private PreludeParts() {}

    static void install(V8Runtime runtime, Binder binder) throws JavetException {
        binder.bind("preludePart", args -> {
            String name = args.length > 0 && args[0] instanceof V8ValueString s ? s.getValue() : null;
            if (name == null || !NAMES.contains(name)) throw new IllegalArgumentException("no prelude part " + name);
            return runtime.getExecutor(source(name)).setResourceName("bulwark:prelude:" + name).<V8Value>execute();
        });
    }

    static String source(String name) {
        return SOURCES.computeIfAbsent(name, n -> {
            try (InputStream in = PreludeParts.class.getResourceAsStream(DIR + n + ".js")) {
                if (in == null) throw new IllegalStateException("prelude part missing from the class path: " + n);
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
