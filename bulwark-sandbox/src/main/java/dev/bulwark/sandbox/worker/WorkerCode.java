package dev.bulwark.sandbox.worker;

import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A dynamic worker's code once checked: what a loader binding's {@code WorkerCode} and the tenant
 * API's JSON both become. The rules live here once, for every way in: the compatibility date,
 * module types (Python refused clearly), the main module, at most {@link #MAX_CODE_BYTES} of code
 * and {@link #MAX_ENV_BYTES} of env JSON. Callers count sizes with {@link #checkCodeSize} before
 * they copy a byte.
 *
 * @param bundle         the modules
 * @param envJson        the env as a JSON object, or null
 * @param networkAllowed false when {@code globalOutbound} is null: {@code fetch()} throws
 * @param cpuMs          the CPU limit the code asks for, or null
 * @param subRequests    the subrequest limit the code asks for, or null
 */
public record WorkerCode(WorkerBundle bundle, String envJson, boolean networkAllowed, Long cpuMs, Integer subRequests) {
    /** Workers' limit of a bundle: 64 MiB. */
    public static final long MAX_CODE_BYTES = 64L << 20;
    public static final int MAX_ENV_BYTES = 1 << 20;
    /** At most this many compatibility flags, each at most {@link #MAX_FLAG_LENGTH} characters (workerd's are short names). */
    public static final int MAX_FLAGS = 128;
    static final int MAX_FLAG_LENGTH = 128;
    private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");

    /** A WorkerCode broke a rule; {@code tooLarge} for the size limits (HTTP 413), else a validation error (400). */
    public static final class Invalid extends IllegalArgumentException {
        private final boolean tooLarge;

        Invalid(String message, boolean tooLarge) {
            super("Invalid WorkerCode: " + message);
            this.tooLarge = tooLarge;
        }

        public boolean tooLarge() {
            return tooLarge;
        }
    }

    public static Invalid invalid(String message) {
        return new Invalid(message, false);
    }

    /** Throws the "bundle over 64 MiB" error when {@code total} bytes of code pass the limit. */
    public static void checkCodeSize(long total) {
        if (total > MAX_CODE_BYTES) {
            throw new Invalid("bundle over 64 MiB (the modules are larger than the limit of " + MAX_CODE_BYTES
                    + " bytes)", true);
        }
    }

    /** {@code YYYY-MM-DD}, a real date, and not in the future (a day of slack for time zones). */
    public static void checkDate(String date) {
        if (date == null || !DATE.matcher(date).matches()) {
            throw invalid("compatibilityDate must be a date of the form YYYY-MM-DD, got " + (date == null ? "nothing" : '"' + date + '"'));
        }
        LocalDate d;
        try {
            d = LocalDate.parse(date);
        } catch (DateTimeException e) {
            throw invalid("compatibilityDate " + date + " is not a valid date");
        }
        if (d.isAfter(LocalDate.now(ZoneOffset.UTC).plusDays(1))) throw invalid("compatibilityDate " + date + " is in the future");
    }

    /** The module type of a wire name ({@code js}, {@code cjs}, {@code text}, {@code data}, {@code json}, {@code wasm}). */
    public static ModuleType moduleType(String name, String type) {
        if ("py".equals(type)) throw invalid("module '" + name + "': Python modules are not supported by Bulwark yet");
        try {
            return ModuleType.fromWireName(type);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw invalid("module '" + name + "' has an unknown type '" + type + "'");
        }
    }

    /** At most {@link #MAX_FLAGS} compatibility flags, each a non-empty string of at most {@link #MAX_FLAG_LENGTH} characters. */
    public static void checkFlags(List<String> flags) {
        if (flags.size() > MAX_FLAGS) throw invalid("compatibilityFlags: more than " + MAX_FLAGS + " flags");
        for (String flag : flags) {
            if (flag == null || flag.isEmpty() || flag.length() > MAX_FLAG_LENGTH) {
                throw invalid("compatibilityFlags must be an array of non-empty strings of at most " + MAX_FLAG_LENGTH + " characters");
            }
        }
    }

    /** The env JSON, checked against {@link #MAX_ENV_BYTES} (UTF-16 units first: at least as many bytes). */
    public static void checkEnv(String envJson) {
        if (envJson == null) return;
        if (envJson.length() > MAX_ENV_BYTES || envJson.getBytes(StandardCharsets.UTF_8).length > MAX_ENV_BYTES) {
            throw new Invalid("env is larger than the limit of " + MAX_ENV_BYTES + " bytes", true);
        }
    }

    /**
     * Checks and assembles code whose modules were already read (sizes counted with {@link
     * #checkCodeSize} on the way). The date and flags are the worker's {@link Compatibility}, as a
     * deployed worker's (nodejs_compat and the rest switch the same things on).
     */
    public static WorkerCode of(String compatibilityDate, List<String> compatibilityFlags, String mainModule,
                                List<WorkerModule> modules, String envJson, boolean networkAllowed, Double cpuMs,
                                Double subRequests) {
        checkDate(compatibilityDate);
        checkFlags(compatibilityFlags);
        if (mainModule == null || mainModule.isEmpty()) throw invalid("mainModule is required");
        long total = 0;
        for (WorkerModule m : modules) total += m.size();
        checkCodeSize(total);
        checkEnv(envJson);
        WorkerBundle bundle;
        try {
            bundle = WorkerBundle.of(mainModule, modules).withCompatibility(new Compatibility(compatibilityDate, compatibilityFlags));
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        return new WorkerCode(bundle, envJson, networkAllowed,
                cpuMs == null || cpuMs.isNaN() ? null : Math.max(1L, cpuMs.longValue()),
                subRequests == null || subRequests.isNaN() ? null : (int) Math.max(0, Math.min(Integer.MAX_VALUE, subRequests)));
    }

    /** The lower of {@code parent}'s limits and those this code asks for. */
    public Limits limits(Limits parent) {
        long cpu = cpuMs == null ? parent.cpuMs() : Math.min(parent.cpuMs(), cpuMs);
        int sub = subRequests == null ? parent.subrequests() : Math.min(parent.subrequests(), subRequests);
        return new Limits(cpu, parent.wallMs(), parent.heapMb(), sub, MAX_CODE_BYTES, MAX_ENV_BYTES,
                parent.requestBodyBytes());
    }
}
