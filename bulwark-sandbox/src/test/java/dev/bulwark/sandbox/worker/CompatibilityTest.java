package dev.bulwark.sandbox.worker;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;

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
}
