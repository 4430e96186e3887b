package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.enums.V8ValueReferenceType;
import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.interop.callback.IJavetDirectCallable;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueBoolean;
import com.caoccao.javet.values.primitive.V8ValueInteger;
import com.caoccao.javet.values.primitive.V8ValueString;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import com.caoccao.javet.values.reference.V8ValueArray;
import com.caoccao.javet.values.reference.V8ValueFunction;
import com.caoccao.javet.values.reference.V8ValueObject;
import dev.bulwark.sandbox.isolate.web.LegacyDecoder;
import dev.bulwark.sandbox.isolate.web.LegacyEncoding;
import dev.bulwark.sandbox.isolate.web.ZlibCodec;
import dev.bulwark.sandbox.isolate.web.ZlibFormat;
import dev.bulwark.sandbox.isolate.web.ZlibStreams;

import java.util.function.LongSupplier;

/**
 * Host functions behind Web APIs that need the JDK: CompressionStream / DecompressionStream
 * (zlib), TextDecoder's legacy encodings, and the full collection the account of WebAssembly
 * memories asks for before it refuses one (prelude wasm-memories.js). Failures the worker may see come back as a string
 * (the prelude throws it as a TypeError), so no Java exception text reaches JavaScript.
 */
final class WebApisHost {
    @FunctionalInterface
    interface Binder {
        void bind(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn) throws JavetException;
    }

    private final V8Runtime runtime;
    private final LongSupplier currentInvocation;
    private final ZlibStreams zlib = new ZlibStreams();
    private V8ValueFunction wasmModule;

    WebApisHost(V8Runtime runtime, LongSupplier currentInvocation) {
        this.runtime = runtime;
        this.currentInvocation = currentInvocation;
    }

    void install(Binder binder) throws JavetException {
        // zlibOpen(format, compress) -> handle | error string
        binder.bind("zlibOpen", args -> {
            ZlibFormat format = ZlibFormat.named(args.length > 0 && args[0] instanceof V8ValueString s ? s.getValue() : null);
            if (format == null) return runtime.createV8ValueString("Unsupported compression format.");
            boolean compress = args.length > 1 && args[1] instanceof V8ValueBoolean b && b.getValue();
            try {
                return runtime.createV8ValueInteger(zlib.open(format, compress, currentInvocation.getAsLong()));
            } catch (ZlibCodec.ZlibException e) {
                return runtime.createV8ValueString(e.getMessage());
            }
        });
        // zlibPush(handle, Uint8Array|null, finish) -> Uint8Array | error string
        binder.bind("zlibPush", args -> {
            int handle = args.length > 0 && args[0] instanceof V8ValueInteger i ? i.getValue() : 0;
            byte[] input = null;
            if (args.length > 1 && args[1] instanceof V8ValueTypedArray t) {
                if (t.getType() != V8ValueReferenceType.Uint8Array || t.getLength() > ZlibCodec.MAX_INPUT) {
                    return runtime.createV8ValueString("Compression input must be a Uint8Array of at most " + ZlibCodec.MAX_INPUT + " bytes.");
                }
                input = t.toBytes();
            }
            boolean finish = args.length > 2 && args[2] instanceof V8ValueBoolean b && b.getValue();
            try {
                return bytes(zlib.push(handle, input, finish));
            } catch (ZlibCodec.ZlibException e) {
                zlib.close(handle);
                return runtime.createV8ValueString(e.getMessage());
            }
        });
        // decodeLegacy(encodingName, Uint8Array, stream, fatal, state) -> [text, unconsumed, state] | false (fatal error) | error string
        binder.bind("decodeLegacy", args -> {
            LegacyEncoding encoding = LegacyEncoding.byWebName(args.length > 0 && args[0] instanceof V8ValueString s ? s.getValue() : null);
            if (encoding == null) return runtime.createV8ValueString("Unsupported encoding.");
            if (!(args.length > 1 && args[1] instanceof V8ValueTypedArray t) || t.getType() != V8ValueReferenceType.Uint8Array
                    || t.getLength() > LegacyDecoder.MAX_INPUT) {
                return runtime.createV8ValueString("Input must be a Uint8Array of at most " + LegacyDecoder.MAX_INPUT + " bytes.");
            }
            boolean stream = args.length > 2 && args[2] instanceof V8ValueBoolean b && b.getValue();
            boolean fatal = args.length > 3 && args[3] instanceof V8ValueBoolean b && b.getValue();
            int state = args.length > 4 && args[4] instanceof V8ValueInteger i ? i.getValue() : 0;
            try {
                LegacyDecoder.Decoded d = LegacyDecoder.decode(encoding, t.toBytes(), stream, fatal, state);
                V8ValueArray result = runtime.createV8ValueArray();
                result.push(d.text(), d.unconsumed(), d.state());
                return result;
            } catch (LegacyDecoder.DecodingError e) {
                return runtime.createV8ValueBoolean(false);
            }
        });
        // htmlRewriterWasm() -> WebAssembly.Module of lol-html (the prelude asks once per isolate) | error string.
        // Compiled with the intrinsic constructor, captured before any worker code runs.
        try (V8ValueObject webAssembly = runtime.getGlobalObject().get("WebAssembly")) {
            wasmModule = webAssembly == null || webAssembly.isNullOrUndefined() ? null : webAssembly.get("Module");
        }
        binder.bind("htmlRewriterWasm", args -> {
            byte[] wasm = HtmlRewriterWasm.bytes();
            if (wasm == null || wasmModule == null) {
                return runtime.createV8ValueString("HTMLRewriter is not available: its WebAssembly module is missing.");
            }
            try (V8ValueTypedArray b = bytes(wasm)) {
                return wasmModule.callAsConstructor(b);
            }
        });
        // collectGarbage(): V8's full collection, now, inside the worker's call. Only the account of
        // WebAssembly memories asks, and only when an isolate is at its bound: the memories the
        // worker dropped in earlier jobs are freed, so their WeakRefs read undefined after it.
        binder.bind("collectGarbage", args -> {
            runtime.lowMemoryNotification();
            return runtime.createV8ValueUndefined();
        });
        binder.bind("zlibClose", args -> {
            if (args.length > 0 && args[0] instanceof V8ValueInteger i) zlib.close(i.getValue());
            return runtime.createV8ValueUndefined();
        });
    }

    void invocationEnded(long invocation) {
        zlib.invocationEnded(invocation);
    }

    void close() {
        zlib.closeAll();
        if (wasmModule != null) {
            try {
                wasmModule.close();
            } catch (JavetException e) {
                // the runtime is closing anyway
            }
        }
    }

    private V8ValueTypedArray bytes(byte[] b) throws JavetException {
        V8ValueTypedArray a = runtime.createV8ValueTypedArray(V8ValueReferenceType.Uint8Array, b.length);
        if (b.length > 0) a.fromBytes(b);
        return a;
    }
}
