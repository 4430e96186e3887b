package dev.bulwark.server.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.WorkerBundle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Reads a Workers project directory into a {@link ProjectConfig}: its wrangler file (the subset
 * Bulwark serves; everything else is warned about, once per key), Bulwark's settings from the
 * wrangler file's {@code bulwark} section and {@code bulwark.toml}, secrets from {@code .dev.vars},
 * and the worker's modules. See docs/configuration.md.
 */
public final class ProjectLoader {

    /** The wrangler files looked for, in order; the first found is read. */
    public static final List<String> WRANGLER_FILES = List.of("wrangler.jsonc", "wrangler.json", "wrangler.toml");

    static final String NAME_REQUIREMENT = "a name of at most 63 letters, digits, '-' and '_', not starting with '-'";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_-]{0,62}");
    private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    /** Keys Bulwark reads (or deliberately accepts without effect). */
    private static final Set<String> KNOWN = Set.of("name", "main", "compatibility_date", "compatibility_flags", "vars",
            "durable_objects", "migrations", "worker_loaders", "services", "rules", "no_bundle",
            "find_additional_modules", "base_dir", "workers_dev", "bulwark", "$schema", "limits", "route", "routes");

    /** Keys wrangler knows that Bulwark does not implement (yet). */
    private static final Set<String> UNSUPPORTED = Set.of("account_id", "ai", "alias", "analytics_engine_datasets",
            "assets", "browser", "build", "cloudchamber", "compliance_region", "containers", "d1_databases",
            "data_blobs", "define", "dev", "dispatch_namespaces", "env", "first_party_worker", "hyperdrive", "images",
            "jsx_factory", "jsx_fragment", "keep_names", "keep_vars", "kv_namespaces", "legacy_env", "logfwdr",
            "logpush", "minify", "mtls_certificates", "node_compat", "observability", "pipelines", "placement",
            "preserve_file_names", "preview_urls", "python_modules", "queues", "r2_buckets", "ratelimits",
            "secrets", "secrets_store_secrets", "send_email", "send_metrics", "site", "streaming_tail_consumers",
            "tail_consumers", "text_blobs", "triggers", "tsconfig", "unsafe", "upload_source_maps", "usage_model",
            "vectorize", "version_metadata", "vpc_services", "wasm_modules", "workflows");

    private ProjectLoader() {
    }

    /**
     * Reads {@code dir}'s {@code wrangler.jsonc} | {@code wrangler.json} | {@code wrangler.toml} (the
     * first found in that order), {@code bulwark.toml} beside it if present, and {@code .dev.vars} if
     * present, and collects the worker's modules.
     *
     * @throws ConfigException if there is no wrangler file, a file cannot be parsed, a value has the
     *                         wrong type or is out of range, {@code main} is missing or outside the
     *                         project, or the code or env exceeds its limit
     */
    public static ProjectConfig load(Path dir) throws ConfigException {
        return load(dir, UnaryOperator.identity());
    }

    /**
     * Like {@link #load(Path)}, with {@code overrides} applied to the settings read before they are
     * used, e.g. {@code s -> s.withPort(port).withDataDir(data)} for {@code bulwark serve --port --data}:
     * the overridden data directory is then the one module discovery skips, and overridden limits
     * are the ones the code and env sizes are checked against.
     */
    public static ProjectConfig load(Path dir, UnaryOperator<Settings> overrides) throws ConfigException {
        return load(dir, null, overrides);
    }

    /**
     * Like {@link #load(Path, UnaryOperator)}, with the main module taken from {@code mainOverride}
     * (absolute, or relative to the project directory or else the working directory; inside the project) instead of the
     * wrangler file's {@code main}: {@code bulwark serve --main dist/index.js} serves a built bundle
     * with the project's own configuration. Null: the wrangler file's {@code main}.
     */
    public static ProjectConfig load(Path dir, Path mainOverride, UnaryOperator<Settings> overrides)
            throws ConfigException {
        Path directory = projectDirectory(dir);
        Warnings warnings = new Warnings();
        ConfigValue root = ConfigFiles.read(wranglerFile(directory, warnings));
        String file = root.file();

        root.warnUnknownKeys(KNOWN, UNSUPPORTED, warnings);
        checkInertKeys(root);
        String name = name(root, directory, warnings);
        String compatibilityDate = compatibilityDate(root, warnings);
        Optional<ConfigValue> flagsValue = root.optional("compatibility_flags");
        List<String> compatibilityFlags = flagsValue.isPresent() ? flagsValue.get().strings() : List.of();
        for (String flag : compatibilityFlags) {
            // Accepted so that the project loads; only the Node.js flags change Bulwark's behaviour yet.
            if (!Compatibility.isKnownFlag(flag)) {
                warnings.add(file + ": compatibility flag '" + flag + "' is not supported yet and has no effect");
            }
        }
        Map<String, JsonNode> vars = vars(root);

        List<DurableObjectBinding> durableObjects = BindingsReader.durableObjects(root, warnings);
        List<Migration> migrations = BindingsReader.migrations(root, warnings);
        List<WorkerLoaderBinding> workerLoaders = BindingsReader.workerLoaders(root, warnings);
        List<ServiceBinding> services = BindingsReader.services(root, warnings);
        BindingsReader.warnUnmigratedClasses(file, durableObjects, migrations, warnings);

        SettingsReader.Result read = SettingsReader.read(root, bulwarkToml(directory), devVars(directory), directory,
                name, warnings);
        Settings settings = Objects.requireNonNull(overrides.apply(read.settings()), "overridden settings");
        Map<String, String> secrets = read.secrets();
        vars.keySet().removeAll(secrets.keySet());   // a secret replaces a var of its name, as in wrangler dev
        checkBindingNames(file, vars, secrets, durableObjects, workerLoaders, services);
        checkEnvSize(file, vars, secrets, settings.limits().envBytes());

        ModuleRules rules = ModuleRules.read(root, warnings);
        List<Route> routes = routes(root);
        Path[] moduleRoot = new Path[1];
        WorkerBundle bundle = bundle(root, directory, mainOverride, rules, settings, warnings, moduleRoot)
                .withCompatibility(new Compatibility(compatibilityDate, compatibilityFlags));
        String relativeRoot = directory.relativize(moduleRoot[0]).toString();
        String sourceRoot = relativeRoot.isEmpty() ? "" : relativeRoot.replace('\\', '/') + "/";
        return new ProjectConfig(directory, name, bundle, compatibilityDate, compatibilityFlags, vars, secrets,
                durableObjects, migrations, workerLoaders, services, rules.effective(), settings, warnings.list(),
                routes, sourceRoot, workersDev(root));
    }

    /** Whether {@code name} may name a worker or a tenant. */
    static boolean isValidName(String name) {
        return NAME.matcher(name).matches();
    }

    /** The project directory as a real path (symbolic links resolved), so that walking it walks its files. */
    private static Path projectDirectory(Path dir) throws ConfigException {
        Path absolute = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(absolute)) throw new ConfigException(absolute + ": not a directory");
        try {
            return absolute.toRealPath();
        } catch (IOException e) {
            throw new ConfigException(absolute + ": cannot be resolved: " + e, e);
        }
    }

    /** Keys accepted without effect must still have the right type. */
    private static void checkInertKeys(ConfigValue root) throws ConfigException {
        for (String flag : List.of("no_bundle", "find_additional_modules", "workers_dev")) {
            Optional<ConfigValue> value = root.optional(flag);
            if (value.isPresent()) value.get().bool();
        }
        Optional<ConfigValue> schema = root.optional("$schema");
        if (schema.isPresent()) schema.get().string();
    }

    private static Optional<ConfigValue> bulwarkToml(Path directory) throws ConfigException {
        Path path = directory.resolve(SettingsReader.BULWARK_TOML);
        return Files.isRegularFile(path) ? Optional.of(ConfigFiles.read(path)) : Optional.empty();
    }

    private static Map<String, String> devVars(Path directory) throws ConfigException {
        Path path = directory.resolve(DevVars.FILE_NAME);
        return Files.isRegularFile(path) ? DevVars.parse(ConfigFiles.readText(path, DevVars.FILE_NAME)) : Map.of();
    }

    /**
     * main and the modules the rules find under the base directory. Both are taken as real paths
     * (already checked to be inside the project), so a base directory reached through a link is walked.
     */
    private static WorkerBundle bundle(ConfigValue root, Path directory, Path mainOverride, ModuleRules rules,
                                       Settings settings, Warnings warnings, Path[] moduleRootOut)
            throws ConfigException {
        Optional<Path> baseDir = baseDir(root, directory);
        Path main = mainOverride != null ? mainOverride(directory, mainOverride) : main(root, directory, baseDir);
        Path realMain = realPath(main);
        // A built bundle given with --main is its own module root unless it lies inside base_dir.
        Optional<Path> base = baseDir.filter(b -> mainOverride == null || realMain.startsWith(realPathOrSelf(b)));
        Path moduleRoot = realPath(base.orElse(main.getParent()));
        if (!realMain.startsWith(moduleRoot)) {
            throw new ConfigException(root.file() + ": main '" + root.required("main").string() + "' is not inside base_dir");
        }
        moduleRootOut[0] = moduleRoot;
        return BundleCollector.collect(root.file(), moduleRoot, realMain, rules, settings.dataDir(),
                settings.limits().codeBytes(), warnings);
    }

    /**
     * The --main of the command line: an existing file inside the project directory. A relative
     * path is taken from the project directory when it names a file there, else from the working
     * directory.
     */
    private static Path mainOverride(Path directory, Path given) throws ConfigException {
        Path main = given.toAbsolutePath().normalize();
        if (!given.isAbsolute() && Files.isRegularFile(directory.resolve(given))) main = directory.resolve(given).normalize();
        if (!Files.isRegularFile(main)) throw new ConfigException("--main " + given + ": no such file");
        Path real = realPath(main);
        if (!real.startsWith(directory)) {
            throw new ConfigException("--main " + given + ": not inside the project directory " + directory);
        }
        return real;
    }

    private static Path realPathOrSelf(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path;
        }
    }

    private static boolean workersDev(ConfigValue root) throws ConfigException {
        Optional<ConfigValue> value = root.optional("workers_dev");
        return value.isEmpty() || value.get().bool();
    }

    /** wrangler's {@code routes} (a list) or {@code route} (one): strings, or objects with a pattern. */
    private static List<Route> routes(ConfigValue root) throws ConfigException {
        List<Route> routes = new java.util.ArrayList<>();
        Optional<ConfigValue> many = root.optional("routes");
        if (many.isPresent()) {
            for (ConfigValue element : many.get().elements()) routes.add(route(element));
        }
        Optional<ConfigValue> one = root.optional("route");
        if (one.isPresent()) routes.add(route(one.get()));
        return routes;
    }

    private static Route route(ConfigValue value) throws ConfigException {
        ConfigValue patternValue = value;
        boolean customDomain = false;
        if (value.node().isObject()) {
            patternValue = value.required("pattern");
            Optional<ConfigValue> custom = value.optional("custom_domain");
            if (custom.isPresent()) customDomain = custom.get().bool();
            for (String zone : List.of("zone_name", "zone_id")) {
                Optional<ConfigValue> z = value.optional(zone);
                if (z.isPresent()) z.get().string(); // accepted: a node has no zones
            }
        }
        String pattern = patternValue.nonEmptyString().toLowerCase(Locale.ROOT);
        if (!Route.isValid(pattern, customDomain)) {
            throw patternValue.invalid(customDomain ? "a host name such as \"shop.example.com\" (a custom domain has no path)"
                    : "a route pattern such as \"example.com/*\" or \"*.example.com/api/*\"");
        }
        return new Route(pattern, customDomain);
    }

    private static Path realPath(Path path) throws ConfigException {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            throw new ConfigException(path + ": cannot be resolved: " + e, e);
        }
    }

    private static Path wranglerFile(Path directory, Warnings warnings) throws ConfigException {
        Path chosen = null;
        for (String candidate : WRANGLER_FILES) {
            Path path = directory.resolve(candidate);
            if (!Files.isRegularFile(path)) continue;
            if (chosen == null) {
                chosen = path;
            } else {
                warnings.add(candidate + ": ignored, " + chosen.getFileName() + " is read instead");
            }
        }
        if (chosen == null) {
            throw new ConfigException(directory + ": no " + String.join(", ", WRANGLER_FILES) + " found");
        }
        return chosen;
    }

    private static String name(ConfigValue root, Path directory, Warnings warnings) throws ConfigException {
        Optional<ConfigValue> value = root.optional("name");
        if (value.isPresent()) {
            String name = value.get().nonEmptyString();
            if (!isValidName(name)) throw value.get().invalid(NAME_REQUIREMENT);
            return name;
        }
        String name = nameFromDirectory(directory);
        warnings.add(root.file() + ": name is not set; using '" + name + "' from the directory name");
        return name;
    }

    private static String nameFromDirectory(Path directory) {
        Path last = directory.getFileName();
        String name = last == null ? "" : last.toString().toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9_-]+", "-").replaceAll("^-+", "");
        if (name.length() > 63) name = name.substring(0, 63);
        return name.isEmpty() ? "worker" : name;
    }

    private static String compatibilityDate(ConfigValue root, Warnings warnings) throws ConfigException {
        Optional<ConfigValue> value = root.optional("compatibility_date");
        if (value.isEmpty()) {
            warnings.add(root.file() + ": compatibility_date is not set");
            return null;
        }
        String date = value.get().nonEmptyString();
        try {
            if (!DATE.matcher(date).matches()) throw value.get().invalid("a date YYYY-MM-DD");
            LocalDate.parse(date);
        } catch (DateTimeParseException e) {
            throw value.get().invalid("a date YYYY-MM-DD");
        }
        return date;
    }

    private static Map<String, JsonNode> vars(ConfigValue root) throws ConfigException {
        Map<String, JsonNode> vars = new LinkedHashMap<>();
        Optional<ConfigValue> section = root.optional("vars");
        if (section.isEmpty()) return vars;
        for (Map.Entry<String, ConfigValue> e : section.get().members().entrySet()) {
            if (e.getKey().isBlank()) throw section.get().error("has a var with an empty name");
            vars.put(e.getKey(), e.getValue().node());
        }
        return vars;
    }

    private static Optional<Path> baseDir(ConfigValue root, Path directory) throws ConfigException {
        Optional<ConfigValue> value = root.optional("base_dir");
        if (value.isEmpty()) return Optional.empty();
        Path baseDir = inside(directory, value.get().nonEmptyString(), value.get());
        if (!Files.isDirectory(baseDir)) throw value.get().error("'" + value.get().string() + "' is not a directory");
        checkRealPathInside(directory, baseDir, value.get());
        return Optional.of(baseDir);
    }

    /** main relative to the project directory, or failing that, relative to base_dir. */
    private static Path main(ConfigValue root, Path directory, Optional<Path> baseDir) throws ConfigException {
        Optional<ConfigValue> value = root.optional("main");
        if (value.isEmpty()) {
            throw new ConfigException(root.file() + ": main is required (the path of the worker's entry module)");
        }
        String relative = value.get().nonEmptyString();
        Path main = inside(directory, relative, value.get());
        if (!Files.exists(main) && baseDir.isPresent()) {
            Path underBase = inside(directory, baseDir.get().resolve(relative).toString(), value.get());
            if (Files.exists(underBase)) main = underBase;
        }
        if (!Files.exists(main)) throw value.get().error("'" + relative + "' does not exist (looked for " + main + ")");
        if (!Files.isRegularFile(main)) throw value.get().error("'" + relative + "' is not a file");
        checkRealPathInside(directory, main, value.get());
        return main;
    }

    /** {@code relative} resolved against {@code directory}, which it must not leave. */
    private static Path inside(Path directory, String relative, ConfigValue value) throws ConfigException {
        Path path;
        try {
            path = directory.resolve(relative).normalize();
        } catch (InvalidPathException e) {
            throw value.invalid("a path");
        }
        if (!path.startsWith(directory)) {
            throw value.error("'" + relative + "' is outside the project directory " + directory);
        }
        return path;
    }

    /** Rejects a path that leaves the project directory through a symbolic link. */
    private static void checkRealPathInside(Path directory, Path path, ConfigValue value) throws ConfigException {
        try {
            if (!path.toRealPath().startsWith(directory.toRealPath())) {
                throw value.error("'" + value.string() + "' leads outside the project directory through a symbolic link");
            }
        } catch (IOException e) {
            throw value.error("cannot be resolved: " + e);
        }
    }

    private static void checkBindingNames(String file, Map<String, JsonNode> vars, Map<String, String> secrets,
                                          List<DurableObjectBinding> durableObjects,
                                          List<WorkerLoaderBinding> workerLoaders,
                                          List<ServiceBinding> services) throws ConfigException {
        Map<String, String> owners = new LinkedHashMap<>();
        for (String v : vars.keySet()) claim(file, owners, v, "vars." + v);
        for (String s : secrets.keySet()) claim(file, owners, s, "secret " + s);
        for (int i = 0; i < durableObjects.size(); i++) {
            claim(file, owners, durableObjects.get(i).name(), "durable_objects.bindings[" + i + "].name");
        }
        for (int i = 0; i < workerLoaders.size(); i++) {
            claim(file, owners, workerLoaders.get(i).binding(), "worker_loaders[" + i + "].binding");
        }
        for (int i = 0; i < services.size(); i++) {
            claim(file, owners, services.get(i).binding(), "services[" + i + "].binding");
        }
    }

    private static void claim(String file, Map<String, String> owners, String name, String owner) throws ConfigException {
        String earlier = owners.putIfAbsent(name, owner);
        if (earlier != null) {
            throw new ConfigException(file + ": binding name '" + name + "' is used by both " + earlier + " and " + owner);
        }
    }

    /** The env (vars and secrets) serialized as JSON must fit limits.env_bytes. */
    private static void checkEnvSize(String file, Map<String, JsonNode> vars, Map<String, String> secrets, long limit)
            throws ConfigException {
        ObjectNode env = JsonNodeFactory.instance.objectNode();
        vars.forEach(env::set);
        secrets.forEach(env::put);
        long size;
        try {
            size = JSON.writeValueAsBytes(env).length;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
        if (size > limit) {
            throw new ConfigException(file + ": vars and secrets serialize to " + BundleCollector.bytes(size)
                    + " of JSON, over limits.env_bytes of " + BundleCollector.bytes(limit));
        }
    }
}
