package dev.bulwark.sandbox.worker;

import java.util.List;
import java.util.Objects;

/**
 * A worker's compatibility date and flags (wrangler's {@code compatibility_date} and
 * {@code compatibility_flags}), and what they switch on. The rules follow workerd's, as wrangler
 * and miniflare resolve them: {@code nodejs_compat} and {@code nodejs_compat_v2} are on by default
 * from 2026-08-04 (each turned off with its {@code no_} flag); before that date {@code nodejs_compat}
 * implies v2 from 2024-09-23; {@code process.env} holds the worker's text bindings from 2025-04-01.
 *
 * @param date  {@code YYYY-MM-DD}, or null when the worker has none (then the oldest behaviour)
 * @param flags the flags, in the order given
 */
public record Compatibility(String date, List<String> flags) {
    public static final Compatibility NONE = new Compatibility(null, List.of());

    static final String NODEJS_COMPAT_DEFAULT_ON = "2026-08-04";
    static final String NODEJS_COMPAT_V2_SWITCH_OVER = "2024-09-23";
    static final String PROCESS_ENV_POPULATED_FROM = "2025-04-01";
    static final String NODE_OS_FROM = "2025-09-15";
    static final String DELETE_ALL_DELETES_ALARM_FROM = "2026-02-24";
    static final String CACHE_OPTION_FROM = "2024-11-11";
    static final String COMMONJS_EXPORT_DEFAULT_FROM = "2022-10-31";
    /** nodejs_compat implies enable_nodejs_global_timers from this date ($impliedByAfterDate). */
    static final String NODE_GLOBAL_TIMERS_FROM = "2026-02-10";
    static final String WEAK_REF_FROM = "2025-05-05";
    static final String NAVIGATOR_LANGUAGE_FROM = "2025-05-19";
    static final String BIND_ALS_SNAPSHOT_FROM = "2025-06-16";
    static final String EVENT_TARGET_THIS_FROM = "2025-08-01";
    static final String GLOBAL_MESSAGE_CHANNEL_FROM = "2025-08-15";
    static final String STRIP_AUTHORIZATION_FROM = "2025-09-01";
    static final String STRIP_BOM_FROM = "2026-01-13";
    static final String REQUIRE_RETURNS_DEFAULT_FROM = "2026-01-22";
    static final String FETCH_ITERABLE_FROM = "2026-02-19";
    /** fetch_iterable_type_support implies its override adjustment from this date ($impliedByAfterDate). */
    static final String FETCH_ITERABLE_ADJUSTMENT_AFTER = "2026-01-15";
    static final String REPLACE_SURROGATES_FROM = "2026-02-24";
    static final String CLOSE_REASON_LIMIT_FROM = "2026-03-03";
    static final String WEBSOCKET_BLOB_FROM = "2026-03-17";
    static final String ENCODER_STREAM_BACKPRESSURE_FROM = "2026-03-24";
    static final String WEBSOCKET_AUTO_REPLY_FROM = "2026-04-07";
    static final String RPC_PARAMS_DUP_STUBS_FROM = "2026-01-20";
    static final String ENHANCED_ERROR_SERIALIZATION_FROM = "2026-04-21";

    public Compatibility {
        flags = List.copyOf(Objects.requireNonNull(flags, "flags"));
        if (date != null && !date.matches("\\d{4}-\\d{2}-\\d{2}")) {
            throw new IllegalArgumentException("compatibility date must be YYYY-MM-DD: " + date);
        }
    }

    /** Which Node.js compatibility the worker gets (workerd's modes). */
    public enum NodeMode {
        /** No Node.js modules at all. */
        NONE,
        /** {@code nodejs_als} alone: only {@code node:async_hooks}. */
        ALS,
        /** {@code nodejs_compat} before v2: the built-ins under {@code node:} only, no globals. */
        V1,
        /** Also importable without the prefix; {@code Buffer} and {@code process} are globals. */
        V2
    }

    public boolean has(String flag) {
        return flags.contains(flag);
    }

    private boolean dateAtLeast(String day) {
        return date != null && date.compareTo(day) >= 0;
    }

    /** Whether workerd's nodejs_compat flag is on: given, or by default from 2026-08-04. */
    private boolean nodejsCompat() {
        return has("nodejs_compat") || (dateAtLeast(NODEJS_COMPAT_DEFAULT_ON) && !has("no_nodejs_compat"));
    }

