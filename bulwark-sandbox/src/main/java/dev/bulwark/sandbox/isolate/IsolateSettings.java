package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.interop.options.V8RuntimeOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Process-wide V8 settings. V8's flags are global to the process, so they are decided once,
 * before the first isolate exists; a sandbox process serves one tenant, whose limits decide them.
 *
 * @param heapMb       V8 heap cap of each isolate; the near-heap-limit callback ends the isolate there
 * @param wasmMaxPages largest WebAssembly memory in 64 KiB pages
 */
public record IsolateSettings(int heapMb, int wasmMaxPages) {

    public static IsolateSettings forHeap(int heapMb) {
        return new IsolateSettings(heapMb, Math.max(16, heapMb * 16));
    }

    /**
     * The V8 command line. {@code --no-turbofan}: measured on V8 14.7 (Javet 5.0.6), a loop that
     * allocates arrays ({@code while(true) a.push({x: new Array(1000).fill(1)})}) compiled by
     * TurboFan never honoured {@code TerminateExecution}, neither from the CPU watchdog nor from the
     * near-heap-limit callback, so the process died of OOM. With TurboFan off (Sparkplug and Maglev
     * still on) every hostile pattern we tried terminated within one watchdog tick. Limits that
     * cannot be enforced are worse than slower code.
     * {@code --disallow-code-generation-from-strings}: eval and new Function are off, as in Workers.
     * {@code --no-harmony-temporal}: no {@code Temporal} global, as in workerd (its V8 keeps the flag
     * off; the compatibility flag {@code temporal} turns it on there, not supported here). It also
     * spares every isolate that touched {@code Temporal} the ~0.5 ms V8 took to build it.
     * {@code -Dbulwark.sandbox.v8ExtraFlags} adds flags after these, for diagnostics only (an operator's
     * {@code --perf-basic-prof} for a profile, docs/configuration.md): a flag can undo a limit.
     */
    String v8Flags() {
        String extra = System.getProperty("bulwark.sandbox.v8ExtraFlags", "").strip();
        return "--no-turbofan --disallow-code-generation-from-strings --no-harmony-temporal --wasm-max-mem-pages="
                + wasmMaxPages + (extra.isEmpty() ? "" : " " + extra);
    }

    private static volatile IsolateSettings applied;

    /**
     * Applies these settings to V8's global flags, with ICU's data file (checked first: V8 ends the
     * process when it is missing); a second, different call is an error.
     */
    static synchronized void apply(IsolateSettings settings) {
        if (applied != null) {
            if (!applied.equals(settings)) {
                throw new IllegalStateException("V8 flags are process-wide and already set to " + applied);
            }
            return;
        }
        try {
            Path icu = NativeLibrary.icuDataFile();
            if (!IcuData.isValid(icu)) throw new IOException("ICU data file is missing or damaged: " + icu);
            V8RuntimeOptions.V8_FLAGS.setIcuDataFile(icu.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare ICU's data for V8: " + e.getMessage(), e);
        }
        V8RuntimeOptions.V8_FLAGS.setMaxHeapSize(settings.heapMb());
        V8RuntimeOptions.V8_FLAGS.setCustomFlags(settings.v8Flags());
        applied = settings;
    }
}
