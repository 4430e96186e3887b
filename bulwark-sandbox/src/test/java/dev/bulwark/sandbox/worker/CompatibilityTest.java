package dev.bulwark.sandbox.worker;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** workerd's rules for which Node.js compatibility a date and flags give, as wrangler resolves them. */
class CompatibilityTest {
    static Compatibility of(String date, String flags) {
        return new Compatibility(date.equals("-") ? null : date, flags.isEmpty() ? List.of() : Arrays.asList(flags.split(" ")));
    }

    @ParameterizedTest(name = "{0} [{1}] -> {2}, process.env populated: {3}")
    @CsvSource(delimiter = '|', textBlock = """
            -          |                                                      | NONE | false
            2025-09-20 |                                                      | NONE | false
            2024-09-22 | nodejs_compat                                        | V1   | false
            2024-09-23 | nodejs_compat                                        | V2   | false
            2024-09-23 | nodejs_compat no_nodejs_compat_v2                    | V1   | false
            2020-01-01 | nodejs_compat_v2                                     | V2   | false
            2025-04-01 | nodejs_compat                                        | V2   | true
            2025-03-31 | nodejs_compat nodejs_compat_populate_process_env     | V2   | true
            2025-09-20 | nodejs_compat nodejs_compat_do_not_populate_process_env | V2 | false
            2025-09-20 | nodejs_als                                           | ALS  | false
            2026-08-04 |                                                      | V2   | true
            2026-08-03 |                                                      | NONE | false
            2026-08-04 | no_nodejs_compat                                     | V2   | true
            2026-08-04 | no_nodejs_compat no_nodejs_compat_v2                 | NONE | false
            2026-08-04 | no_nodejs_compat no_nodejs_compat_v2 nodejs_als      | ALS  | false
            """)
    void nodeModeAndProcessEnv(String date, String flags, Compatibility.NodeMode mode, boolean env) {
        Compatibility c = of(date.trim(), flags == null ? "" : flags.trim());
        assertThat(c.nodeMode()).isEqualTo(mode);
        assertThat(c.processEnvPopulated()).isEqualTo(env);
    }

    @ParameterizedTest(name = "{0} [{1}] -> deleteAll() deletes the alarm: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            -          |                                                     | false
            2026-02-23 |                                                     | false
            2026-02-24 |                                                     | true
            2025-09-01 | delete_all_deletes_alarm                            | true
            2026-02-24 | delete_all_preserves_alarm                          | false
            """)
    void deleteAllDeletesTheAlarmFrom20260224(String date, String flags, boolean deletes) {
        assertThat(of(date.trim(), flags == null ? "" : flags.trim()).deleteAllDeletesAlarm()).isEqualTo(deletes);
    }

    @ParameterizedTest(name = "{0} [{1}] -> stubs in RPC params are duplicated: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            -          |                                                     | false
            2026-01-19 |                                                     | false
            2026-01-20 |                                                     | true
            2025-09-01 | rpc_params_dup_stubs                                | true
            2026-01-20 | rpc_params_transfer_stubs                           | false
            """)
    void rpcParamsDupStubsFrom20260120(String date, String flags, boolean dup) {
        assertThat(of(date.trim(), flags == null ? "" : flags.trim()).rpcParamsDupStubs()).isEqualTo(dup);
    }

    @ParameterizedTest(name = "{0} [{1}] -> enhanced error serialization: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            -          |                                                     | false
            2026-04-20 |                                                     | false
            2026-04-21 |                                                     | true
            2025-09-01 | enhanced_error_serialization                        | true
            2026-04-21 | legacy_error_serialization                          | false
            """)
    void enhancedErrorSerializationFrom20260421(String date, String flags, boolean enhanced) {
        assertThat(of(date.trim(), flags == null ? "" : flags.trim()).enhancedErrorSerialization()).isEqualTo(enhanced);
    }

    @ParameterizedTest(name = "{0} [{1}] -> Request's cache option: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            -          |                                                     | true
            2024-11-10 |                                                     | false
            2024-11-11 |                                                     | true
            2023-01-01 | cache_option_enabled                                | true
            2025-01-01 | cache_option_disabled                               | false
            """)
    void requestCacheOptionFrom20241111(String date, String flags, boolean allowed) {
        assertThat(of(date.trim(), flags == null ? "" : flags.trim()).requestCacheOption()).isEqualTo(allowed);
    }