    public NodeMode nodeMode() {
        boolean defaultOn = dateAtLeast(NODEJS_COMPAT_DEFAULT_ON);
        boolean compat = nodejsCompat();
        boolean v2 = has("nodejs_compat_v2") || (!has("no_nodejs_compat_v2")
                && (defaultOn || (compat && dateAtLeast(NODEJS_COMPAT_V2_SWITCH_OVER))));
        if (v2) return NodeMode.V2;
        if (compat) return NodeMode.V1;
        return has("nodejs_als") ? NodeMode.ALS : NodeMode.NONE;
    }

    /** Whether {@code process.env} holds the worker's text bindings (vars and secrets). */
    public boolean processEnvPopulated() {
        NodeMode mode = nodeMode();
        boolean full = mode == NodeMode.V1 || mode == NodeMode.V2;
        if (!full) return false;
        if (has("nodejs_compat_populate_process_env")) return true;
        if (has("nodejs_compat_do_not_populate_process_env")) return false;
        return dateAtLeast(PROCESS_ENV_POPULATED_FROM);
    }

    /** workerd offers {@code node:os} only from this compatibility date on. */
    public boolean nodeOs() {
        return dateAtLeast(NODE_OS_FROM) || has("enable_nodejs_os_module");
    }

    /**
     * Whether a durable object's {@code storage.deleteAll()} deletes its alarm too: from 2026-02-24 or
     * with {@code delete_all_deletes_alarm}; {@code delete_all_preserves_alarm} keeps the alarm (workerd's
     * {@code deleteAllDeletesAlarm}).
     */
    public boolean deleteAllDeletesAlarm() {
        if (has("delete_all_preserves_alarm")) return false;
        return has("delete_all_deletes_alarm") || dateAtLeast(DELETE_ALL_DELETES_ALARM_FROM);
    }

    /**
     * Whether the stubs in a JS RPC call's arguments stay the caller's (duplicated; an RpcTarget or
     * function with a {@code dup()} method crosses as its dup) instead of moving to the callee: from
     * 2026-01-20 or with {@code rpc_params_dup_stubs}; {@code rpc_params_transfer_stubs} moves them
     * (workerd's {@code rpcParamsDupStubs}, read in the calling worker).
     */
    public boolean rpcParamsDupStubs() {
        if (has("rpc_params_transfer_stubs")) return false;
        return has("rpc_params_dup_stubs") || dateAtLeast(RPC_PARAMS_DUP_STUBS_FROM);
    }

    /**
     * Whether errors are cloned and serialized with their own properties and without their stack
     * (structuredClone, errors inside RPC values, storage): from 2026-04-21 or with
     * {@code enhanced_error_serialization}; {@code legacy_error_serialization} keeps V8's own
     * (workerd's {@code enhancedErrorSerialization}).
     */
    public boolean enhancedErrorSerialization() {
        if (has("legacy_error_serialization")) return false;
        return has("enhanced_error_serialization") || dateAtLeast(ENHANCED_ERROR_SERIALIZATION_FROM);
    }

    /**
     * Whether {@code new Request(url, {cache})} is allowed: from 2024-11-11 or with
     * {@code cache_option_enabled}; {@code cache_option_disabled} refuses it (workerd's
     * {@code cacheOptionEnabled}). A bundle with no date at all (the embedding API's) keeps it.
     */
    public boolean requestCacheOption() {
        if (has("cache_option_disabled")) return false;
        return date == null || has("cache_option_enabled") || dateAtLeast(CACHE_OPTION_FROM);
    }

    /**
     * Whether a CommonJS module's require() of an ES module (or a built-in) gives its default export
     * rather than its namespace: from 2022-10-31 or with {@code export_commonjs_default};
     * {@code export_commonjs_namespace} keeps the namespace (workerd's exportCommonJsDefaultNamespace).
     */
    public boolean commonJsExportDefault() {
        if (has("export_commonjs_namespace")) return false;
        return has("export_commonjs_default") || dateAtLeast(COMMONJS_EXPORT_DEFAULT_FROM);
    }

    /**
     * Whether {@code env} and {@code exports} of cloudflare:workers hold the worker's own (workerd's
     * allow_importable_env); {@code disallow_importable_env} leaves both empty (withEnv and
     * withExports still replace them).
     */
    public boolean importableEnv() {
        return !has("disallow_importable_env");
    }

    /** Whether an AbortSignal crosses JS RPC: workerd's experimental {@code enable_abortsignal_rpc} flag. */
    public boolean abortSignalRpc() {
        return has("enable_abortsignal_rpc");
    }

