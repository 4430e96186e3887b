package dev.bulwark.server.governance;

import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The code of a session run as it is loaded: the session's modules plus a main module of the node's
 * whose default entrypoint has {@code run(input)}, which calls the session code's default export
 * ({@code export default async (input, env) => ...}, or an object with {@code run(input, env)}) with
 * an env holding only {@code TOOLS}: {@code TOOLS.call(name, args, options)} and the typed form
 * {@code TOOLS.tickets.open(args, options)}. The network is off ({@code globalOutbound: null}):
 * generated code reaches the world only through tools.
 */
final class SessionCode {
    static final String MAIN = "bulwark-session-main.js";

    private SessionCode() {}

    static WorkerCode wrap(WorkerCode code, long cpuMs) {
        WorkerBundle b = code.bundle();
        if (b.modules().containsKey(MAIN)) throw new IllegalArgumentException("a module may not be named " + MAIN);
        String source = """
                import * as code from %s;
                import { WorkerEntrypoint } from "cloudflare:workers";
                // Only names a tool's name can have: toJSON, then, constructor... are not tool calls.
                const part = (p) => typeof p === "string" && p !== "then" && p !== "constructor" && /^[a-z][a-z0-9_]*$/.test(p);
                function tools(raw) {
                  const call = (name, args, options) => raw.call(name, args === undefined ? null : args,
                    options === undefined ? null : options);
                  const path = (prefix) => new Proxy(function () {}, {
                    get(_, p) { return part(p) ? path(prefix + "." + p) : undefined; },
                    apply(_, __, a) { return call(prefix, a[0], a[1]); },
                  });
                  return new Proxy(Object.freeze({}), {
                    get(_, p) {
                      if (p === "call") return call;
                      return part(p) ? path(p) : undefined;
                    },
                  });
                }
                export default class extends WorkerEntrypoint {
                  async run(input) {
                    const env = Object.freeze({ TOOLS: tools(this.env.TOOLS) });
                    const main = code.default;
                    const fn = typeof main === "function" ? main
                      : main && typeof main.run === "function" ? main.run.bind(main) : null;
                    if (fn === null) throw new TypeError("a session's code exports default a function (input, env) or an object with run(input, env)");
                    return await fn(input, env);
                  }
                }
                """.formatted(jsString("./" + b.mainModule()));
        List<WorkerModule> modules = new ArrayList<>(b.modules().values());
        modules.add(WorkerModule.text(MAIN, ModuleType.JS, source));
        WorkerBundle wrapped = WorkerBundle.of(MAIN, modules).withCompatibility(b.compatibility());
        Long cpu = code.cpuMs() == null ? cpuMs : Math.min(cpuMs, code.cpuMs());
        return new WorkerCode(wrapped, "{}", false, cpu, code.subRequests());
    }

    /** SHA-256 over the modules (name, type, bytes) in name order. */
    static String hash(WorkerCode code) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(code.bundle().mainModule().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            for (Map.Entry<String, WorkerModule> e : new TreeMap<>(code.bundle().modules()).entrySet()) {
                md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(e.getValue().type().name().getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                byte[] content = e.getValue().content();
                md.update(java.nio.ByteBuffer.allocate(8).putLong(content.length).array());
                md.update(content);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String jsString(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }
}