    /** The switches of 2025-2026, by the name of workerd's enable flag. */
    private static final Map<String, Predicate<Compatibility>> SWITCHES = Map.ofEntries(
            Map.entry("enable_nodejs_global_timers", Compatibility::nodeGlobalTimers),
            Map.entry("require_returns_default_export", Compatibility::requireReturnsDefaultExport),
            Map.entry("bind_asynclocalstorage_snapshot_to_request", Compatibility::bindAsyncLocalStorageSnapshotToRequest),
            Map.entry("enable_weak_ref", Compatibility::weakRef),
            Map.entry("enable_navigator_language", Compatibility::navigatorLanguage),
            Map.entry("set_event_target_this", Compatibility::eventTargetThis),
            Map.entry("expose_global_message_channel", Compatibility::globalMessageChannel),
            Map.entry("strip_authorization_on_cross_origin_redirect", Compatibility::stripAuthorizationOnCrossOriginRedirect),
            Map.entry("strip_bom_in_read_all_text", Compatibility::stripBomInReadAllText),
            Map.entry("fetch_iterable_type_support", Compatibility::fetchIterableTypeSupport),
            Map.entry("fetch_iterable_type_support_override_adjustment", Compatibility::fetchIterableOverrideAdjustment),
            Map.entry("text_decoder_replace_surrogates", Compatibility::textDecoderReplaceSurrogates),
            Map.entry("websocket_close_reason_byte_limit", Compatibility::websocketCloseReasonByteLimit),
            Map.entry("websocket_standard_binary_type", Compatibility::websocketStandardBinaryType),
            Map.entry("encoder_stream_spec_compliant_backpressure", Compatibility::encoderStreamSpecCompliantBackpressure),
            Map.entry("web_socket_auto_reply_to_close", Compatibility::webSocketAutoReplyToClose));

    @ParameterizedTest(name = "{0}: {1} [{2}] -> {3}")
    @CsvSource(delimiter = '|', textBlock = """
            enable_nodejs_global_timers                     | 2026-02-09 | nodejs_compat                                    | false
            enable_nodejs_global_timers                     | 2026-02-10 | nodejs_compat                                    | true
            enable_nodejs_global_timers                     | 2026-02-10 | nodejs_compat_v2                                 | false
            enable_nodejs_global_timers                     | 2025-01-01 | nodejs_compat_v2 enable_nodejs_global_timers     | true
            enable_nodejs_global_timers                     | 2026-03-01 | enable_nodejs_global_timers                      | false
            enable_nodejs_global_timers                     | 2026-03-01 | nodejs_compat no_nodejs_global_timers            | false
            enable_nodejs_global_timers                     | 2026-08-04 |                                                  | true
            require_returns_default_export                  | 2026-01-21 |                                                  | false
            require_returns_default_export                  | 2026-01-22 |                                                  | true
            require_returns_default_export                  | 2025-01-01 | require_returns_default_export                   | true
            require_returns_default_export                  | 2026-02-01 | require_returns_namespace                        | false
            require_returns_default_export                  | -          |                                                  | false
            bind_asynclocalstorage_snapshot_to_request      | 2025-06-15 |                                                  | false
            bind_asynclocalstorage_snapshot_to_request      | 2025-06-16 |                                                  | true
            bind_asynclocalstorage_snapshot_to_request      | 2025-01-01 | bind_asynclocalstorage_snapshot_to_request       | true
            bind_asynclocalstorage_snapshot_to_request      | 2025-09-01 | do_not_bind_asynclocalstorage_snapshot_to-request | false
            bind_asynclocalstorage_snapshot_to_request      | -          |                                                  | false
            enable_weak_ref                                 | 2025-05-04 |                                                  | false
            enable_weak_ref                                 | 2025-05-05 |                                                  | true
            enable_weak_ref                                 | 2024-01-01 | enable_weak_ref                                  | true
            enable_weak_ref                                 | 2025-09-01 | disable_weak_ref                                 | false
            enable_weak_ref                                 | -          |                                                  | true
            enable_navigator_language                       | 2025-05-18 |                                                  | false
            enable_navigator_language                       | 2025-05-19 |                                                  | true
            enable_navigator_language                       | 2025-09-01 | disable_navigator_language                       | false
            set_event_target_this                           | 2025-07-31 |                                                  | false
            set_event_target_this                           | 2025-08-01 |                                                  | true
            set_event_target_this                           | 2025-01-01 | set_event_target_this                            | true
            set_event_target_this                           | 2025-09-01 | no_set_event_target_this                         | false
            expose_global_message_channel                   | 2025-08-14 |                                                  | false
            expose_global_message_channel                   | 2025-08-15 |                                                  | true
            expose_global_message_channel                   | 2025-09-01 | no_expose_global_message_channel                 | false
            strip_authorization_on_cross_origin_redirect    | 2025-08-31 |                                                  | false
            strip_authorization_on_cross_origin_redirect    | 2025-09-01 |                                                  | true
            strip_authorization_on_cross_origin_redirect    | 2025-01-01 | strip_authorization_on_cross_origin_redirect     | true
            strip_authorization_on_cross_origin_redirect    | 2025-10-01 | retain_authorization_on_cross_origin_redirect    | false
            strip_bom_in_read_all_text                      | 2026-01-12 |                                                  | false
            strip_bom_in_read_all_text                      | 2026-01-13 |                                                  | true
            strip_bom_in_read_all_text                      | 2026-02-01 | do_not_strip_bom_in_read_all_text                | false
            fetch_iterable_type_support                     | 2026-02-18 |                                                  | false
            fetch_iterable_type_support                     | 2026-02-19 |                                                  | true
            fetch_iterable_type_support                     | 2026-03-01 | no_fetch_iterable_type_support                   | false
            fetch_iterable_type_support                     | -          |                                                  | false
            fetch_iterable_type_support_override_adjustment | 2026-02-19 |                                                  | true
            fetch_iterable_type_support_override_adjustment | 2026-01-15 | fetch_iterable_type_support                      | true
            fetch_iterable_type_support_override_adjustment | 2026-01-14 | fetch_iterable_type_support                      | false
            fetch_iterable_type_support_override_adjustment | 2026-01-01 | fetch_iterable_type_support_override_adjustment  | true
            fetch_iterable_type_support_override_adjustment | 2026-03-01 | no_fetch_iterable_type_support_override_adjustment | false
            fetch_iterable_type_support_override_adjustment | 2026-03-01 | no_fetch_iterable_type_support                   | false
            text_decoder_replace_surrogates                 | 2026-02-23 |                                                  | false
            text_decoder_replace_surrogates                 | 2026-02-24 |                                                  | true
            text_decoder_replace_surrogates                 | 2026-03-01 | disable_text_decoder_replace_surrogates          | false
            websocket_close_reason_byte_limit               | 2026-03-02 |                                                  | false
            websocket_close_reason_byte_limit               | 2026-03-03 |                                                  | true
            websocket_close_reason_byte_limit               | 2026-04-01 | no_websocket_close_reason_byte_limit             | false
            websocket_standard_binary_type                  | 2026-03-16 |                                                  | false
            websocket_standard_binary_type                  | 2026-03-17 |                                                  | true
            websocket_standard_binary_type                  | 2025-01-01 | websocket_standard_binary_type                   | true
            websocket_standard_binary_type                  | 2026-04-01 | no_websocket_standard_binary_type                | false
            websocket_standard_binary_type                  | -          |                                                  | false
            encoder_stream_spec_compliant_backpressure      | 2026-03-23 |                                                  | false
            encoder_stream_spec_compliant_backpressure      | 2026-03-24 |                                                  | true
            encoder_stream_spec_compliant_backpressure      | 2026-04-01 | no_encoder_stream_spec_compliant_backpressure    | false
            web_socket_auto_reply_to_close                  | 2026-04-06 |                                                  | false
            web_socket_auto_reply_to_close                  | 2026-04-07 |                                                  | true
            web_socket_auto_reply_to_close                  | 2025-01-01 | web_socket_auto_reply_to_close                   | true
            web_socket_auto_reply_to_close                  | 2026-05-01 | web_socket_manual_reply_to_close                 | false
            web_socket_auto_reply_to_close                  | -          |                                                  | true
            """)
    void theSwitchesOf2025And2026(String name, String date, String flags, boolean on) {
        Compatibility c = of(date.trim(), flags == null ? "" : flags.trim());
        assertThat(SWITCHES.get(name.trim()).test(c)).isEqualTo(on);
    }

