package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.reference.IV8ValueArray;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code WorkerCode} as the prelude hands it over (already shaped: module names, wire types and
 * UTF-8 contents in parallel arrays, env as JSON), checked again by {@link WorkerCode}'s rules with
 * sizes read before any byte is copied. Code up to 64 MiB travels to the node in chunks
 * ({@link dev.bulwark.sandbox.ipc.LoadDynamicParts}).
 */
final class DynamicCode {
    private DynamicCode() {}

    /** Turns a stub descriptor of the parent's into the address it names (only what the parent holds). */
    interface Resolver {
        dev.bulwark.sandbox.ipc.Address.Worker resolve(V8ValueObject descriptor) throws Exception;

        /** A tail's descriptor: a fetcher's, or a durable object stub's ({@code {object, id, name}}). */
        dev.bulwark.sandbox.ipc.Address tail(V8ValueObject descriptor) throws Exception;
    }

    /** Tail workers one WorkerCode may name. */
    static final int MAX_TAILS = 8;

    static Message.LoadDynamic read(V8ValueObject code, String id, Limits parent, Resolver resolver) throws Exception {
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
                    WorkerCode.checkCodeSize(total);
                    modules.add(new WorkerModule(name, WorkerCode.moduleType(name, type), bytes.toBytes()));
                }
            }
        }
        String env = code.getString("env");
        WorkerCode.checkEnv(env); // before the env is copied again
        boolean network = code.getBoolean("network") == Boolean.TRUE;
        List<Binding> grants = new ArrayList<>();
        try (V8Value outbound = code.get("outbound")) {
            if (outbound instanceof V8ValueObject d) {
                grants.add(new Binding.Outbound(resolver.resolve(d)));
                network = false; // fetch() goes to the fetcher, never to the egress gateway
            }
        }
        try (V8Value tails = code.get("tails")) {
            if (tails instanceof IV8ValueArray list) {
                if (list.getLength() > MAX_TAILS) throw new IllegalArgumentException("a WorkerCode can name at most " + MAX_TAILS + " tails");
                for (int i = 0; i < list.getLength(); i++) {
                    try (V8Value d = list.get(i)) {
                        if (!(d instanceof V8ValueObject o)) throw new IllegalArgumentException("malformed tails");
                        grants.add(new Binding.Tail(resolver.tail(o)));
                    }
                }
            }
        }
        List<String> flags = new ArrayList<>();
        try (V8Value f = code.get("compatibilityFlags")) {
            if (f instanceof IV8ValueArray list) {
                for (int i = 0; i < list.getLength() && flags.size() <= WorkerCode.MAX_FLAGS; i++) {
                    flags.add(list.getString(i)); // WorkerCode.of refuses too many, or too long
                }
            }
        }
        WorkerCode checked = WorkerCode.of(code.getString("compatibilityDate"), flags, mainModule, modules, env, network,
                code.has("cpuMs") ? code.getDouble("cpuMs") : null,
                code.has("subRequests") ? code.getDouble("subRequests") : null);
        byte[] envCaps = null;
        try (V8Value c = code.get("envCaps")) {
            if (c instanceof V8ValueTypedArray t) {
                if (t.getByteLength() > WorkerCode.MAX_ENV_BYTES) {
                    throw new IllegalArgumentException("the WorkerCode's env is larger than the limit of " + WorkerCode.MAX_ENV_BYTES + " bytes");
                }
                envCaps = t.toBytes();
            }
        }
        return new Message.LoadDynamic(0, 0, null, id, checked.bundle(), checked.envJson(), checked.networkAllowed(),
                checked.limits(parent), grants, envCaps);
    }
}
