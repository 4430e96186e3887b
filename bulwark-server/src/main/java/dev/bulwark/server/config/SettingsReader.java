package dev.bulwark.server.config;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.bulwark.objects.storage.Durability;
import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.worker.Limits;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Bulwark's own settings, merged from three places, later ones winning key by key (with a warning
 * when a key is defined twice): wrangler's top-level {@code limits.cpu_ms}, the wrangler file's
 * {@code bulwark} section, and {@code bulwark.toml}. Unlike wrangler's keys, an unknown setting is an
 * error: a misspelt limit must not silently leave the default in force.
 */
final class SettingsReader {

    static final String BULWARK_TOML = "bulwark.toml";

    /** Settings and the secrets set among them. */
    record Result(Settings settings, Map<String, String> secrets) {
    }

    private static final Set<String> LEAVES = Set.of("host", "port", "data_dir", "tenant");
    private static final Map<String, Set<String>> TABLES = Map.of(
            "limits", Set.of("cpu_ms", "wall_ms", "heap_mb", "subrequests", "code_bytes", "env_bytes",
                    "request_body_bytes"),
            "sandboxes", Set.of("processes_per_tenant", "isolates_per_worker", "rss_ceiling_mb", "pool_size",
                    "dynamic_workers_max", "dynamic_workers_dormant_max", "dynamic_workers_idle_isolate_ms", "object_idle_ms", "object_storage_idle_ms", "websockets_per_object",
                    "jvm_options", "confine", "session_process", "session_max", "session_max_per_tenant",
                    "session_wait_ms", "session_spares", "session_spare_idle_ms", "session_idle_ms"),
            "egress", Set.of("allow", "allow_private_networks", "rules", "test_only_allow_loopback",
                    "max_response_bytes", "timeout_ms", "max_concurrent", "max_concurrent_per_tenant"),
            "front_door", Set.of("trusted_proxies", "colo", "max_concurrent_requests", "websocket_buffer_bytes"),
            "api", Set.of("keys"),
            "facets", Set.of("max_facets", "max_bytes_per_facet", "max_bytes_total", "cpu_ms_per_period", "period_ms",
                    "requests_per_second", "route_prefix", "route_object"),
            "secrets", Set.of(),
            "storage", Set.of("durability", "max_value_bytes", "max_database_bytes"),
            "governance", GovernanceReader.KEYS);

    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%\\[\\]-]+");
    private static final String POSITIVE = "a positive integer";
    private static final String NON_NEGATIVE = "a non-negative integer";

    /** Merged setting key ({@code limits.cpu_ms}) to the value that won, in first-definition order. */
    private final Map<String, ConfigValue> merged = new LinkedHashMap<>();
    private final Warnings warnings;

    private SettingsReader(Warnings warnings) {
        this.warnings = warnings;
    }

    /**
     * @param devVars the secrets of {@code .dev.vars}: the lowest layer of {@code secrets}
     */
    static Result read(ConfigValue wrangler, Optional<ConfigValue> bulwarkToml, Map<String, String> devVars,
                       Path projectDir, String workerName, Warnings warnings) throws ConfigException {
        SettingsReader reader = new SettingsReader(warnings);
        devVars.forEach((key, value) ->
                reader.put("secrets." + key, new ConfigValue(DevVars.FILE_NAME, key, TextNode.valueOf(value))));
        Optional<ConfigValue> wranglerLimits = wrangler.optional("limits");
        if (wranglerLimits.isPresent()) {
            wranglerLimits.get().warnUnknownKeys(Set.of("cpu_ms"), Set.of(), warnings);
            Optional<ConfigValue> cpuMs = wranglerLimits.get().optional("cpu_ms");
            if (cpuMs.isPresent()) reader.put("limits.cpu_ms", cpuMs.get());
        }
        Optional<ConfigValue> section = wrangler.optional("bulwark");
        if (section.isPresent()) reader.merge(section.get());
        if (bulwarkToml.isPresent()) reader.merge(bulwarkToml.get());
        return reader.result(projectDir, workerName);
    }

    private void merge(ConfigValue source) throws ConfigException {
        for (Map.Entry<String, ConfigValue> e : source.members().entrySet()) {
            String key = e.getKey();
            ConfigValue value = e.getValue();
            if (LEAVES.contains(key)) {
                put(key, value);
            } else if (TABLES.containsKey(key)) {
                Set<String> known = TABLES.get(key);
                boolean anyKey = key.equals("secrets");
                for (Map.Entry<String, ConfigValue> sub : value.members().entrySet()) {
                    if (!anyKey && !known.contains(sub.getKey())) {
                        throw sub.getValue().error("is not a Bulwark setting; " + key + " has "
                                + String.join(", ", known.stream().sorted().toList()));
                    }
                    put(key + "." + sub.getKey(), sub.getValue());
                }
            } else {
                List<String> all = new ArrayList<>(LEAVES);
                all.addAll(TABLES.keySet());
                Collections.sort(all);
                throw value.error("is not a Bulwark setting; the settings are " + String.join(", ", all));
            }
        }
    }

    private void put(String key, ConfigValue value) {
        ConfigValue previous = merged.put(key, value);
        if (previous != null) {
            String where = previous.file().equals(value.file()) ? "" : " in " + previous.file();
            warnings.add(value.file() + ": " + value.path() + " overrides " + previous.path() + where);
        }
    }

    private Result result(Path projectDir, String workerName) throws ConfigException {
        String host = orDefault(get("host"), Settings.DEFAULT_HOST, v -> {
            String s = v.nonEmptyString();
            if (!HOST.matcher(s).matches()) throw v.invalid("a host name or IP address");
            return s;
        });
        int port = orDefault(get("port"), Settings.DEFAULT_PORT, v -> v.integer(0, 65_535, "an integer from 0 to 65535"));
        Path dataDir = orDefault(get("data_dir"), Settings.defaultDataDir(projectDir), v -> {
            try {
                return projectDir.resolve(v.nonEmptyString()).normalize();
            } catch (InvalidPathException e) {
                throw v.invalid("a directory path");
            }
        });
        String tenant = orDefault(get("tenant"), workerName, v -> {
            String s = v.nonEmptyString();
            if (!ProjectLoader.isValidName(s)) throw v.invalid(ProjectLoader.NAME_REQUIREMENT);
            return s;
        });
        Map<String, String> secrets = secrets();
        Settings settings = new Settings(host, port, dataDir, tenant, limits(), sandboxes(), egress(), frontDoor(), api(), facets(),
                GovernanceReader.read(this::get, projectDir, secrets.keySet()), storage());
        return new Result(settings, secrets);
    }

    private Limits limits() throws ConfigException {
        Limits d = Limits.DEFAULTS;
        return new Limits(
                positiveLong("limits.cpu_ms", d.cpuMs()),
                positiveLong("limits.wall_ms", d.wallMs()),
                orDefault(get("limits.heap_mb"), d.heapMb(), v -> v.integer(1, Integer.MAX_VALUE, POSITIVE)),
                orDefault(get("limits.subrequests"), d.subrequests(), v -> v.integer(0, Integer.MAX_VALUE, NON_NEGATIVE)),
                positiveLong("limits.code_bytes", d.codeBytes()),
                positiveLong("limits.env_bytes", d.envBytes()),
                orDefault(get("limits.request_body_bytes"), d.requestBodyBytes(),
                        v -> v.integer(0L, Long.MAX_VALUE, NON_NEGATIVE)));
    }

    private SandboxSettings sandboxes() throws ConfigException {
        SandboxSettings d = SandboxSettings.DEFAULTS;
        return new SandboxSettings(
                orDefault(get("sandboxes.processes_per_tenant"), d.processesPerTenant(),
                        v -> v.integer(1, Integer.MAX_VALUE, POSITIVE)),
                orDefault(get("sandboxes.isolates_per_worker"), d.isolatesPerWorker(),
                        v -> v.integer(1, Integer.MAX_VALUE, POSITIVE)),
                positiveLong("sandboxes.rss_ceiling_mb", d.rssCeilingMb()),
                orDefault(get("sandboxes.pool_size"), d.poolSize(), v -> v.integer(0, Integer.MAX_VALUE, NON_NEGATIVE)),
                orDefault(get("sandboxes.jvm_options"), d.jvmOptions(), v -> {
                    for (ConfigValue option : v.elements()) {
                        if (!option.nonEmptyString().startsWith("-")) throw option.invalid("a JVM option starting with '-'");
                    }
                    return v.strings();
                }),
                orDefault(get("sandboxes.dynamic_workers_max"), d.dynamicWorkersMax(),
                        v -> v.integer(1, Integer.MAX_VALUE, POSITIVE)),
                positiveLong("sandboxes.object_idle_ms", d.objectIdleMs()),
                orDefault(get("sandboxes.confine"), d.confine(), v -> switch (v.nonEmptyString()) {
                    case "auto" -> SandboxSettings.Confine.AUTO;
                    case "require" -> SandboxSettings.Confine.REQUIRE;
                    case "off" -> SandboxSettings.Confine.OFF;
                    default -> throw v.invalid("\"auto\", \"require\" or \"off\"");
                }),
                orDefault(get("sandboxes.websockets_per_object"), d.websocketsPerObject(),
                        v -> v.integer(1, Integer.MAX_VALUE, POSITIVE)),
                nonNegativeLong("sandboxes.object_storage_idle_ms", d.objectStorageIdleMs()),
                sessionSandboxes(),
                dormantWorkers());
    }

    private DormantWorkerSettings dormantWorkers() throws ConfigException {
        DormantWorkerSettings d = DormantWorkerSettings.DEFAULTS;
        return new DormantWorkerSettings(
                nonNegativeLong("sandboxes.dynamic_workers_idle_isolate_ms", d.idleIsolateMs()),
                orDefault(get("sandboxes.dynamic_workers_dormant_max"), d.max(), v -> v.integer(0, Integer.MAX_VALUE, NON_NEGATIVE)));
    }

    private SessionSandboxSettings sessionSandboxes() throws ConfigException {
        SessionSandboxSettings d = SessionSandboxSettings.DEFAULTS;
        return new SessionSandboxSettings(
                orDefault(get("sandboxes.session_process"), d.per(), v -> switch (v.nonEmptyString()) {
                    case "session" -> SessionSandboxSettings.Per.SESSION;
                    case "run" -> SessionSandboxSettings.Per.RUN;
                    default -> throw v.invalid("\"session\" or \"run\"");
                }),
                orDefault(get("sandboxes.session_max"), d.max(), v -> v.integer(1, Integer.MAX_VALUE, POSITIVE)),
                orDefault(get("sandboxes.session_max_per_tenant"), d.perTenant(), v -> v.integer(1, Integer.MAX_VALUE, POSITIVE)),
                nonNegativeLong("sandboxes.session_wait_ms", d.waitMs()),
                orDefault(get("sandboxes.session_spares"), d.spares(), v -> v.integer(0, 64, "an integer from 0 to 64")),
                positiveLong("sandboxes.session_spare_idle_ms", d.spareIdleMs()),
                nonNegativeLong("sandboxes.session_idle_ms", d.idleMs()));
    }

    private EgressSettings egress() throws ConfigException {
        List<String> allow = orDefault(get("egress.allow"), List.of(), v -> {
            List<String> patterns = new ArrayList<>();
            for (ConfigValue element : v.elements()) {
                String pattern = element.nonEmptyString().toLowerCase(Locale.ROOT);
                if (!EgressSettings.isHostPattern(pattern)) {
                    throw element.invalid("a host pattern such as \"api.example.com\" or \"*.example.org\"");
                }
                patterns.add(pattern);
            }
            return patterns;
        });
        boolean privateNetworks = orDefault(get("egress.allow_private_networks"), false, ConfigValue::bool);
        boolean loopback = orDefault(get("egress.test_only_allow_loopback"), false, ConfigValue::bool);
        if (loopback) warnings.add("egress.test_only_allow_loopback is set: workers can reach loopback addresses (tests only)");
        List<EgressRule> rules = orDefault(get("egress.rules"), List.of(), v -> {
            List<EgressRule> list = new ArrayList<>();
            for (ConfigValue element : v.elements()) list.add(egressRule(element));
            return list;
        });
        EgressSettings settings = new EgressSettings(allow, privateNetworks).withRules(rules).withLimits(
                positiveLong("egress.max_response_bytes", EgressSettings.DEFAULT_MAX_RESPONSE_BYTES),
                positiveLong("egress.timeout_ms", EgressSettings.DEFAULT_TIMEOUT_MS),
                orDefault(get("egress.max_concurrent"), EgressSettings.DEFAULT_MAX_CONCURRENT,
                        v -> v.integer(1, Integer.MAX_VALUE, POSITIVE)),
                orDefault(get("egress.max_concurrent_per_tenant"), EgressSettings.DEFAULT_MAX_CONCURRENT_PER_TENANT,
                        v -> v.integer(1, Integer.MAX_VALUE, POSITIVE)));
        return loopback ? settings.withTestOnlyLoopbackAllowed() : settings;
    }

    private static final Set<String> RULE_KEYS = Set.of("host", "schemes", "ports", "path_prefix", "methods", "workers",
            "tenants");

    private static EgressRule egressRule(ConfigValue v) throws ConfigException {
        Map<String, ConfigValue> members = v.members();
        for (Map.Entry<String, ConfigValue> e : members.entrySet()) {
            if (!RULE_KEYS.contains(e.getKey())) {
                throw e.getValue().error("is not a key of an egress rule; a rule has "
                        + String.join(", ", RULE_KEYS.stream().sorted().toList()));
            }
        }
        String host = v.required("host").nonEmptyString().toLowerCase(Locale.ROOT);
        if (!EgressSettings.isHostPattern(host)) {
            throw v.required("host").invalid("a host pattern such as \"api.example.com\" or \"*.example.org\"");
        }
        Set<String> schemes = new java.util.HashSet<>();
        for (ConfigValue s : list(v, "schemes")) {
            String scheme = s.nonEmptyString().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") && !scheme.equals(EgressRule.TCP)) {
                throw s.invalid("\"http\", \"https\" or \"tcp\"");
            }
            schemes.add(scheme);
        }
        Set<Integer> ports = new java.util.HashSet<>();
        for (ConfigValue p : list(v, "ports")) ports.add(p.integer(1, 65_535, "a port from 1 to 65535"));
        String prefix = "";
        Optional<ConfigValue> pathPrefix = v.optional("path_prefix");
        if (pathPrefix.isPresent()) {
            prefix = pathPrefix.get().nonEmptyString();
            if (!prefix.startsWith("/") || prefix.contains("/../") || prefix.contains("/./")) {
                throw pathPrefix.get().invalid("a URL path starting with '/'");
            }
        }
        Set<String> methods = new java.util.HashSet<>();
        for (ConfigValue m : list(v, "methods")) {
            String method = m.nonEmptyString().toUpperCase(Locale.ROOT);
            if (!method.matches("[A-Z]+")) throw m.invalid("an HTTP method such as \"GET\"");
            methods.add(method);
        }
        Set<String> workers = new java.util.HashSet<>();
        for (ConfigValue w : list(v, "workers")) workers.add(w.nonEmptyString());
        Set<String> tenants = new java.util.HashSet<>();
        for (ConfigValue t : list(v, "tenants")) tenants.add(t.nonEmptyString());
        return new EgressRule(host, schemes, ports, prefix, methods, workers, tenants);
    }

    private static List<ConfigValue> list(ConfigValue v, String key) throws ConfigException {
        Optional<ConfigValue> o = v.optional(key);
        return o.isPresent() ? o.get().elements() : List.of();
    }

    private FrontDoorSettings frontDoor() throws ConfigException {
        List<String> proxies = orDefault(get("front_door.trusted_proxies"), List.of(), v -> {
            for (ConfigValue element : v.elements()) {
                if (!FrontDoorSettings.isAddressOrBlock(element.nonEmptyString())) {
                    throw element.invalid("an IP address or CIDR block such as \"10.0.0.0/8\"");
                }
            }
            return v.strings();
        });
        String colo = orDefault(get("front_door.colo"), FrontDoorSettings.DEFAULTS.colo(), ConfigValue::nonEmptyString);
        FrontDoorSettings settings = new FrontDoorSettings(proxies, colo);
        int max = orDefault(get("front_door.max_concurrent_requests"), settings.maxConcurrentRequests(),
                v -> v.integer(1, 1_000_000, POSITIVE));
        long wsBuffer = orDefault(get("front_door.websocket_buffer_bytes"), settings.webSocketBufferBytes(),
                v -> v.integer(1L << 20, Long.MAX_VALUE, "an integer of at least 1048576 (1 MiB)"));
        return settings.withMaxConcurrentRequests(max).withWebSocketBufferBytes(wsBuffer);
    }

    private static final Set<String> KEY_KEYS = Set.of("tenant", "key_sha256");

    /** {@code api.keys}: tables of {@code tenant} and {@code key_sha256}; a digest given twice is an error. */
    private ApiSettings api() throws ConfigException {
        List<ApiSettings.Key> keys = orDefault(get("api.keys"), List.of(), v -> {
            List<ApiSettings.Key> list = new ArrayList<>();
            Set<String> digests = new java.util.HashSet<>();
            for (ConfigValue element : v.elements()) {
                for (Map.Entry<String, ConfigValue> e : element.members().entrySet()) {
                    if (!KEY_KEYS.contains(e.getKey())) {
                        throw e.getValue().error("is not a key of an API key; an API key has key_sha256, tenant");
                    }
                }
                ConfigValue tenantValue = element.required("tenant");
                String tenant = tenantValue.nonEmptyString();
                if (!ProjectLoader.isValidName(tenant)) throw tenantValue.invalid(ProjectLoader.NAME_REQUIREMENT);
                ConfigValue digestValue = element.required("key_sha256");
                if (!digestValue.node().isTextual() || !ApiSettings.isDigest(digestValue.node().textValue())) {
                    throw digestValue.invalidRedacted("the SHA-256 of the key as 64 lower-case hex digits "
                            + "(printf %s \"$KEY\" | sha256sum)");
                }
                String hex = digestValue.node().textValue();
                if (!digests.add(hex)) throw digestValue.error("is the digest of a key listed before");
                list.add(new ApiSettings.Key(tenant, ApiSettings.parseDigest(hex)));
            }
            return list;
        });
        return new ApiSettings(keys);
    }

    private Map<String, String> secrets() throws ConfigException {
        Map<String, String> secrets = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigValue> e : merged.entrySet()) {
            if (!e.getKey().startsWith("secrets.")) continue;
            ConfigValue v = e.getValue();
            if (!v.node().isTextual()) throw v.invalidRedacted("a string");
            secrets.put(e.getKey().substring("secrets.".length()), v.node().textValue());
        }
        return secrets;
    }

    private FacetSettings facets() throws ConfigException {
        FacetSettings d = FacetSettings.NONE;
        return new FacetSettings(
                orDefault(get("facets.max_facets"), d.maxFacets(), v -> v.integer(0, Integer.MAX_VALUE, NON_NEGATIVE)),
                nonNegativeLong("facets.max_bytes_per_facet", d.maxBytesPerFacet()),
                nonNegativeLong("facets.max_bytes_total", d.maxBytesTotal()),
                nonNegativeLong("facets.cpu_ms_per_period", d.cpuMsPerPeriod()),
                positiveLong("facets.period_ms", d.periodMs()),
                nonNegativeLong("facets.requests_per_second", d.requestsPerSecond()),
                orDefault(get("facets.route_prefix"), null, v -> {
                    String p = v.string();
                    if (!FacetSettings.isPrefix(p)) throw v.invalid("\"/\" or a path like \"/apps\" (no trailing '/', '*', '?' or '%')");
                    return p;
                }),
                orDefault(get("facets.route_object"), FacetSettings.DEFAULT_ROUTE_OBJECT, v -> {
                    String o = v.string();
                    if (o.isEmpty() || o.length() > 1024) throw v.invalid("a non-empty object name");
                    return o;
                }));
    }

    /**
     * Below 1 KiB even a small record would not fit. A value is copied whole into the sandbox's
     * JVM (-Xmx256m, SandboxLauncher) on its way in and out, so a few at once must fit there.
     */
    static final long MIN_VALUE_BYTES = 1 << 10;
    static final long MAX_VALUE_BYTES = 64 << 20;
    /** An object's schema and the KV table take a few pages; SQLite itself stops near 16 TiB (4 KiB pages). */
    static final long MIN_DATABASE_BYTES = 1 << 20;
    static final long MAX_DATABASE_BYTES = 1L << 40;

    private StorageOptions storage() throws ConfigException {
        StorageOptions d = StorageOptions.defaults();
        return new StorageOptions(
                orDefault(get("storage.max_value_bytes"), d.maxValueBytes(), v -> v.integer(MIN_VALUE_BYTES, MAX_VALUE_BYTES,
                        "a number of bytes from " + MIN_VALUE_BYTES + " (1 KiB) to " + MAX_VALUE_BYTES + " (64 MiB)")),
                orDefault(get("storage.max_database_bytes"), d.maxDatabaseBytes(), v -> v.integer(MIN_DATABASE_BYTES,
                        MAX_DATABASE_BYTES, "a number of bytes from " + MIN_DATABASE_BYTES + " (1 MiB) to " + MAX_DATABASE_BYTES + " (1 TiB)")),
                orDefault(get("storage.durability"), d.durability(), v -> switch (v.nonEmptyString()) {
                    case "normal" -> Durability.NORMAL;
                    case "full" -> Durability.FULL;
                    default -> throw v.invalid("\"normal\" or \"full\"");
                }));
    }

    private long nonNegativeLong(String key, long dflt) throws ConfigException {
        return orDefault(get(key), dflt, v -> v.integer(0L, Long.MAX_VALUE, NON_NEGATIVE));
    }

    private long positiveLong(String key, long dflt) throws ConfigException {
        return orDefault(get(key), dflt, v -> v.integer(1L, Long.MAX_VALUE, POSITIVE));
    }

    private Optional<ConfigValue> get(String key) {
        return Optional.ofNullable(merged.get(key));
    }

    /** Reads a setting that may throw ConfigException. */
    private interface Reader<T> {
        T read(ConfigValue value) throws ConfigException;
    }

    private static <T> T orDefault(Optional<ConfigValue> value, T dflt, Reader<T> reader) throws ConfigException {
        return value.isPresent() ? reader.read(value.get()) : dflt;
    }
}
