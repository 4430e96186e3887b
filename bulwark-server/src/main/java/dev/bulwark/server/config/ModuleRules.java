package dev.bulwark.server.config;

import dev.bulwark.sandbox.worker.ModuleType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The module rules in effect for a project: its {@code rules}, then the default rules, with
 * wrangler's shadowing. The first rule of a type without {@code fallthrough = true} ends that type:
 * later rules of the type (the defaults included) are dropped, with a warning unless the shadowing
 * rule says {@code fallthrough = false} explicitly. A file's type is that of the first rule in effect
 * with a matching glob; a file that only a dropped rule matches is an error, as in wrangler.
 */
final class ModuleRules {

    static final List<ModuleRule> DEFAULTS = List.of(
            new ModuleRule(ModuleType.JS, List.of("**/*.js", "**/*.mjs"), false),
            new ModuleRule(ModuleType.CJS, List.of("**/*.cjs"), false),
            new ModuleRule(ModuleType.TEXT, List.of("**/*.txt", "**/*.html", "**/*.sql"), false),
            new ModuleRule(ModuleType.DATA, List.of("**/*.bin"), false),
            new ModuleRule(ModuleType.WASM, List.of("**/*.wasm", "**/*.wasm?module"), false),
            new ModuleRule(ModuleType.JSON, List.of("**/*.json"), false));

    private static final Map<String, ModuleType> TYPE_NAMES = Map.of(
            "ESModule", ModuleType.JS,
            "CommonJS", ModuleType.CJS,
            "Text", ModuleType.TEXT,
            "Data", ModuleType.DATA,
            "CompiledWasm", ModuleType.WASM,
            "json", ModuleType.JSON,
            "JSON", ModuleType.JSON);

    /** A rule as written: where it came from ("rules[1]" or "the default"), and its fallthrough, possibly unset. */
    private record Written(String origin, ModuleRule rule, Boolean fallthrough, List<Glob> globs) {
        boolean matches(String path) {
            return globs.stream().anyMatch(g -> g.matches(path));
        }
    }

    private final String file;
    private final List<Written> effective;
    private final List<Written> dropped;

    private ModuleRules(String file, List<Written> effective, List<Written> dropped) {
        this.file = file;
        this.effective = effective;
        this.dropped = dropped;
    }

    /** Reads {@code rules} (absent: the defaults alone). */
    static ModuleRules read(ConfigValue root, Warnings warnings) throws ConfigException {
        List<Written> all = new ArrayList<>();
        Optional<ConfigValue> rules = root.optional("rules");
        if (rules.isPresent()) {
            for (ConfigValue r : rules.get().elements()) all.add(userRule(r, warnings));
        }
        for (ModuleRule d : DEFAULTS) {
            all.add(new Written("the default " + typeName(d.type()) + " rule", d, null, compile(d.globs())));
        }
        return shadow(root.file(), all, warnings);
    }

    private static Written userRule(ConfigValue r, Warnings warnings) throws ConfigException {
        r.warnUnknownKeys(Set.of("type", "globs", "fallthrough"), Set.of(), warnings);
        ConfigValue typeValue = r.required("type");
        String typeName = typeValue.nonEmptyString();
        ModuleType type = TYPE_NAMES.get(typeName);
        if (type == null) {
            if (typeName.startsWith("Python")) throw typeValue.error("'" + typeName + "' is not supported by Bulwark");
            throw typeValue.invalid("one of ESModule, CommonJS, Text, Data, CompiledWasm, json");
        }
        ConfigValue globsValue = r.required("globs");
        List<String> globs = globsValue.strings();
        if (globs.isEmpty()) throw globsValue.invalid("a non-empty array of globs");
        List<Glob> compiled = new ArrayList<>();
        for (int i = 0; i < globs.size(); i++) {
            try {
                compiled.add(Glob.of(globs.get(i)));
            } catch (IllegalArgumentException e) {
                throw globsValue.elements().get(i).invalid("a glob (" + e.getMessage() + ")");
            }
        }
        Optional<ConfigValue> fallthroughValue = r.optional("fallthrough");
        Boolean fallthrough = fallthroughValue.isPresent() ? fallthroughValue.get().bool() : null;
        return new Written(r.path(), new ModuleRule(type, globs, Boolean.TRUE.equals(fallthrough)), fallthrough, compiled);
    }

    private static ModuleRules shadow(String file, List<Written> all, Warnings warnings) {
        Map<ModuleType, Written> ending = new HashMap<>();
        List<Written> effective = new ArrayList<>();
        List<Written> dropped = new ArrayList<>();
        for (Written w : all) {
            ModuleType type = w.rule().type();
            Written shadowing = ending.get(type);
            if (shadowing != null) {
                if (shadowing.fallthrough() == null) {
                    warnings.add(file + ": " + shadowing.origin() + " (" + typeName(type) + ") shadows "
                            + w.origin() + " " + w.rule().globs() + ", which is ignored; set fallthrough = true on "
                            + shadowing.origin() + " to use both, or fallthrough = false to silence this warning");
                }
                dropped.add(w);
                continue;
            }
            effective.add(w);
            if (!Boolean.TRUE.equals(w.fallthrough())) ending.put(type, w);
        }
        return new ModuleRules(file, List.copyOf(effective), List.copyOf(dropped));
    }

    /** The rules in effect, in order. */
    List<ModuleRule> effective() {
        return effective.stream().map(Written::rule).toList();
    }

    /**
     * The type of the module at {@code path} (relative to the base directory, '/' separators), or
     * empty if the file is not a module.
     */
    Optional<ModuleType> typeOf(String path) throws ConfigException {
        for (Written w : effective) {
            if (w.matches(path)) return Optional.of(w.rule().type());
        }
        for (Written w : dropped) {
            if (w.matches(path)) {
                throw new ConfigException(file + ": the file " + path + " matches " + w.origin() + " "
                        + w.rule().globs() + ", which is ignored because an earlier " + typeName(w.rule().type())
                        + " rule does not set fallthrough = true");
            }
        }
        return Optional.empty();
    }

    private static List<Glob> compile(List<String> globs) {
        return globs.stream().map(Glob::of).toList();
    }

    private static String typeName(ModuleType type) {
        return switch (type) {
            case JS -> "ESModule";
            case CJS -> "CommonJS";
            case TEXT -> "Text";
            case DATA -> "Data";
            case WASM -> "CompiledWasm";
            case JSON -> "json";
        };
    }
}
