package dev.bulwark.sandbox.ipc;

import dev.bulwark.sandbox.ipc.Message.*;
import dev.bulwark.sandbox.worker.Binding;
import dev.bulwark.sandbox.worker.Compatibility;
import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The node-sandbox wire format: every message round-trips, bad frames are errors, sends are thread-safe. */
class MessageCodecTest {

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static final List<Header> HEADERS = List.of(new Header("content-type", "text/plain; charset=utf-8"),
            new Header("set-cookie", "a=1"), new Header("set-cookie", "b=2"), new Header("x-ünïcode", "✓ 日本"));

    static final WorkerBundle BUNDLE = WorkerBundle.of("src/index.js", List.of(
            WorkerModule.text("src/index.js", ModuleType.JS, "export default { fetch() { return new Response('hi'); } };"),
            WorkerModule.text("src/c.cjs", ModuleType.CJS, "module.exports = 1;"),
            WorkerModule.text("t.txt", ModuleType.TEXT, "text ✓"),
            new WorkerModule("d.bin", ModuleType.DATA, new byte[]{0, -1, 127, -128}),
            WorkerModule.text("j.json", ModuleType.JSON, "{\"a\":1}"),
            new WorkerModule("m.wasm", ModuleType.WASM, new byte[]{0, 0x61, 0x73, 0x6d, 1, 0, 0, 0}),
            new WorkerModule("empty.bin", ModuleType.DATA, new byte[0])));

    static final Limits LIMITS = new Limits(50, 30_000, 128, 1000, 64L << 20, 1L << 20, 100L << 20);

