package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Compatibility;

import java.util.function.Predicate;

/**
 * The compatibility switches the prelude reads (its {@code compat.js}), sent at link in one int:
 * bit n is the constant of ordinal n, so the order here is compat.js's {@code SWITCHES} (a test
 * checks that they agree). One JNI call per load instead of one per switch; a new switch is one
 * constant at the end of both lists.
 */
enum PreludeSwitch {
    CACHE_OPTION(Compatibility::requestCacheOption),
    ABORT_SIGNAL_RPC(Compatibility::abortSignalRpc);

    private final Predicate<Compatibility> on;

    PreludeSwitch(Predicate<Compatibility> on) {
        this.on = on;
    }

    /** The bits of the switches this compatibility turns on. */
    static int bits(Compatibility compatibility) {
        int bits = 0;
        for (PreludeSwitch s : values()) {
            if (s.on.test(compatibility)) bits |= 1 << s.ordinal();
        }
        return bits;
    }
}
