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
    ABORT_SIGNAL_RPC(Compatibility::abortSignalRpc),
    WEAK_REF(Compatibility::weakRef),
    NAVIGATOR_LANGUAGE(Compatibility::navigatorLanguage),
    EVENT_TARGET_THIS(Compatibility::eventTargetThis),
    GLOBAL_MESSAGE_CHANNEL(Compatibility::globalMessageChannel),
    STRIP_AUTHORIZATION(Compatibility::stripAuthorizationOnCrossOriginRedirect),
    STRIP_BOM(Compatibility::stripBomInReadAllText),
    FETCH_ITERABLE(Compatibility::fetchIterableTypeSupport),
    FETCH_ITERABLE_ADJUSTMENT(Compatibility::fetchIterableOverrideAdjustment),
    REPLACE_SURROGATES(Compatibility::textDecoderReplaceSurrogates),
    CLOSE_REASON_LIMIT(Compatibility::websocketCloseReasonByteLimit),
    WEBSOCKET_BLOB(Compatibility::websocketStandardBinaryType),
    ENCODER_BACKPRESSURE(Compatibility::encoderStreamSpecCompliantBackpressure),
    WEBSOCKET_AUTO_REPLY(Compatibility::webSocketAutoReplyToClose),
    REQUIRE_DEFAULT(Compatibility::requireReturnsDefaultExport),
    BIND_ALS_SNAPSHOT(Compatibility::bindAsyncLocalStorageSnapshotToRequest),
    RPC_PARAMS_DUP_STUBS(Compatibility::rpcParamsDupStubs),
    ENHANCED_ERRORS(Compatibility::enhancedErrorSerialization);

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