    /** One or more instances of every message type, with nulls where the protocol allows them. */
    static Stream<Message> everyMessage() {
        byte[] binary = new byte[300];
        for (int i = 0; i < binary.length; i++) binary[i] = (byte) i;
        return Stream.of(
                new Ready(Message.PROTOCOL_VERSION, 12345L),
                new WorkerLoaded(1L, "worker-1"),
                new WorkerLoaded(Long.MAX_VALUE, null),
                new WorkerLoadFailed(2L, "w", ErrorCode.WORKER_LOAD_FAILED.code(), "index.js:3:5: SyntaxError: Unexpected token ';'"),
                new WorkerLoadFailed(-1L, null, null, null),
                new ResponseHead(3L, 200, "OK", HEADERS),
                new ResponseHead(4L, 599, null, List.of()),
                new ResponseChunk(5L, binary),
                new ResponseChunk(6L, new byte[0]),
                new ResponseChunk(6L, null),
                new ResponseEnd(7L),
                new InvocationFailed(8L, ErrorCode.CPU_LIMIT_EXCEEDED.code(), "the worker exceeded its CPU time limit", false),
                new InvocationFailed(9L, ErrorCode.WORKER_THREW.code(), null, true),
                new InvocationFailed(10L, ErrorCode.WORKER_THREW.code(), "Error: boom", false, binary),
                new InvocationDone(10L, 123_456L),
                new InvocationDone(0L, 0L),
                new LogLine("w", 11L, "error", "Uncaught Error: x\n    at fetch (index.js:1:1)", 1_700_000_000_000L),
                new LogLine(null, 0L, null, null, 0L),
                new Subrequest(12L, 13L, "POST", "https://api.test/x?y=1", HEADERS, utf8("body ✓")),
                new Subrequest(12L, 14L, "GET", "http://127.0.0.1:1/", List.of(), null),
                new LoadWorker(15L, "w", BUNDLE, "{\"K\":\"v ✓\"}", LIMITS),
                new LoadWorker(16L, "w2", BUNDLE, null, Limits.DEFAULTS),
                new FetchStart(17L, "w", "PUT", "https://example.test/p", HEADERS, utf8("{\"a\":1}")),
                new FetchStart(18L, "w", "GET", "https://example.test/", List.of(), null),
                new FetchStart(18L, "w", "POST", "https://example.test/upload", HEADERS, null, true),
                new RequestBodyPull(25L),
                new RequestBodyChunk(26L, binary),
                new RequestBodyChunk(26L, new byte[0]),
                new RequestBodyEnd(27L, null),
                new RequestBodyEnd(27L, "client reset the connection"),
                new ResponseAck(21L, 262_144L),
                new Cancel(19L, "client went away"),
                new Cancel(20L, null),
                new SubrequestResult(21L, 404, "Not Found", HEADERS, binary, "https://api.test/x"),
                new SubrequestResult(22L, 204, null, List.of(), null, null),
                new SubrequestFailed(23L, "egress denied"),
                new SubrequestFailed(24L, null),
                new SubrequestAck(31L, 65_536L),
                new SubrequestCancel(32L),
                new SubrequestHead(33L, 200, "OK", HEADERS, "https://api.test/y", true),
                new SubrequestHead(34L, 204, null, List.of(), null, false),
                new SubrequestChunk(35L, binary),
                new SubrequestEnd(36L, null),
                new SubrequestEnd(37L, "upstream reset"),
                new StreamedSubrequest(38L, 39L, "POST", "https://api.test/upload", HEADERS),
                new SubrequestBodyPull(40L),
                new SubrequestBodyChunk(41L, binary),
                new SubrequestBodyEnd(42L, null),
                new SubrequestBodyEnd(43L, "stream errored"),
                new SubrequestStartTls(44L),
                new CallHead(44L, 200, "OK", List.of(new Header("content-type", "text/event-stream"))),
                new CallChunk(44L, binary),
                new CallEnd(44L, null),
                new CallEnd(45L, "the callee failed"),
                new CallBodyPull(46L),
                new CallAck(44L, 65536L),
                new CallCancel(44L),
                new CallBodyChunk(46L, binary),
                new CallBodyEnd(46L, null),
                new CallBodyEnd(47L, "body broke"),
                new StreamedCallStart(48L, 49L, new Address.DurableObject("w", "C", "c".repeat(64), "n"), "POST", "https://x/up",
                        List.of(new Header("a", "b"))),
                new StreamedCapFetch(50L, 51L, 9L, "PUT", "https://x/", List.of()),
                new CallStart(25L, 26L, new Address.DurableObject("front", "Counter", "a".repeat(64), "alice"), "POST",
                        "https://do/x", HEADERS, binary),
                new CallStart(27L, 28L, new Address.Worker("front", "Admin"), "GET", "https://do/", List.of(), null),
                new CallResult(29L, 201, "Created", HEADERS, binary),
                new CallResult(30L, 204, null, List.of(), null),
                new CallFailed(31L, "not_found", "no such object"),
                new CallFailed(32L, ErrorCode.WORKER_THREW.code(), "Error: boom", binary),
                new FetchStart(32L, new Address.DurableObject("front", "Counter", "b".repeat(64), null), "GET",
                        "https://x/", List.of(), null, false),
                new LoadWorker(33L, "front", BUNDLE, "{}",
                        List.of(new Binding.DurableObjectNamespace("COUNTER", "front", "Counter", new byte[32])),
                        true, Limits.DEFAULTS),
                new LoadDynamic(34L, 35L, "front", "alice", BUNDLE, "{\"K\":1}", false, LIMITS),
                new LoadDynamic(36L, 37L, "front", null, null, null, true, Limits.DEFAULTS),
                new LoadDynamicStart(38L, 39L, "front", "alice", "index.js",
                        List.of(new ModuleHead("index.js", "js", 12), new ModuleHead("b.bin", "data", 0)), "{}", false, LIMITS),
                new LoadDynamicStart(64L, 65L, "front", null, "m.js", List.of(new ModuleHead("m.js", "js", 3)), null, false,
                        LIMITS, List.of(new Binding.Outbound(new Address.Worker("front", "Outbound", Address.Grant.props(binary))),
                                new Binding.Tail(new Address.Worker("front", "Tail"))), binary,
                        new Compatibility("2025-01-01", List.of("nodejs_compat", "nodejs_compat_v2"))),
                new LoadDynamicChunk(39L, new byte[] {1, 2, 3}),
                new RpcPayloadChunk(40L, true, 9L << 20, new byte[] {4, 5}),
                new DynamicLoaded(38L, "dyn-abc"),
                new RpcCall(40L, 41L, new Address.Worker("dyn-abc", "Admin"), "greet", binary),
                new RpcCall(42L, 43L, new Address.DurableObject("front", "Counter", "c".repeat(64), null), "count", null),
                new LocalInvocation((1L << 52) | 7L, 44L, new Address.DurableObject("front", "Counter", "d".repeat(64), "n"), true),
                new ObjectsEvicted(List.of(new Address.DurableObject("front", "Counter", "d".repeat(64), "n"),
                        new Address.DurableObject("front", "Room", "f".repeat(64), null))),
                new ObjectsEvicted(List.of()),
                new RpcReturn(44L, binary, true),
                new RpcStart(45L, new Address.Worker("front"), "greet", binary),
                new RpcResult(46L, binary, false),
                new AlarmSet(new Address.DurableObject("front", "Counter", "d".repeat(64), "n"), 1_700_000_000_000L),
                new AlarmSet(new Address.DurableObject("front", "Counter", "d".repeat(64), null), null),
                new AlarmStart(47L, new Address.DurableObject("front", "Counter", "e".repeat(64), null), 1_700_000_000_123L, 3, true),
                new UnloadWorker("dyn-abc"),
                new SocketOpen(48L, 48L, true, List.of("room:1", "user ✓")),
                new SocketOpen(49L, 48L, false, List.of()),
                new SocketClaim(50L, 48L, "w1", null),
                new SocketClaim(51L, 49L, "w1", new Address.DurableObject("w1", "Client", "d".repeat(64), null)),
                new SocketSend(48L, "hello ✓", null),
                new SocketSend(48L, null, binary),
                new SocketClose(48L, 1000, "bye"),
                new SocketClose(48L, 1005, null),
                new SocketAttachment(48L, binary),
                new SocketAttachment(48L, null),
                new SocketAutoResponse(new Address.DurableObject("front", "Chat", "f".repeat(64), "room"), "ping", "pong"),
                new SocketAutoResponse(new Address.DurableObject("front", "Chat", "f".repeat(64), null), null, null),
                new SocketEvent(50L, new Address.DurableObject("front", "Chat", "f".repeat(64), null), 48L,
                        SocketEventKind.MESSAGE, "hi", null, 0, null),
                new SocketEvent(51L, new Address.Worker("front"), 48L, SocketEventKind.MESSAGE, null, binary, 0, null),
                new SocketEvent(52L, new Address.Worker("front"), 48L, SocketEventKind.CLOSE, null, null, 1001, "going away"),
                new SocketEvent(53L, new Address.Worker("front"), 48L, SocketEventKind.ERROR, null, null, 1011, "broken"),
                new SocketRestore(new Address.DurableObject("front", "Chat", "f".repeat(64), "room"),
                        List.of(new SocketState(48L, List.of("a", "b"), binary), new SocketState(54L, List.of(), null))),
                new SocketRestore(new Address.DurableObject("front", "Chat", "f".repeat(64), null), List.of()),
                new LoadWorker(39L, "w3", BUNDLE, "{}", List.of(new Binding.WorkerLoader("LOADER")), false, LIMITS),
                new LoadWorker(55L, "w4", BUNDLE, "{}", List.of(new Binding.Capability("TOOL", 1L << 52)), true, LIMITS),
                new LoadDynamic(56L, 57L, "front", null, BUNDLE, "{}", false, LIMITS, List.of(
                        new Binding.Tail(new Address.Worker("front", "Tail"))), binary),
                new CapCall(58L, 59L, 123_456_789L, "greet", binary),
                new CapCall(60L, 61L, 7L, "", null),
                new CapStart(62L, 8L, "method", binary),
                new CapStart(63L, 9L, "prop", null),
                new CapRelease(64L, List.of(1L, 2L, 3L)),
                new CapRelease(0L, List.of()),
                new ExportDrop(List.of(10L, 11L)),
                new CapRevoke(List.of(12L)),
                new CapRevoke(List.of(13L), true),
                new CapFetch(65L, 66L, 1L << 52, "POST", "https://x/y", List.of(new Header("a", "b")), binary),
                new CapFetch(67L, 68L, 9L, "GET", "https://x/", List.of(), null),
                new LoadWorker(69L, "w5", BUNDLE, "{}", List.of(
                        new Binding.Capability("ROOM", 5L, new CapPayload.ObjectShape("c".repeat(64), "lobby")),
                        new Binding.Capability("ANON", 6L, new CapPayload.ObjectShape("d".repeat(64), null)),
                        new Binding.Capability("SVC", 7L, CapPayload.Shape.FETCHER)), true, LIMITS),
                new SnapshotObject(55L, new Address.DurableObject("front", "Counter", "a".repeat(64), null),
                        "0123456789abcdef0123456789abcdef.sqlite"),
                new SnapshotObject(56L, new Address.DurableObject("front", "Counter", "b".repeat(64), "name"), "x"),
                new SnapshotTaken(55L, null),
                new SnapshotTaken(56L, "the object is inside a transaction"),
                new FacetReset(57L, new Address.DurableObject("dyn-1", "App", "c".repeat(64), "app/sub"), "new code", false),
                new FacetReset(58L, new Address.DurableObject("dyn-2", "App", "d".repeat(64), "x"), null, true),
                new FacetResetDone(57L, null),
                new FacetResetDone(58L, "the facet's database could not be deleted"),
                new LoadWorker(55L, "front", BUNDLE, "{}", List.of(
                        new Binding.Service("BACK", new Address.Worker("back")),
                        new Binding.Service("ADMIN", new Address.Worker("back", "Admin",
                                new Address.Grant(utf8("props ✓"), 10, 0))),
                        new Binding.ExportedNamespace("Counter", new byte[32])), true, LIMITS),
                new LoadDynamic(56L, 57L, "front", "x", BUNDLE, null, false, LIMITS, List.of(
                        new Binding.Outbound(new Address.Worker("front", "Outbound", Address.Grant.props(binary))),
                        new Binding.Tail(new Address.Worker("front", "Tail")),
                        new Binding.Tail(new Address.Worker("back", null, new Address.Grant(null, -1, 5))),
                        new Binding.Tail(new Address.DurableObject("front", "TailReceiver", "e".repeat(64), null)))),
                new RpcCall(58L, 59L, new Address.Worker("dyn-abc", null, Address.Grant.props(new byte[0])), "who", null),
                new CallStart(60L, 61L, new Address.Worker("front", "Local", new Address.Grant(binary, 50, -1)), "GET",
                        "https://self/", List.of(), null),
                new TailStart(62L, new Address.Worker("front", "Tail"), "[{\"outcome\":\"ok\"}]"),
                new TailStart(63L, new Address.Worker("front", null, Address.Grant.props(binary)), "[]"),
                new Shutdown());
    }

