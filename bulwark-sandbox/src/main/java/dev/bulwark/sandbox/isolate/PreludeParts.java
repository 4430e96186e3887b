package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.callback.IJavetDirectCallable;
import com.caoccao.javet.interop.executors.IV8Executor;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueString;
import com.caoccao.javet.values.reference.V8Script;

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
    private static final Map<String, byte[]> CODE_CACHES = new ConcurrentHashMap<>();

    interface Binder {
        void bind(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn) throws JavetException;
    }

    private PreludeParts() {}

    static void install(V8Runtime runtime, Binder binder) throws JavetException {
        binder.bind("preludePart", args -> {
            String name = args.length > 0 && args[0] instanceof V8ValueString s ? s.getValue() : null;
            if (name == null || !NAMES.contains(name)) throw new IllegalArgumentException("no prelude part " + name);
            return compile(runtime, name);
        });
    }

    /**
     * Compiles and runs part {@code name} in {@code runtime}, with V8's code cache of the part
     * when this process has one: the first isolate that loads a part compiles it from source and
     * keeps the cache (made right after compiling, before the script runs: bytecode of the part's
     * own source, nothing of the isolate's state); later isolates deserialize it instead of
     * parsing and compiling the part again. V8 checks the cache against the source and its flags
     * and compiles from source when it does not fit.
     */
    private static V8Value compile(V8Runtime runtime, String name) throws JavetException {
        String source = source(name);
        byte[] cache = CODE_CACHES.get(name);
        IV8Executor executor = cache == null ? runtime.getExecutor(source) : runtime.getExecutor(source, cache);
        try (V8Script script = executor.setResourceName("bulwark:prelude:" + name).compileV8Script()) {
            if (cache == null) {
                byte[] made = script.getCachedData();
                if (made != null && made.length > 0) CODE_CACHES.putIfAbsent(name, made);
            }
            return script.execute();
        }
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
