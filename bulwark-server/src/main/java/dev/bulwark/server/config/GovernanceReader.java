package dev.bulwark.server.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the {@code governance} table of Bulwark's settings into {@link GovernanceSettings}. Like every
 * Bulwark setting, an unknown key is an error, and so is a webhook header naming a secret the project
 * does not have.
 */
final class GovernanceReader {
    static final Set<String> KEYS = Set.of("tools", "policies", "policy_version", "policy_mode", "lanes", "checkpoint_every", "approvals");
    private static final Set<String> TOOL_KEYS = Set.of("name", "args_schema", "contract", "cost", "webhook", "service");
    private static final Set<String> WEBHOOK_KEYS = Set.of("url", "headers", "lookup_url", "revert_url");
    private static final Set<String> SERVICE_KEYS = Set.of("worker", "entrypoint", "method", "lookup_method", "revert_method");
    private static final Set<String> CONTRACTS = Set.of("read_only", "controlled_mutation", "privileged");
    /** What {@code Tool} accepts: 1 to 4 dotted parts. */
    private static final Pattern TOOL_NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}(\\.[a-z][a-z0-9_]{0,62}){0,3}");
    private static final Pattern JS_NAME = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]{0,127}");
    private static final Pattern HEADER = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}");
    static final Pattern SECRET_REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    private GovernanceReader() {}

    /** {@code get} answers a merged setting by its key ({@code governance.tools}). */
    static GovernanceSettings read(java.util.function.Function<String, Optional<ConfigValue>> get, Path projectDir,
                                   Set<String> secretNames) throws ConfigException {
        List<GovernanceSettings.ToolSetting> tools = new ArrayList<>();
        Optional<ConfigValue> toolsValue = get.apply("governance.tools");
        if (toolsValue.isPresent()) {
            Set<String> names = new HashSet<>();
            for (ConfigValue t : toolsValue.get().elements()) {
                GovernanceSettings.ToolSetting tool = tool(t, secretNames);
                if (!names.add(tool.name())) throw t.required("name").error("names a tool defined before");
                tools.add(tool);
            }
        }
        Path dir = null;
        Optional<ConfigValue> policies = get.apply("governance.policies");
        if (policies.isPresent()) {
            try {
                dir = projectDir.resolve(policies.get().nonEmptyString()).normalize();
            } catch (InvalidPathException e) {
                throw policies.get().invalid("a directory of *.cedar files");
            }
            if (!Files.isDirectory(dir)) throw policies.get().invalid("a directory of *.cedar files (it does not exist)");
        }
        String version = GovernanceSettings.NONE.policyVersion();
        Optional<ConfigValue> v = get.apply("governance.policy_version");
        if (v.isPresent()) {
            version = v.get().nonEmptyString();
            if (version.length() > 128) throw v.get().invalid("1 to 128 characters");
        }
        String mode = "enforce";
        Optional<ConfigValue> m = get.apply("governance.policy_mode");
        if (m.isPresent()) {
            mode = m.get().nonEmptyString();
            if (!mode.equals("enforce") && !mode.equals("log-only")) throw m.get().invalid("\"enforce\" or \"log-only\"");
        }
        Optional<ConfigValue> a = get.apply("governance.approvals");
        long checkpointEvery = 0;
        Optional<ConfigValue> every = get.apply("governance.checkpoint_every");
        if (every.isPresent()) checkpointEvery = every.get().integer(1L, 1_000_000_000L, "an integer from 1 to 1000000000");
        return new GovernanceSettings(tools, dir, version, mode, LaneReader.read(get.apply("governance.lanes")), checkpointEvery,
                a.isPresent() ? ApprovalsReader.read(a.get(), secretNames) : ApprovalSettings.NONE);
    }

    private static GovernanceSettings.ToolSetting tool(ConfigValue t, Set<String> secretNames) throws ConfigException {
        onlyKeys(t, TOOL_KEYS, "a tool");
        ConfigValue nameValue = t.required("name");
        String name = nameValue.nonEmptyString();
        if (!TOOL_NAME.matcher(name).matches()) {
            throw nameValue.invalid("1 to 4 dotted parts of a-z 0-9 _, each starting with a letter (\"tickets.open\")");
        }
        ConfigValue schema = t.required("args_schema");
        if (!schema.node().isObject()) throw schema.invalid("a JSON schema object ({type = \"object\", properties = {...}})");
        ConfigValue contractValue = t.required("contract");
        String contract = contractValue.nonEmptyString();
        if (!CONTRACTS.contains(contract)) throw contractValue.invalid("\"read_only\", \"controlled_mutation\" or \"privileged\"");
        long cost = 0;
        Optional<ConfigValue> costValue = t.optional("cost");
        if (costValue.isPresent()) cost = costValue.get().integer(0L, Long.MAX_VALUE, "a non-negative integer");
        Optional<ConfigValue> webhook = t.optional("webhook");
        Optional<ConfigValue> service = t.optional("service");
        if (webhook.isPresent() == service.isPresent()) {
            throw t.error("needs exactly one of webhook = {url, headers} or service = {worker, entrypoint, method}");
        }
        GovernanceSettings.Implementation impl = webhook.isPresent() ? webhook(webhook.get(), secretNames) : service(service.get());
        return new GovernanceSettings.ToolSetting(name, schema.node(), contract, cost, impl);
    }

    private static GovernanceSettings.Webhook webhook(ConfigValue w, Set<String> secretNames) throws ConfigException {
        onlyKeys(w, WEBHOOK_KEYS, "a webhook");
        URI url = url(w.required("url"));
        URI lookupUrl = w.optional("lookup_url").isPresent() ? url(w.optional("lookup_url").get()) : null;
        URI revertUrl = w.optional("revert_url").isPresent() ? url(w.optional("revert_url").get()) : null;
        Map<String, String> headers = new LinkedHashMap<>();
        Optional<ConfigValue> h = w.optional("headers");
        if (h.isPresent()) {
            for (Map.Entry<String, ConfigValue> e : h.get().members().entrySet()) {
                if (!HEADER.matcher(e.getKey()).matches()) throw e.getValue().error("is not an HTTP header name");
                String template = e.getValue().string();
                Matcher refs = SECRET_REF.matcher(template);
                while (refs.find()) {
                    if (!secretNames.contains(refs.group(1))) {
                        throw e.getValue().error("names the secret " + refs.group(1)
                                + ", which the project does not have (.dev.vars or the secrets setting)");
                    }
                }
                headers.put(e.getKey(), template);
            }
        }
        return new GovernanceSettings.Webhook(url, headers, lookupUrl, revertUrl);
    }

    private static URI url(ConfigValue urlValue) throws ConfigException {
        URI url;
        try {
            url = new URI(urlValue.nonEmptyString());
        } catch (URISyntaxException e) {
            throw urlValue.invalid("an http or https URL");
        }
        if (!("https".equals(url.getScheme()) || "http".equals(url.getScheme())) || url.getHost() == null) {
            throw urlValue.invalid("an http or https URL");
        }
        return url;
    }

    private static GovernanceSettings.Entrypoint service(ConfigValue s) throws ConfigException {
        onlyKeys(s, SERVICE_KEYS, "a service tool");
        ConfigValue worker = s.required("worker");
        if (!ProjectLoader.isValidName(worker.nonEmptyString())) throw worker.invalid(ProjectLoader.NAME_REQUIREMENT);
        String entrypoint = null;
        Optional<ConfigValue> e = s.optional("entrypoint");
        if (e.isPresent()) {
            entrypoint = e.get().nonEmptyString();
            if (!JS_NAME.matcher(entrypoint).matches()) throw e.get().invalid("the name of an exported class");
        }
        String method = method(s.required("method"));
        String lookup = s.optional("lookup_method").isPresent() ? method(s.optional("lookup_method").get()) : null;
        String revert = s.optional("revert_method").isPresent() ? method(s.optional("revert_method").get()) : null;
        return new GovernanceSettings.Entrypoint(worker.nonEmptyString(), entrypoint, method, lookup, revert);
    }

    private static String method(ConfigValue method) throws ConfigException {
        if (!JS_NAME.matcher(method.nonEmptyString()).matches() || method.nonEmptyString().equals("fetch")
                || method.nonEmptyString().equals("constructor")) {
            throw method.invalid("the name of an RPC method of the entrypoint (not fetch or constructor)");
        }
        return method.nonEmptyString();
    }

    static void onlyKeys(ConfigValue v, Set<String> known, String what) throws ConfigException {
        for (Map.Entry<String, ConfigValue> e : v.members().entrySet()) {
            if (!known.contains(e.getKey())) {
                throw e.getValue().error("is not a key of " + what + "; " + what + " has "
                        + String.join(", ", known.stream().sorted().toList()));
            }
        }
    }
}
