package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A {@code WorkerCode} written as JSON (the tenant API's request body) read into a {@link WorkerCode}
 * with the same shapes and the same rules as {@code env.LOADER}'s: a module is a string (its name
 * ends in {@code .js}/{@code .mjs}) or an object with exactly one of {@code js}, {@code cjs},
 * {@code text}, {@code json} (any JSON value), {@code data} or {@code wasm} (base64, as JSON has no
 * bytes), {@code py} (refused). Sizes are counted before module bytes are made.
 */
public final class WorkerCodeJson {
    private static final List<String> KINDS = List.of("js", "cjs", "text", "data", "json", "wasm", "py");

    private WorkerCodeJson() {}

    public static WorkerCode read(JsonNode code) {
        if (code == null || !code.isObject()) throw WorkerCode.invalid("the body must be a WorkerCode object");
        JsonNode date = code.get("compatibilityDate");
        WorkerCode.checkDate(date != null && date.isTextual() ? date.textValue() : null);
        JsonNode flags = code.get("compatibilityFlags");
        if (flags != null && !flags.isNull() && !flags.isArray()) throw WorkerCode.invalid("compatibilityFlags must be an array of strings");
        List<String> flagList = new ArrayList<>();
        if (flags != null && flags.isArray()) {
            for (JsonNode f : flags) {
                if (!f.isTextual()) throw WorkerCode.invalid("compatibilityFlags must be an array of strings");
                flagList.add(f.textValue());
            }
        }
        JsonNode main = code.get("mainModule");
        if (main == null || !main.isTextual() || main.textValue().isEmpty()) throw WorkerCode.invalid("mainModule is required");
        JsonNode modules = code.get("modules");
        if (modules == null || !modules.isObject()) throw WorkerCode.invalid("modules is required");
        if (!modules.has(main.textValue())) throw WorkerCode.invalid("mainModule '" + main.textValue() + "' is not among the modules");
        List<WorkerModule> list = new ArrayList<>();
        long total = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = modules.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode value = e.getValue();
            String type;
            JsonNode content;
            if (value.isTextual()) {
                if (name.endsWith(".js") || name.endsWith(".mjs")) type = "js";
                else if (name.endsWith(".py")) type = "py";
                else throw WorkerCode.invalid("module '" + name + "' is a string, so its name must end in .js or .py; "
                            + "give its type as {js}, {cjs}, {text}, {data}, {json} or {wasm}");
                content = value;
            } else if (value.isObject()) {
                List<String> kinds = KINDS.stream().filter(value::has).toList();
                if (kinds.size() != 1) {
                    throw WorkerCode.invalid("module '" + name + "' must have exactly one of {js}, {cjs}, {text}, {data}, {json}, {wasm}, {py}");
                }
                type = kinds.getFirst();
                content = value.get(type);
            } else {
                throw WorkerCode.invalid("module '" + name + "' must be a string or an object");
            }
            var moduleType = WorkerCode.moduleType(name, type);
            byte[] bytes = switch (type) {
                case "json" -> content.toString().getBytes(StandardCharsets.UTF_8);
                case "data", "wasm" -> {
                    if (!content.isTextual()) throw WorkerCode.invalid("module '" + name + "': {" + type + "} must be a base64 string");
                    WorkerCode.checkCodeSize(total + content.textValue().length() / 4L * 3 - 2);
                    try {
                        yield Base64.getDecoder().decode(content.textValue());
                    } catch (IllegalArgumentException bad) {
                        throw WorkerCode.invalid("module '" + name + "': {" + type + "} is not valid base64");
                    }
                }
                default -> {
                    if (!content.isTextual()) throw WorkerCode.invalid("module '" + name + "': {" + type + "} must be a string");
                    // UTF-16 units first: at least as many UTF-8 bytes; the exact count before copying.
                    WorkerCode.checkCodeSize(total + content.textValue().length());
                    yield content.textValue().getBytes(StandardCharsets.UTF_8);
                }
            };
            total += bytes.length;
            WorkerCode.checkCodeSize(total);
            list.add(new WorkerModule(name, moduleType, bytes));
        }
        String env = null;
        JsonNode envNode = code.get("env");
        if (envNode != null && !envNode.isNull()) {
            if (!envNode.isObject()) throw WorkerCode.invalid("env must be an object");
            env = envNode.toString();
        }
        boolean network = true;
        if (code.has("globalOutbound")) {
            if (!code.get("globalOutbound").isNull()) {
                throw WorkerCode.invalid("globalOutbound as a service binding is not supported by Bulwark yet; use null or leave it out");
            }
            network = false;
        }
        JsonNode tails = code.get("tails");
        if (tails != null && (!tails.isArray() || !tails.isEmpty())) throw WorkerCode.invalid("tails are not supported by Bulwark yet");
        Double cpuMs = null, subRequests = null;
        JsonNode limits = code.get("limits");
        if (limits != null && !limits.isNull()) {
            if (!limits.isObject()) throw WorkerCode.invalid("limits must be an object");
            if (limits.has("cpuMs")) cpuMs = number(limits.get("cpuMs"), "limits.cpuMs");
            if (limits.has("subRequests")) subRequests = number(limits.get("subRequests"), "limits.subRequests");
        }
        return WorkerCode.of(date.textValue(), flagList, main.textValue(), list, env, network, cpuMs, subRequests);
    }

    private static Double number(JsonNode n, String what) {
        if (!n.isNumber()) throw WorkerCode.invalid(what + " must be a number");
        return n.doubleValue();
    }
}