    static byte[] encode(Message m) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        MessageCodec.write(new DataOutputStream(bytes), m);
        return bytes.toByteArray();
    }

    static Message decode(byte[] frame) throws IOException {
        return MessageCodec.read(new DataInputStream(new ByteArrayInputStream(frame)));
    }

    static void assertSameMessage(Message actual, Message expected) {
        assertThat(actual).isInstanceOf(expected.getClass());
        // Records compare arrays by identity; compare field by field, arrays by content.
        assertThat(actual).usingRecursiveComparison().withStrictTypeChecking()
                .withEqualsForType(Arrays::equals, byte[].class).isEqualTo(expected);
    }

    @Test
    void everyMessageTypeIsCovered() {
        assertThat(everyMessage().map(Object::getClass).distinct())
                .containsExactlyInAnyOrder(Message.class.getPermittedSubclasses());
    }

    @ParameterizedTest
    @MethodSource("everyMessage")
    void roundTrips(Message message) throws IOException {
        byte[] frame = encode(message);
        int length = ((frame[0] & 0xff) << 24) | ((frame[1] & 0xff) << 16) | ((frame[2] & 0xff) << 8) | (frame[3] & 0xff);
        assertThat(length).as("frame length prefix").isEqualTo(frame.length - 4);
        assertSameMessage(decode(frame), message);
    }

    @Test
    void aFrameOverTheLimitIsRefusedBeforeAnythingIsWritten() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        byte[] huge = new byte[MessageCodec.MAX_FRAME + 1];
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MessageCodec.write(out, new ResponseChunk(1L, huge)))
                .isInstanceOf(MessageCodec.FrameTooLargeException.class);
        assertThat(bytes.size()).isZero();
        MessageCodec.write(out, new ResponseEnd(1L));
        assertThat(decode(bytes.toByteArray())).isEqualTo(new ResponseEnd(1L));
    }

    @Test
    void aReaderRefusesFramesOverItsOwnBound() throws IOException {
        byte[] frame = encode(new SubrequestChunk(1L, new byte[1 << 20]));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MessageCodec.read(
                new java.io.DataInputStream(new java.io.ByteArrayInputStream(frame)), 1 << 16))
                .isInstanceOf(IOException.class).hasMessageContaining("bad frame length");
    }

    @Test
    void aBundleRoundTripsWithItsModuleOrderTypesAndBytes() throws IOException {
        LoadWorker back = (LoadWorker) decode(encode(new LoadWorker(1, "w", BUNDLE, "{}", LIMITS)));
        assertThat(back.bundle()).isEqualTo(BUNDLE);
        assertThat(back.bundle().modules().keySet()).containsExactlyElementsOf(BUNDLE.modules().keySet());
        assertThat(back.bundle().mainModule()).isEqualTo("src/index.js");
        assertThat(back.limits()).isEqualTo(LIMITS);
    }

    @Test
    void aBundleCarriesItsCompatibilityDateAndFlags() throws IOException {
        var compat = new dev.bulwark.sandbox.worker.Compatibility("2025-09-20", List.of("nodejs_compat", "nodejs_als"));
        LoadWorker back = (LoadWorker) decode(encode(new LoadWorker(1, "w", BUNDLE.withCompatibility(compat), "{}", LIMITS)));
        assertThat(back.bundle().compatibility()).isEqualTo(compat);
        LoadWorker none = (LoadWorker) decode(encode(new LoadWorker(1, "w", BUNDLE, "{}", LIMITS)));
        assertThat(none.bundle().compatibility()).isEqualTo(dev.bulwark.sandbox.worker.Compatibility.NONE);
    }

    @Test
    void manyFramesFollowEachOtherOnOneStream() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        List<Message> all = everyMessage().toList();
        for (Message m : all) MessageCodec.write(out, m);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
        for (Message m : all) assertSameMessage(MessageCodec.read(in), m);
        assertThatThrownBy(() -> MessageCodec.read(in)).isInstanceOf(EOFException.class);
    }

    // ---------------------------------------------------------------- bad frames

    static byte[] frame(int declaredLength, byte... body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        try {
            out.writeInt(declaredLength);
            out.write(body);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return bytes.toByteArray();
    }

    /** A frame body: a tag, then ints and longs and raw bytes as given. */
    static byte[] body(int tag, Object... fields) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        try {
            out.writeByte(tag);
            for (Object f : fields) {
                switch (f) {
                    case Integer i -> out.writeInt(i);
                    case Long l -> out.writeLong(l);
                    case byte[] b -> out.write(b);
                    default -> throw new IllegalArgumentException(String.valueOf(f));
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return bytes.toByteArray();
    }

    @Test
    void aLengthOverTheMaximumIsAnIOExceptionNotAnAllocation() {
        for (int length : new int[]{MessageCodec.MAX_FRAME + 1, Integer.MAX_VALUE, 0, -1, Integer.MIN_VALUE}) {
            assertThatThrownBy(() -> decode(frame(length, (byte) 25)))
                    .as("length %d", length).isInstanceOf(IOException.class).hasMessageContaining("bad frame length");
        }
    }

    @Test
    void aFrameShorterThanItsLengthIsAnEof() {
        assertThatThrownBy(() -> decode(frame(100, (byte) 25, (byte) 0))).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> decode(new byte[]{0, 0})).isInstanceOf(EOFException.class);
    }

    @Test
    void anUnknownTagIsAnIOException() {
        for (int tag : new int[]{0, 100, 127, -1, -128}) {
            assertThatThrownBy(() -> decode(frame(1, (byte) tag)))
                    .as("tag %d", tag).isInstanceOf(IOException.class).hasMessageContaining("unknown message tag");
        }
    }

    @Test
    void everyTruncatedFrameIsAnIOExceptionAndNothingElse() throws IOException {
        // Every tag alone, and every prefix of every valid frame body: only IOExceptions (EOF included) come out.
        for (int tag = -128; tag < 128; tag++) {
            byte[] f = frame(1, (byte) tag);
            try {
                decode(f);
            } catch (IOException expected) {
                // fine
            }
        }
        for (Message m : everyMessage().toList()) {
            byte[] good = encode(m);
            for (int cut = 1; cut < good.length - 4; cut++) {
                byte[] truncated = frame(cut, Arrays.copyOfRange(good, 4, 4 + cut));
                assertThatThrownBy(() -> decode(truncated)).as("%s cut at %d", m, cut).isInstanceOf(IOException.class);
            }
        }
    }

    @Test
    void trailingBytesInAFrameAreAnIOException() throws IOException {
        byte[] good = encode(new ResponseEnd(7));
        byte[] longer = frame(good.length - 4 + 3, Arrays.copyOfRange(good, 4, good.length));
        longer = Arrays.copyOf(longer, longer.length + 3);
        byte[] finalLonger = longer;
        assertThatThrownBy(() -> decode(finalLonger)).isInstanceOf(IOException.class).hasMessageContaining("trailing bytes");
    }

    @Test
    void aHugeStringOrByteLengthInsideASmallFrameIsAnIOException() {
        // CANCEL = 22: invocation id, then a string whose length claims 2 GiB.
        byte[] cancel = body(22, 1L, Integer.MAX_VALUE);
        assertThatThrownBy(() -> decode(frame(cancel.length, cancel))).isInstanceOf(IOException.class);
        // A negative length other than -1 (null).
        byte[] negative = body(22, 1L, -2);
        assertThatThrownBy(() -> decode(frame(negative.length, negative))).isInstanceOf(IOException.class);
        // RESPONSE_CHUNK = 5 whose data claims more bytes than the frame holds.
        byte[] chunk = body(5, 1L, 1000, new byte[10]);
        assertThatThrownBy(() -> decode(frame(chunk.length, chunk))).isInstanceOf(IOException.class);
    }

    @Test
    void aHugeHeaderOrModuleCountIsAnIOException() {
        // RESPONSE_HEAD = 4: id, status, null statusText, then a header count of 2^31-1.
        byte[] head = body(4, 1L, 200, -1, Integer.MAX_VALUE);
        assertThatThrownBy(() -> decode(frame(head.length, head))).isInstanceOf(IOException.class).hasMessageContaining("bad count");
        byte[] negative = body(4, 1L, 200, -1, -5);
        assertThatThrownBy(() -> decode(frame(negative.length, negative))).isInstanceOf(IOException.class);
    }

    @Test
    void aBundleThatViolatesItsInvariantsIsAnIOException() throws IOException {
        // A main module that is not among the modules: re-encode a valid LoadWorker with the main name changed.
        byte[] good = encode(new LoadWorker(1, "w", WorkerBundle.of("a.js",
                List.of(WorkerModule.text("a.js", ModuleType.JS, "x"))), "{}", LIMITS));
        String text = new String(good, StandardCharsets.ISO_8859_1).replaceFirst("a\\.js", "b.js");
        assertThatThrownBy(() -> decode(text.getBytes(StandardCharsets.ISO_8859_1))).isInstanceOf(IOException.class)
                .hasMessageContaining("mainModule");
        // An unknown module type.
        String badType = new String(good, StandardCharsets.ISO_8859_1).replace("\u0000\u0000\u0000\u0002js", "\u0000\u0000\u0000\u0002zz");
        assertThat(badType).isNotEqualTo(new String(good, StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> decode(badType.getBytes(StandardCharsets.ISO_8859_1))).isInstanceOf(IOException.class)
                .hasMessageContaining("unknown module type");
    }

    @Test
    void invalidLimitsAreAnIOException() throws IOException {
        byte[] good = encode(new LoadWorker(1, "w", WorkerBundle.of("a.js",
                List.of(WorkerModule.text("a.js", ModuleType.JS, "x"))), "{}", LIMITS));
        // The limits close the frame (5 longs, 2 ints, cpuMs first); make cpuMs 0.
        byte[] bad = good.clone();
        int cpuAt = bad.length - (8 + 8 + 4 + 4 + 8 + 8 + 8);
        Arrays.fill(bad, cpuAt, cpuAt + 8, (byte) 0);
        assertThatThrownBy(() -> decode(bad)).isInstanceOf(IOException.class).hasMessageContaining("limits must be positive");
    }

    // ---------------------------------------------------------------- the channel

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void twoThreadsSendConcurrentlyAndTheOtherEndReadsEverythingIntact(@TempDir Path dir) throws Exception {
        Path socketPath = dir.resolve("bulwark.sock");
        int perThread = 2_000;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socketPath));
            CompletableFuture<SocketChannel> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.accept();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX);
            client.connect(UnixDomainSocketAddress.of(socketPath));
            try (MessageChannel sender = new MessageChannel(client);
                 MessageChannel receiver = new MessageChannel(accepted.get(10, TimeUnit.SECONDS))) {

                CountDownLatch go = new CountDownLatch(1);
                List<Thread> threads = new ArrayList<>();
                List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
                for (int t = 0; t < 2; t++) {
                    long thread = t;
                    threads.add(Thread.ofPlatform().name("sender-" + t).start(() -> {
                        try {
                            go.await();
                            for (int i = 0; i < perThread; i++) sender.send(message(thread, i));
                        } catch (Throwable e) {
                            errors.add(e);
                        }
                    }));
                }
                go.countDown();

                Map<Long, Integer> next = new HashMap<>(Map.of(0L, 0, 1L, 0));
                for (int n = 0; n < 2 * perThread; n++) {
                    Message m = receiver.receive();
                    long thread;
                    int i;
                    switch (m) {
                        case ResponseChunk c -> { thread = c.invocationId() >> 32; i = (int) c.invocationId(); }
                        case LogLine l -> { thread = l.invocationId() >> 32; i = (int) l.invocationId(); }
                        default -> throw new AssertionError("unexpected " + m);
                    }
                    assertThat(i).as("messages of one sender arrive in its order").isEqualTo(next.get(thread));
                    next.put(thread, i + 1);
                    assertSameMessage(m, message(thread, i));
                }
                for (Thread t : threads) t.join();
                assertThat(errors).isEmpty();
                assertThat(next).containsEntry(0L, perThread).containsEntry(1L, perThread);

                sender.close();
                assertThatThrownBy(receiver::receive).isInstanceOf(EOFException.class);
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void postedAndSentMessagesFromTwoThreadsArriveIntactInEachSendersOrder(@TempDir Path dir) throws Exception {
        Path socketPath = dir.resolve("bulwark-post.sock");
        int perThread = 2_000;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socketPath));
            SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX);
            client.connect(UnixDomainSocketAddress.of(socketPath));
            try (MessageChannel sender = new MessageChannel(client); MessageChannel receiver = new MessageChannel(server.accept())) {
                CountDownLatch go = new CountDownLatch(1);
                List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
                List<Thread> threads = new ArrayList<>();
                // Thread 0 posts (queued for the channel's writer thread), thread 1 sends directly.
                for (int t = 0; t < 2; t++) {
                    long thread = t;
                    threads.add(Thread.ofPlatform().name("poster-" + t).start(() -> {
                        try {
                            go.await();
                            for (int i = 0; i < perThread; i++) {
                                if (thread == 0) sender.post(message(thread, i));
                                else sender.send(message(thread, i));
                            }
                        } catch (Throwable e) {
                            errors.add(e);
                        }
                    }));
                }
                go.countDown();
                Map<Long, Integer> next = new HashMap<>(Map.of(0L, 0, 1L, 0));
                for (int n = 0; n < 2 * perThread; n++) {
                    Message m = receiver.receive();
                    long id = m instanceof ResponseChunk c ? c.invocationId() : ((LogLine) m).invocationId();
                    long thread = id >> 32;
                    int i = (int) id;
                    assertThat(i).as("messages of sender %d arrive in its order", thread).isEqualTo(next.get(thread));
                    next.put(thread, i + 1);
                    assertSameMessage(m, message(thread, i));
                }
                for (Thread t : threads) t.join();
                assertThat(errors).isEmpty();
            }
        }
    }

    /** Messages of varied sizes (some bigger than the channel's 64 KiB buffers) that identify sender and sequence. */
    static Message message(long thread, int i) {
        long id = (thread << 32) | i;
        if (i % 2 == 0) {
            int size = (i % 50 == 0) ? 100_000 + i : (i * 37) % 3_000;
            byte[] data = new byte[size];
            for (int k = 0; k < size; k++) data[k] = (byte) (k * 31 + i + thread);
            return new ResponseChunk(id, data);
        }
        return new LogLine("sender-" + thread, id, "log", "message " + i + " ✓".repeat(i % 20), i);
    }
    @Test
    void aGrantComparesByContentAndNeverPrintsItsProps() {
        Address.Grant a = Address.Grant.props(utf8("{\"token\":\"secret\"}"));
        Address.Grant b = Address.Grant.props(utf8("{\"token\":\"secret\"}"));
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(new Address.Worker("w", "E", a)).isEqualTo(new Address.Worker("w", "E", b));
        assertThat(new Address.Worker("w", "E", a)).isNotEqualTo(new Address.Worker("w", "E", Address.Grant.props(utf8("{}"))));
        assertThat(new Address.Worker("w", "E", a)).isNotEqualTo(new Address.Worker("w", "E"));
        assertThat(a.toString()).doesNotContain("secret").contains("bytes");
        assertThat(new Address.Worker("w", "E", a).toString()).doesNotContain("secret");
        byte[] props = a.props();
        props[0] = 'X';
        assertThat(a).isEqualTo(b); // a copy: the grant cannot be changed from outside
    }

    @Test
    void aTailStartMustNameAWorker() throws IOException {
        byte[] frame = encode(new RpcStart(1L, new Address.DurableObject("w", "C", "a".repeat(64), null), "m", null));
        frame[4] = 80; // the TailStart tag, over an object's address
        assertThatThrownBy(() -> decode(frame)).isInstanceOf(IOException.class);
    }
}
