package dev.bulwark.server.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The binding sections of a wrangler file: {@code durable_objects.bindings}, {@code migrations},
 * {@code worker_loaders} and {@code services}. Keys inside them that Bulwark does not use are
 * warned about like top-level ones.
 */
final class BindingsReader {

    private BindingsReader() {
    }

    static List<DurableObjectBinding> durableObjects(ConfigValue root, Warnings warnings) throws ConfigException {
        Optional<ConfigValue> section = root.optional("durable_objects");
        if (section.isEmpty()) return List.of();
        section.get().warnUnknownKeys(Set.of("bindings"), Set.of(), warnings);
        Optional<ConfigValue> bindings = section.get().optional("bindings");
        if (bindings.isEmpty()) return List.of();
        List<DurableObjectBinding> result = new ArrayList<>();
        for (ConfigValue b : bindings.get().elements()) {
            b.warnUnknownKeys(Set.of("name", "class_name", "script_name"), Set.of("environment"), warnings);
            result.add(new DurableObjectBinding(
                    b.required("name").nonEmptyString(),
                    b.required("class_name").nonEmptyString(),
                    optionalString(b, "script_name")));
        }
        return result;
    }

    static List<Migration> migrations(ConfigValue root, Warnings warnings) throws ConfigException {
        Optional<ConfigValue> section = root.optional("migrations");
        if (section.isEmpty()) return List.of();
        List<Migration> result = new ArrayList<>();
        Map<String, String> tags = new HashMap<>();
        for (ConfigValue m : section.get().elements()) {
            m.warnUnknownKeys(Set.of("tag", "new_sqlite_classes", "new_classes", "renamed_classes", "deleted_classes",
                    "transferred_classes"), Set.of(), warnings);
            ConfigValue tagValue = m.required("tag");
            String tag = tagValue.nonEmptyString();
            String earlier = tags.putIfAbsent(tag, tagValue.path());
            if (earlier != null) throw tagValue.error("'" + tag + "' repeats the tag of " + earlier);
            List<RenamedClass> renamed = new ArrayList<>();
            Optional<ConfigValue> renamedValue = m.optional("renamed_classes");
            if (renamedValue.isPresent()) {
                for (ConfigValue r : renamedValue.get().elements()) {
                    r.warnUnknownKeys(Set.of("from", "to"), Set.of(), warnings);
                    renamed.add(new RenamedClass(r.required("from").nonEmptyString(), r.required("to").nonEmptyString()));
                }
            }
            List<TransferredClass> transferred = new ArrayList<>();
            Optional<ConfigValue> transferredValue = m.optional("transferred_classes");
            if (transferredValue.isPresent()) {
                for (ConfigValue t : transferredValue.get().elements()) {
                    t.warnUnknownKeys(Set.of("from", "from_script", "to"), Set.of(), warnings);
                    transferred.add(new TransferredClass(t.required("from").nonEmptyString(),
                            t.required("from_script").nonEmptyString(), t.required("to").nonEmptyString()));
                }
            }
            result.add(new Migration(tag, optionalStrings(m, "new_sqlite_classes"), optionalStrings(m, "new_classes"),
                    renamed, optionalStrings(m, "deleted_classes"), transferred));
        }
        return result;
    }

    static List<WorkerLoaderBinding> workerLoaders(ConfigValue root, Warnings warnings) throws ConfigException {
        Optional<ConfigValue> section = root.optional("worker_loaders");
        if (section.isEmpty()) return List.of();
        List<WorkerLoaderBinding> result = new ArrayList<>();
        for (ConfigValue l : section.get().elements()) {
            l.warnUnknownKeys(Set.of("binding"), Set.of(), warnings);
            result.add(new WorkerLoaderBinding(l.required("binding").nonEmptyString()));
        }
        return result;
    }

    static List<ServiceBinding> services(ConfigValue root, Warnings warnings) throws ConfigException {
        Optional<ConfigValue> section = root.optional("services");
        if (section.isEmpty()) return List.of();
        List<ServiceBinding> result = new ArrayList<>();
        for (ConfigValue s : section.get().elements()) {
            s.warnUnknownKeys(Set.of("binding", "service", "entrypoint", "props"), Set.of("environment"), warnings);
            String props = null;
            Optional<ConfigValue> p = s.optional("props");
            if (p.isPresent()) {
                if (!p.get().node().isObject()) throw p.get().error("must be an object (the callee's ctx.props)");
                props = p.get().node().toString();
            }
            result.add(new ServiceBinding(
                    s.required("binding").nonEmptyString(),
                    s.required("service").nonEmptyString(),
                    optionalString(s, "entrypoint"),
                    props));
        }
        return result;
    }

    /**
     * Warns about each durable object class of this worker that no migration creates (a class
     * created and later renamed counts under its new name; a deleted one no longer counts).
     */
    static void warnUnmigratedClasses(String file, List<DurableObjectBinding> bindings, List<Migration> migrations,
                                      Warnings warnings) {
        Set<String> classes = Migration.classesAfter(migrations);
        for (DurableObjectBinding b : bindings) {
            if (b.scriptName() == null && !classes.contains(b.className())) {
                warnings.add(file + ": durable object class '" + b.className() + "' (binding " + b.name()
                        + ") is not created by any migration; add it to a migration's new_sqlite_classes");
            }
        }
    }

    private static String optionalString(ConfigValue parent, String key) throws ConfigException {
        Optional<ConfigValue> value = parent.optional(key);
        return value.isPresent() ? value.get().nonEmptyString() : null;
    }

    private static List<String> optionalStrings(ConfigValue parent, String key) throws ConfigException {
        Optional<ConfigValue> value = parent.optional(key);
        return value.isPresent() ? value.get().strings() : List.of();
    }
}
