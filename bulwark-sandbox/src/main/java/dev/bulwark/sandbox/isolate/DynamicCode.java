package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.IV8ValueArray;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code WorkerCode} as the prelude hands it over (already shaped: module names, wire types and
 * UTF-8 contents in parallel arrays, env as JSON), checked again here with sizes read before any
 * byte is copied: code over {@link #MAX_CODE_BYTES}, env over {@link #MAX_ENV_BYTES}.
 */
final class DynamicCode {
    /**
     * Code travels to the node in one frame, which the node bounds at 16 MiB from a sandbox: 14 MiB
     * leaves room for the env. (Workers allows 64 MiB; that needs the load streamed in chunks.)
     */
    static final long MAX_CODE_BYTES = 14L << 20;
    static final int MAX_ENV_BYTES = 1 << 20;

    private DynamicCode() {}

    static Message.LoadDynamic read(V8ValueObject code, String id, Limits parent) throws JavetException {
        String mainModule = code.getString("mainModule");
        List<WorkerModule> modules = new ArrayList<>();
        long total = 0;
        try (V8Value n = code.get("names"); V8Value t = code.get("types"); V8Value c = code.get("contents")) {
            if (!(n instanceof IV8ValueArray names) || !(t instanceof IV8ValueArray types)
                    || !(c instanceof IV8ValueArray contents) || names.getLength() != contents.getLength()
                    || names.getLength() != types.getLength()) {
                throw new IllegalArgumentException("malformed WorkerCode");
            }
            for (int i = 0; i < names.getLength(); i++) {
                String name = names.getString(i);
                String type = types.getString(i);
                try (V8Value v = contents.get(i)) {
                    if (!(v instanceof V8ValueTypedArray bytes)) throw new IllegalArgumentException("malformed module " + name);
                    total += bytes.getByteLength();
                    if (total > MAX_CODE_BYTES) {
                        throw new IllegalArgumentException("the WorkerCode's modules are larger than the limit of "
                                + MAX_CODE_BYTES + " bytes");
                    }
                    modules.add(new WorkerModule(name, moduleType(name, type), bytes.toBytes()));
                }
            }
        }
        WorkerBundle bundle;
        try {
            bundle = WorkerBundle.of(mainModule, modules);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("invalid WorkerCode: " + e.getMessage());
        }
        String env = code.getString("env");
        if (env != null && env.length() > MAX_ENV_BYTES) { // UTF-16 units: at least as many bytes
            throw new IllegalArgumentException("the WorkerCode's env is larger than the limit of " + MAX_ENV_BYTES + " bytes");
        }
        if (env != null && env.getBytes(StandardCharsets.UTF_8).length > MAX_ENV_BYTES) {
            throw new IllegalArgumentException("the WorkerCode's env is larger than the limit of " + MAX_ENV_BYTES + " bytes");
        }
        boolean network = code.getBoolean("network") == Boolean.TRUE;
        byte[] envCaps = null;
        try (V8Value c = code.get("envCaps")) {
            if (c instanceof V8ValueTypedArray t) {
                if (t.getByteLength() > MAX_ENV_BYTES) {
                    throw new IllegalArgumentException("the WorkerCode's env is larger than the limit of " + MAX_ENV_BYTES + " bytes");
                }
                envCaps = t.toBytes();
            }
        }
        return new Message.LoadDynamic(0, 0, null, id, bundle, env, network, limits(code, parent), envCaps);
    }

    /** The lower of the parent's limits and those the code asks for. */
    private static Limits limits(V8ValueObject code, Limits parent) throws JavetException {
        long cpuMs = parent.cpuMs();
        int subrequests = parent.subrequests();
        if (code.has("cpuMs")) cpuMs = Math.max(1, Math.min(cpuMs, code.getDouble("cpuMs").longValue()));
        if (code.has("subRequests")) subrequests = (int) Math.max(0, Math.min(subrequests, code.getDouble("subRequests").doubleValue()));
        return new Limits(cpuMs, parent.wallMs(), parent.heapMb(), subrequests, MAX_CODE_BYTES, MAX_ENV_BYTES,
                parent.requestBodyBytes());
    }

    private static ModuleType moduleType(String name, String type) {
        if ("py".equals(type)) {
            throw new IllegalArgumentException("module '" + name + "': Python modules are not supported by Bulwark yet");
        }
        try {
            return ModuleType.fromWireName(type);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("module '" + name + "' has an unknown type '" + type + "'");
        }
    }
}