    /**
     * One of workerd's switches with an enable date: its disable flag wins, then its enable flag,
     * then the date. {@code noDate} is what a bundle with no date at all (the embedding API's, the
     * tests') gets: the behaviour Bulwark had before it honoured the switch, so that it is unchanged.
     */
    private boolean fromDate(String enable, String disable, String day, boolean noDate) {
        if (has(disable)) return false;
        if (has(enable)) return true;
        return date == null ? noDate : dateAtLeast(day);
    }

    /**
     * workerd's enable_nodejs_global_timers (implied by nodejs_compat from 2026-02-10;
     * no_nodejs_global_timers turns it off): the global setTimeout, setInterval, clearTimeout and
     * clearInterval are node:timers' (Timeout objects). It needs nodejs_compat or nodejs_compat_v2.
     */
    public boolean nodeGlobalTimers() {
        NodeMode mode = nodeMode();
        if ((mode != NodeMode.V1 && mode != NodeMode.V2) || has("no_nodejs_global_timers")) return false;
        return has("enable_nodejs_global_timers") || (nodejsCompat() && dateAtLeast(NODE_GLOBAL_TIMERS_FROM));
    }

    /** workerd's enable_weak_ref (from 2025-05-05): WeakRef and FinalizationRegistry are globals. */
    public boolean weakRef() {
        return fromDate("enable_weak_ref", "disable_weak_ref", WEAK_REF_FROM, true);
    }

    /** workerd's enable_navigator_language (from 2025-05-19): navigator.language and languages. */
    public boolean navigatorLanguage() {
        return fromDate("enable_navigator_language", "disable_navigator_language", NAVIGATOR_LANGUAGE_FROM, true);
    }

    /**
     * workerd's bind_asynclocalstorage_snapshot_to_request (from 2025-06-16): a function made by
     * AsyncLocalStorage.bind() or snapshot() in one request throws when called in another. The
     * disable flag is workerd's spelling, with its hyphen.
     */
    public boolean bindAsyncLocalStorageSnapshotToRequest() {
        return fromDate("bind_asynclocalstorage_snapshot_to_request", "do_not_bind_asynclocalstorage_snapshot_to-request",
                BIND_ALS_SNAPSHOT_FROM, false);
    }

    /** workerd's set_event_target_this (from 2025-08-01): a listener is called with the target (or its object) as this. */
    public boolean eventTargetThis() {
        return fromDate("set_event_target_this", "no_set_event_target_this", EVENT_TARGET_THIS_FROM, true);
    }

    /** workerd's expose_global_message_channel (from 2025-08-15): MessageChannel and MessagePort are globals. */
    public boolean globalMessageChannel() {
        return fromDate("expose_global_message_channel", "no_expose_global_message_channel", GLOBAL_MESSAGE_CHANNEL_FROM, true);
    }

    /** workerd's strip_authorization_on_cross_origin_redirect (from 2025-09-01). */
    public boolean stripAuthorizationOnCrossOriginRedirect() {
        return fromDate("strip_authorization_on_cross_origin_redirect", "retain_authorization_on_cross_origin_redirect",
                STRIP_AUTHORIZATION_FROM, true);
    }

    /**
     * workerd's strip_bom_in_read_all_text (from 2026-01-13; its implication by pedantic_wpt from
     * the same date adds nothing): a body's text() and json() drop a leading UTF-8 BOM.
     */
    public boolean stripBomInReadAllText() {
        return fromDate("strip_bom_in_read_all_text", "do_not_strip_bom_in_read_all_text", STRIP_BOM_FROM, true);
    }

    /**
     * workerd's require_returns_default_export (from 2026-01-22; require_returns_namespace turns it
     * off): where require() of an ES module gives no default export by export_commonjs_default (the
     * namespace flag, or a date before 2022-10-31), it gives the default export when there is one,
     * else a mutable copy of the namespace. A bundle with no date keeps the namespace.
     */
    public boolean requireReturnsDefaultExport() {
        return fromDate("require_returns_default_export", "require_returns_namespace", REQUIRE_RETURNS_DEFAULT_FROM, false);
    }

    /** workerd's fetch_iterable_type_support (from 2026-02-19): a sync or async iterable is a body, iterated. */
    public boolean fetchIterableTypeSupport() {
        return fromDate("fetch_iterable_type_support", "no_fetch_iterable_type_support", FETCH_ITERABLE_FROM, false);
    }

    /**
     * workerd's fetch_iterable_type_support_override_adjustment, implied by fetch_iterable_type_support
     * on or after 2026-01-15: a sync iterable (not an Array) with its own toString or Symbol.toPrimitive is
     * stringified, not iterated.
     */
    public boolean fetchIterableOverrideAdjustment() {
        if (has("no_fetch_iterable_type_support_override_adjustment")) return false;
        return has("fetch_iterable_type_support_override_adjustment")
                || (fetchIterableTypeSupport() && dateAtLeast(FETCH_ITERABLE_ADJUSTMENT_AFTER));
    }

