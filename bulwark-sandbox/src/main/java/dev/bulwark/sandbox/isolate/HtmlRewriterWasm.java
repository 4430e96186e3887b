package dev.bulwark.sandbox.isolate;

import java.io.IOException;
import java.io.InputStream;

/** lol-html compiled to WebAssembly (html-rewriter-wasm, built next to prelude.js), read once per process. */
final class HtmlRewriterWasm {
    static final String RESOURCE = "/dev/bulwark/sandbox/prelude/html_rewriter_bg.wasm";

    private HtmlRewriterWasm() {}

    private static final class Holder {
        static final byte[] BYTES = load();

        private static byte[] load() {
            try (InputStream in = HtmlRewriterWasm.class.getResourceAsStream(RESOURCE)) {
                return in == null ? null : in.readAllBytes();
            } catch (IOException e) {
                return null;
            }
        }
    }

    /** The module's bytes, or null if the resource is missing. Callers copy them; never modified. */
    static byte[] bytes() {
        return Holder.BYTES;
    }
}
