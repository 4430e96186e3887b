package dev.bulwark.sandbox.ipc;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dynamic worker code as a chunk sequence: 60 MiB goes through frames the node's 16 MiB bound
 * accepts and comes out identical; the node's assembly refuses what a hostile sandbox could send.
 */
class LoadDynamicPartsTest {
    static final int NODE_BOUND = 16 << 20;

    static Message.LoadDynamic load(long callId, int... sizes) {
        List<WorkerModule> modules = new ArrayList<>();
        modules.add(WorkerModule.text("main.js", ModuleType.JS, "export default {}"));
        for (int i = 0; i < sizes.length; i++) {
            byte[] b = new byte[sizes[i]];
            for (int k = 0; k < b.length; k += 4093) b[k] = (byte) (k + i);
            modules.add(new WorkerModule("m" + i + ".bin", ModuleType.DATA, b));
        }
        // With the WorkerCode's date and flags, which arrive with it too.
        WorkerBundle bundle = WorkerBundle.of("main.js", modules)
                .withCompatibility(new dev.bulwark.sandbox.worker.Compatibility("2025-01-01", List.of("nodejs_compat")));
        return new Message.LoadDynamic(5, callId, "parent", "id", bundle, "{\"a\":1}", false, Limits.DEFAULTS);
    }

