package dev.bulwark.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulwark.sandbox.worker.WorkerBundle;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Everything {@code bulwark serve <dir>} needs to serve one Workers project, as read by
 * {@link ProjectLoader#load}. Immutable; {@link #toString()} shows secret names, never their values.
 *
 * @param directory          the project directory, absolute, symbolic links resolved
 * @param name               the worker's name
 * @param bundle             the main module and every module found by the rules
 * @param compatibilityDate  {@code YYYY-MM-DD}, or null if the project has none
 * @param compatibilityFlags compatibility flags, in file order
 * @param vars               plain env vars as JSON values (strings, numbers, booleans, objects, arrays);
 *                           a var of the same name as a secret is not here (the secret replaces it)
 * @param secrets            secret env values, from {@code .dev.vars} and the {@code secrets} setting
 * @param durableObjects     durable object namespace bindings
 * @param migrations         durable object migrations, in order
 * @param workerLoaders      worker loader bindings
 * @param services           service bindings
 * @param rules              the module rules in effect: the project's, then the defaults they do not shadow
 * @param settings           Bulwark's own settings
 * @param warnings           what was ignored or overridden, one line each, for the operator
 * @param routes             the wrangler {@code routes} (and {@code route}): which hosts and paths reach the worker
 * @param sourceRoot         where module names start, relative to the project directory ({@code "src/"},
 *                           or {@code ""}): prefixed to module names in messages, so they are project paths
 * @param workersDev         wrangler's {@code workers_dev} (default true): whether the worker also answers on its
 *                           name as the host ({@code <name>.localhost}), Bulwark's counterpart of a workers.dev URL
 */
public record ProjectConfig(
        Path directory,
        String name,
        WorkerBundle bundle,
        String compatibilityDate,
        List<String> compatibilityFlags,
        Map<String, JsonNode> vars,
        Map<String, String> secrets,
        List<DurableObjectBinding> durableObjects,
        List<Migration> migrations,
        List<WorkerLoaderBinding> workerLoaders,
        List<ServiceBinding> services,
        List<ModuleRule> rules,
        Settings settings,
        List<String> warnings,
        List<Route> routes,
        String sourceRoot,
        boolean workersDev) {

    /** A configuration without routes whose modules are named from the project directory. */
    public ProjectConfig(Path directory, String name, WorkerBundle bundle, String compatibilityDate,
                         List<String> compatibilityFlags, Map<String, JsonNode> vars, Map<String, String> secrets,
                         List<DurableObjectBinding> durableObjects, List<Migration> migrations,
                         List<WorkerLoaderBinding> workerLoaders, List<ServiceBinding> services, List<ModuleRule> rules,
                         Settings settings, List<String> warnings) {
        this(directory, name, bundle, compatibilityDate, compatibilityFlags, vars, secrets, durableObjects, migrations,
                workerLoaders, services, rules, settings, warnings, List.of(), "", true);
    }

    public ProjectConfig {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(settings, "settings");
        compatibilityFlags = List.copyOf(compatibilityFlags);
        vars = copyOfVars(vars);
        secrets = Collections.unmodifiableMap(new LinkedHashMap<>(secrets));
        durableObjects = List.copyOf(durableObjects);
        migrations = List.copyOf(migrations);
        workerLoaders = List.copyOf(workerLoaders);
        services = List.copyOf(services);
        rules = List.copyOf(rules);
        warnings = List.copyOf(warnings);
        routes = List.copyOf(routes);
        Objects.requireNonNull(sourceRoot, "sourceRoot");
    }

    /** The vars; each value is a copy, so changing it changes nothing here. */
    @Override
    public Map<String, JsonNode> vars() {
        return copyOfVars(vars);
    }

    /** This configuration with other settings (e.g. {@code settings().withPort(port)} from the CLI). */
    public ProjectConfig withSettings(Settings settings) {
        return new ProjectConfig(directory, name, bundle, compatibilityDate, compatibilityFlags, vars, secrets,
                durableObjects, migrations, workerLoaders, services, rules, settings, warnings, routes, sourceRoot,
                workersDev);
    }

    @Override
    public String toString() {
        String redacted = secrets.keySet().stream().map(k -> k + "=<redacted>")
                .collect(Collectors.joining(", ", "{", "}"));
        return "ProjectConfig[directory=" + directory + ", name=" + name + ", bundle=" + bundle
                + ", compatibilityDate=" + compatibilityDate + ", compatibilityFlags=" + compatibilityFlags
                + ", vars=" + vars + ", secrets=" + redacted + ", durableObjects=" + durableObjects
                + ", migrations=" + migrations + ", workerLoaders=" + workerLoaders + ", services=" + services
                + ", rules=" + rules + ", settings=" + settings + ", warnings=" + warnings + ", routes=" + routes
                + ", sourceRoot=" + sourceRoot + ", workersDev=" + workersDev + "]";
    }

    private static Map<String, JsonNode> copyOfVars(Map<String, JsonNode> vars) {
        Map<String, JsonNode> copy = new LinkedHashMap<>();
        vars.forEach((k, v) -> copy.put(Objects.requireNonNull(k), v.deepCopy()));
        return Collections.unmodifiableMap(copy);
    }
}