    /** workerd's text_decoder_replace_surrogates (from 2026-02-24): UTF-16 lone surrogates become U+FFFD. */
    public boolean textDecoderReplaceSurrogates() {
        return fromDate("text_decoder_replace_surrogates", "disable_text_decoder_replace_surrogates",
                REPLACE_SURROGATES_FROM, true);
    }

    /** workerd's websocket_close_reason_byte_limit (from 2026-03-03): close() refuses a reason over 123 UTF-8 bytes. */
    public boolean websocketCloseReasonByteLimit() {
        return fromDate("websocket_close_reason_byte_limit", "no_websocket_close_reason_byte_limit", CLOSE_REASON_LIMIT_FROM, true);
    }

    /** workerd's websocket_standard_binary_type (from 2026-03-17): binaryType defaults to "blob". */
    public boolean websocketStandardBinaryType() {
        return fromDate("websocket_standard_binary_type", "no_websocket_standard_binary_type", WEBSOCKET_BLOB_FROM, false);
    }

    /**
     * workerd's encoder_stream_spec_compliant_backpressure (from 2026-03-24): the readable side of
     * TextEncoderStream and TextDecoderStream has a high water mark of 0, not 1.
     */
    public boolean encoderStreamSpecCompliantBackpressure() {
        return fromDate("encoder_stream_spec_compliant_backpressure", "no_encoder_stream_spec_compliant_backpressure",
                ENCODER_STREAM_BACKPRESSURE_FROM, true);
    }

    /**
     * workerd's web_socket_auto_reply_to_close (from 2026-04-07; web_socket_manual_reply_to_close
     * turns it off): an accepted socket answers a close frame with its own unless accepted with
     * allowHalfOpen.
     */
    public boolean webSocketAutoReplyToClose() {
        return fromDate("web_socket_auto_reply_to_close", "web_socket_manual_reply_to_close", WEBSOCKET_AUTO_REPLY_FROM, true);
    }

    /** The flags this runtime understands; others are accepted with a warning, as before. */
    public static boolean isKnownFlag(String flag) {
        return switch (flag) {
            case "delete_all_deletes_alarm", "delete_all_preserves_alarm",
                 "rpc_params_dup_stubs", "rpc_params_transfer_stubs",
                 "enhanced_error_serialization", "legacy_error_serialization",
                 "nodejs_compat", "nodejs_compat_v2", "no_nodejs_compat", "no_nodejs_compat_v2", "nodejs_als",
                 "nodejs_compat_populate_process_env", "nodejs_compat_do_not_populate_process_env",
                 "enable_nodejs_os_module", "cache_option_enabled", "cache_option_disabled",
                 "export_commonjs_default", "export_commonjs_namespace",
                 "allow_importable_env", "disallow_importable_env", "enable_abortsignal_rpc",
                 "enable_nodejs_global_timers", "no_nodejs_global_timers",
                 "enable_weak_ref", "disable_weak_ref",
                 "bind_asynclocalstorage_snapshot_to_request", "do_not_bind_asynclocalstorage_snapshot_to-request",
                 "enable_navigator_language", "disable_navigator_language",
                 "set_event_target_this", "no_set_event_target_this",
                 "expose_global_message_channel", "no_expose_global_message_channel",
                 "strip_authorization_on_cross_origin_redirect", "retain_authorization_on_cross_origin_redirect",
                 "strip_bom_in_read_all_text", "do_not_strip_bom_in_read_all_text",
                 "require_returns_default_export", "require_returns_namespace",
                 "fetch_iterable_type_support", "no_fetch_iterable_type_support",
                 "fetch_iterable_type_support_override_adjustment", "no_fetch_iterable_type_support_override_adjustment",
                 "text_decoder_replace_surrogates", "disable_text_decoder_replace_surrogates",
                 // Always what Bulwark does (its old behaviour is not built: docs/notes/compatweb.md).
                 "unhandled_rejection_after_microtask_checkpoint",
                 "websocket_close_reason_byte_limit", "no_websocket_close_reason_byte_limit",
                 "websocket_standard_binary_type", "no_websocket_standard_binary_type",
                 "encoder_stream_spec_compliant_backpressure", "no_encoder_stream_spec_compliant_backpressure",
                 "web_socket_auto_reply_to_close", "web_socket_manual_reply_to_close" -> true;
            default -> false;
        };
    }
}