    /** Every part through the codec with the node's own frame bound, into one assembly. */
    static Message throughTheWire(List<Message> parts, LoadDynamicParts.Assembly assembly) throws IOException {
        Message outcome = null;
        for (Message part : parts) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            MessageCodec.write(new DataOutputStream(out), part);
            Message read = MessageCodec.read(new DataInputStream(new ByteArrayInputStream(out.toByteArray())), NODE_BOUND);
            outcome = switch (read) {
                case Message.LoadDynamicStart s -> assembly.start(s);
                case Message.LoadDynamicChunk c -> assembly.chunk(c);
                default -> throw new AssertionError(read);
            };
            if (outcome != null) assertThat(part).isSameAs(parts.getLast());
        }
        return outcome;
    }

    @Test
    void sixtyMiBOfCodeCrossesInChunksAndArrivesIdentical() throws IOException {
        Message.LoadDynamic original = load(7, 30 << 20, 0, (30 << 20) - 100);
        List<Message> parts = LoadDynamicParts.split(original);
        assertThat(parts.getFirst()).isInstanceOf(Message.LoadDynamicStart.class);
        assertThat(parts.subList(1, parts.size())).allSatisfy(p ->
                assertThat(((Message.LoadDynamicChunk) p).data().length).isLessThanOrEqualTo(Message.LOAD_CHUNK));
        LoadDynamicParts.Assembly assembly = new LoadDynamicParts.Assembly();
        Message result = throughTheWire(parts, assembly);
        assertThat(result).isEqualTo(original);
        assertThat(assembly.inFlight()).isZero();
    }

    @Test
    void theGrantsOfALoadArriveWithIt() throws IOException {
        Message.LoadDynamic plain = load(8, 100, 2 << 20);
        Message.LoadDynamic original = new Message.LoadDynamic(plain.invocationId(), plain.callId(), plain.parentWorker(),
                plain.id(), plain.bundle(), plain.envJson(), false, plain.limits(), List.of(
                        new dev.bulwark.sandbox.worker.Binding.Outbound(new Address.Worker("front", "Outbound",
                                Address.Grant.props(new byte[] {(byte) 0xb7, 1, 7}))),
                        new dev.bulwark.sandbox.worker.Binding.Tail(new Address.Worker("front", "Tail"))));
        Message result = throughTheWire(LoadDynamicParts.split(original), new LoadDynamicParts.Assembly());
        assertThat(result).isInstanceOf(Message.LoadDynamic.class);
        assertThat(((Message.LoadDynamic) result).bindings()).isEqualTo(original.bindings());
        assertThat(((Message.LoadDynamic) result).networkAllowed()).isFalse();
    }

    @Test
    void tooManyCompatibilityFlagsAreRefusedByTheNodeToo() {
        List<String> flags = new ArrayList<>();
        for (int i = 0; i <= WorkerCode.MAX_FLAGS; i++) flags.add("flag" + i);
        Message.LoadDynamicStart start = new Message.LoadDynamicStart(1, 8, "p", null, "main.js",
                List.of(new Message.ModuleHead("main.js", "js", 1)), null, true, Limits.DEFAULTS, List.of(), null,
                new dev.bulwark.sandbox.worker.Compatibility("2025-01-01", flags));
        LoadDynamicParts.Assembly assembly = new LoadDynamicParts.Assembly();
        assertThat(assembly.start(start)).isEqualTo(new Message.CallFailed(8, "worker_load_failed",
                "Invalid WorkerCode: compatibilityFlags: more than 128 flags"));
        assertThat(assembly.inFlight()).isZero();
    }

    @Test
    void anAnnouncedTotalOver64MiBIsRefusedBeforeAnythingIsAllocated() {
        Message.LoadDynamicStart start = new Message.LoadDynamicStart(1, 9, "p", null, "main.js",
                List.of(new Message.ModuleHead("main.js", "js", 10), new Message.ModuleHead("b.bin", "data", WorkerCode.MAX_CODE_BYTES)),
                null, true, Limits.DEFAULTS);
        LoadDynamicParts.Assembly assembly = new LoadDynamicParts.Assembly();
        Message outcome = assembly.start(start);
        assertThat(outcome).isEqualTo(new Message.CallFailed(9, "code_too_large",
                "Invalid WorkerCode: bundle over 64 MiB (the modules are larger than the limit of 67108864 bytes)"));
        assertThat(assembly.inFlight()).isZero();
    }

    @Test
    void hostileSequencesFailTheirLoadOnly() {
        LoadDynamicParts.Assembly assembly = new LoadDynamicParts.Assembly();
        var heads = List.of(new Message.ModuleHead("main.js", "js", 4));
        // More bytes than announced.
        assertThat(assembly.start(new Message.LoadDynamicStart(1, 1, "p", null, "main.js", heads, null, true, Limits.DEFAULTS))).isNull();
        assertThat(assembly.chunk(new Message.LoadDynamicChunk(1, new byte[5])))
                .isInstanceOfSatisfying(Message.CallFailed.class, f -> assertThat(f.message()).contains("longer than announced"));
        // A negative size.
        assertThat(assembly.start(new Message.LoadDynamicStart(1, 2, "p", null, "main.js",
                List.of(new Message.ModuleHead("main.js", "js", -1)), null, true, Limits.DEFAULTS))).isInstanceOf(Message.CallFailed.class);
        // Chunks of a load nobody started are dropped.
        assertThat(assembly.chunk(new Message.LoadDynamicChunk(77, new byte[3]))).isNull();
        // At most MAX_IN_FLIGHT loads at once per sandbox.
        for (int i = 0; i < LoadDynamicParts.Assembly.MAX_IN_FLIGHT; i++) {
            assertThat(assembly.start(new Message.LoadDynamicStart(1, 10 + i, "p", null, "main.js", heads, null, true, Limits.DEFAULTS))).isNull();
        }
        assertThat(assembly.start(new Message.LoadDynamicStart(1, 20, "p", null, "main.js", heads, null, true, Limits.DEFAULTS)))
                .isInstanceOf(Message.CallFailed.class);
        // Code whose main module is not JS is a load error, not a crash.
        LoadDynamicParts.Assembly other = new LoadDynamicParts.Assembly();
        other.start(new Message.LoadDynamicStart(1, 30, "p", null, "main.js", List.of(new Message.ModuleHead("main.js", "text", 1)),
                null, true, Limits.DEFAULTS));
        assertThat(other.chunk(new Message.LoadDynamicChunk(30, new byte[] {'x'}))).isInstanceOf(Message.CallFailed.class);
    }
}