    @org.junit.jupiter.api.Test
    void everyFlagOfTheSwitchesIsKnown() {
        for (String flag : List.of("enable_nodejs_global_timers", "no_nodejs_global_timers", "require_returns_default_export",
                "require_returns_namespace", "bind_asynclocalstorage_snapshot_to_request",
                "do_not_bind_asynclocalstorage_snapshot_to-request", "enable_weak_ref", "disable_weak_ref", "enable_navigator_language", "disable_navigator_language",
                "set_event_target_this", "no_set_event_target_this", "expose_global_message_channel", "no_expose_global_message_channel",
                "strip_authorization_on_cross_origin_redirect", "retain_authorization_on_cross_origin_redirect",
                "strip_bom_in_read_all_text", "do_not_strip_bom_in_read_all_text", "fetch_iterable_type_support",
                "no_fetch_iterable_type_support", "fetch_iterable_type_support_override_adjustment",
                "no_fetch_iterable_type_support_override_adjustment", "text_decoder_replace_surrogates",
                "disable_text_decoder_replace_surrogates", "unhandled_rejection_after_microtask_checkpoint",
                "websocket_close_reason_byte_limit",
                "no_websocket_close_reason_byte_limit", "websocket_standard_binary_type", "no_websocket_standard_binary_type",
                "encoder_stream_spec_compliant_backpressure", "no_encoder_stream_spec_compliant_backpressure",
                "web_socket_auto_reply_to_close", "web_socket_manual_reply_to_close")) {
            assertThat(Compatibility.isKnownFlag(flag)).as(flag).isTrue();
        }
    }
}
