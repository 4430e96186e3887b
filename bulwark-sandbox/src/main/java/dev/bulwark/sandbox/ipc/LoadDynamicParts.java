package dev.bulwark.sandbox.ipc;

import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link Message.LoadDynamic} with code as a chunk sequence: one {@link Message.LoadDynamicStart}
 * (names, types and sizes) and {@link Message.LoadDynamicChunk}s of at most {@link Message#LOAD_CHUNK}
 * bytes, so that code up to {@link WorkerCode#MAX_CODE_BYTES} reaches the node, which reads at most
 * 16 MiB per frame from a sandbox. {@link Assembly} is the node's side: it trusts nothing the
 * sandbox says (sizes are checked against the limit before anything is allocated, a chunk past the
 * announced total fails the load, and a sandbox has at most {@link Assembly#MAX_IN_FLIGHT} loads
 * being assembled).
 */
public final class LoadDynamicParts {
    private LoadDynamicParts() {}

    /** The messages that carry {@code load} (whose bundle must not be null), in order. */
    public static List<Message> split(Message.LoadDynamic load) {
        WorkerBundle bundle = load.bundle();
        List<Message.ModuleHead> heads = new ArrayList<>();
        for (WorkerModule m : bundle.modules().values()) heads.add(new Message.ModuleHead(m.name(), m.type().wireName(), m.size()));
        List<Message> parts = new ArrayList<>();
        parts.add(new Message.LoadDynamicStart(load.invocationId(), load.callId(), load.parentWorker(), load.id(),
                bundle.mainModule(), heads, load.envJson(), load.networkAllowed(), load.limits(), load.bindings(),
                load.envCaps(), bundle.compatibility()));
        // Chunks may span module boundaries: the contents are one sequence.
        byte[] chunk = new byte[Message.LOAD_CHUNK];
        int filled = 0;
        for (WorkerModule m : bundle.modules().values()) {
            int at = 0;
            while (at < m.size()) {
                int n = Math.min(m.size() - at, chunk.length - filled);
                System.arraycopy(m.slice(at, at + n), 0, chunk, filled, n);
                filled += n;
                at += n;
                if (filled == chunk.length) {
                    parts.add(new Message.LoadDynamicChunk(load.callId(), chunk));
                    chunk = new byte[Message.LOAD_CHUNK];
                    filled = 0;
                }
            }
        }
        if (filled > 0) parts.add(new Message.LoadDynamicChunk(load.callId(), java.util.Arrays.copyOf(chunk, filled)));
        return parts;
    }

    /**
     * The loads one sandbox is sending in chunks. Not thread-safe: the sandbox's reader thread owns it.
     * Each call answers what became of the load: null (more chunks to come), the complete {@link
     * Message.LoadDynamic}, or the {@link Message.CallFailed} to send back to the sandbox.
     */
    public static final class Assembly {
        /** Loads one sandbox may have in flight at once (each up to 64 MiB). */
        public static final int MAX_IN_FLIGHT = 2;
        private final Map<Long, Pending> pending = new HashMap<>();

        public Message start(Message.LoadDynamicStart start) {
            long total = 0;
            for (Message.ModuleHead h : start.modules()) {
                if (h.size() < 0) return failed(start.callId(), ErrorCode.INTERNAL, "a module of negative size");
                total += h.size();
                if (total > WorkerCode.MAX_CODE_BYTES) {
                    return failed(start.callId(), ErrorCode.CODE_TOO_LARGE,
                            "Invalid WorkerCode: bundle over 64 MiB (the modules are larger than the limit of "
                                    + WorkerCode.MAX_CODE_BYTES + " bytes)");
                }
            }
            try {
                WorkerCode.checkFlags(start.compatibility().flags()); // the sandbox checked them too, unless subverted
            } catch (WorkerCode.Invalid e) {
                return failed(start.callId(), ErrorCode.WORKER_LOAD_FAILED, e.getMessage());
            }
            if (pending.containsKey(start.callId())) {
                pending.remove(start.callId());
                return failed(start.callId(), ErrorCode.INTERNAL, "a load was started twice");
            }
            if (pending.size() >= MAX_IN_FLIGHT) {
                return failed(start.callId(), ErrorCode.SANDBOX_UNAVAILABLE, "too many dynamic workers are loading at once");
            }
            Pending p = new Pending(start, total);
            pending.put(start.callId(), p);
            return p.complete() ? finish(p) : null;
        }

        public Message chunk(Message.LoadDynamicChunk chunk) {
            Pending p = pending.get(chunk.callId());
            if (p == null) return null; // a load that failed already: its later chunks are dropped
            if (!p.add(chunk.data())) {
                pending.remove(chunk.callId());
                return failed(chunk.callId(), ErrorCode.INTERNAL, "the dynamic worker's code is longer than announced");
            }
            return p.complete() ? finish(p) : null;
        }

        /** Loads being assembled (tests). */
        public int inFlight() {
            return pending.size();
        }

        private Message finish(Pending p) {
            pending.remove(p.start.callId());
            try {
                return p.load();
            } catch (IllegalArgumentException e) {
                return failed(p.start.callId(), ErrorCode.WORKER_LOAD_FAILED, "Invalid WorkerCode: " + e.getMessage());
            }
        }

        private static Message failed(long callId, ErrorCode code, String message) {
            return new Message.CallFailed(callId, code.code(), message);
        }
    }

    /** One load being assembled: its contents grow as chunks arrive, never past the announced total. */
    private static final class Pending {
        final Message.LoadDynamicStart start;
        final long total;
        final List<byte[]> chunks = new ArrayList<>();
        long received;

        Pending(Message.LoadDynamicStart start, long total) {
            this.start = start;
            this.total = total;
        }

        boolean add(byte[] data) {
            if (received + data.length > total) return false;
            chunks.add(data);
            received += data.length;
            return true;
        }

        boolean complete() {
            return received == total;
        }

        Message.LoadDynamic load() {
            List<WorkerModule> modules = new ArrayList<>();
            int chunk = 0, at = 0;
            for (Message.ModuleHead h : start.modules()) {
                byte[] content = new byte[(int) h.size()];
                int filled = 0;
                while (filled < content.length) {
                    byte[] c = chunks.get(chunk);
                    int n = Math.min(c.length - at, content.length - filled);
                    System.arraycopy(c, at, content, filled, n);
                    filled += n;
                    at += n;
                    if (at == c.length) {
                        chunks.set(chunk, null); // let it go as soon as it is copied
                        chunk++;
                        at = 0;
                    }
                }
                modules.add(new WorkerModule(h.name(), ModuleType.fromWireName(h.type()), content));
            }
            return new Message.LoadDynamic(start.invocationId(), start.callId(), start.parentWorker(), start.id(),
                    WorkerBundle.of(start.mainModule(), modules).withCompatibility(start.compatibility()), start.envJson(),
                    start.networkAllowed(), start.limits(),
                    start.bindings(), start.envCaps());
        }
    }
}
