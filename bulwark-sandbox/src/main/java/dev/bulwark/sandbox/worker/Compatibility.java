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

    public NodeMode nodeMode() {
        boolean defaultOn = dateAtLeast(NODEJS_COMPAT_DEFAULT_ON);
        boolean compat = has("nodejs_compat") || (defaultOn && !has("no_nodejs_compat"));
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
                 "allow_importable_env", "disallow_importable_env", "enable_abortsignal_rpc" -> true;
            default -> false;
        };
    }
}
