package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueString;
import com.caoccao.javet.values.reference.V8Script;
import com.caoccao.javet.values.reference.V8ValueArray;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValueObject;
import dev.bulwark.sandbox.worker.Compatibility;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code node:*} built-in modules of one worker: {@code node.js} (built from
 * {@code src/prelude/src/node}) evaluated in the worker's isolate before any of its code, only when
 * its compatibility flags ask for Node.js (see {@link Compatibility#nodeMode()}). Which names exist
 * and how a specifier maps to one is decided in JavaScript ({@code resolve}), so the list lives in
 * one place.
 */
final class NodeModules implements AutoCloseable {
    static final String RESOURCE = "/dev/bulwark/sandbox/prelude/node.js";
    private static volatile String source;
    private static volatile byte[] codeCache;

    private final V8ValueObject api;
    private final Compatibility.NodeMode mode;
    private final List<String> names;

    private NodeModules(V8ValueObject api, Compatibility.NodeMode mode, List<String> names) {
        this.api = api;
        this.mode = mode;
        this.names = names;
    }

    /** Evaluates node.js in the isolate (it also defines the v2 globals); null when Node.js is off. */
    static NodeModules load(V8Runtime runtime, V8ValueObject jsRuntime, Compatibility compatibility, V8ValueObject env)
            throws JavetException {
        Compatibility.NodeMode mode = compatibility.nodeMode();
        String modeName = switch (mode) {
            case NONE -> null;
            case ALS -> "als";
            case V1 -> "v1";
            case V2 -> "v2";
        };
        if (modeName == null) return null;
        byte[] cache = codeCache;
        try (V8Script script = runtime.getExecutor(source(), cache).setResourceName("bulwark:node").compileV8Script();
             V8ValueFunction init = script.execute(true);
             V8ValueObject internals = jsRuntime.get("nodeInternals");
             V8ValueObject options = runtime.createV8ValueObject()) {
            options.set("mode", modeName);
            if (compatibility.processEnvPopulated()) options.set("env", env);
            else options.setNull("env");
            options.set("nodeOs", compatibility.nodeOs());
            V8ValueObject api = init.call(null, internals, options);
            if (compatibility.nodeGlobalTimers()) {
                try (V8ValueObject timers = api.invoke("module", "node:timers")) {
                    jsRuntime.invokeVoid("installNodeGlobalTimers", timers);
                }
            }
            List<String> names = new ArrayList<>();
            try (V8ValueArray list = api.get("names")) {
                for (int i = 0; i < list.getLength(); i++) names.add(list.getString(i));
            }
            // V8's code cache of node.js, made once per process after its first run (so it holds the
            // functions init compiled): later workers skip most of parsing and compiling it.
            if (cache == null) codeCache = script.getCachedData();
            return new NodeModules(api, mode, List.copyOf(names));
        }
    }

    /** The built-in module a specifier names ({@code node:x}; a bare {@code x} under v2), or null. */
    String resolve(String specifier) throws JavetException {
        try (V8Value v = api.invoke("resolve", specifier)) {
            return v instanceof V8ValueString s ? s.getValue() : null;
        }
    }

    /** The exports of a built-in module: an object whose own properties are its export names. */
    V8ValueObject exports(String name) throws JavetException {
        return api.invoke("module", name);
    }

    Compatibility.NodeMode mode() {
        return mode;
    }

    /** The names of the built-ins this worker may import, e.g. {@code node:buffer}. */
    List<String> names() {
        return names;
    }

    @Override
    public void close() throws JavetException {
        api.close();
    }

    private static String source() {
        String s = source;
        if (s == null) {
            try (InputStream in = NodeModules.class.getResourceAsStream(RESOURCE)) {
                if (in == null) throw new IllegalStateException("node.js missing from the class path: " + RESOURCE);
                s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            source = s;
        }
        return s;
    }
}
