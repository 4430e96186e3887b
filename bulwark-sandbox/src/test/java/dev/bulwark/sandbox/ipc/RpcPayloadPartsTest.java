package dev.bulwark.sandbox.ipc;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RpcPayloadPartsTest {
    static final Address TARGET = new Address.Worker("w", null, null);

    static byte[] bytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @Test
    void aPayloadOfUpToEightMebibytesTravelsWholeInItsMessage() {
        Message call = new Message.RpcCall(1, 2, TARGET, "m", bytes(RpcPayloadParts.WHOLE));
        assertThat(RpcPayloadParts.split(call)).containsExactly(call);
    }

    @Test
    void largerPayloadsLeaveInPiecesThatFitAFrameAndArriveWhole() throws Exception {
        byte[] args = bytes(RpcPayloadParts.MAX_PAYLOAD);
        List<Message> parts = RpcPayloadParts.split(new Message.RpcCall(1, 2, TARGET, "m", args));
        assertThat(parts).hasSize(9);
        RpcPayloadParts.Assembly a = new RpcPayloadParts.Assembly();
        Message whole = null;
        for (Message m : parts) {
            // Through the codec, as the node reads them: every frame at most 16 MiB.
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            MessageCodec.write(new DataOutputStream(out), m);
            assertThat(out.size()).isLessThan(16 << 20);
            Message read = MessageCodec.read(new DataInputStream(new ByteArrayInputStream(out.toByteArray())), 16 << 20);
            if (read instanceof Message.RpcPayloadChunk c) a.chunk(c);
            else whole = a.complete(read);
        }
        assertThat(whole).isInstanceOf(Message.RpcCall.class);
        assertThat(((Message.RpcCall) whole).args()).isEqualTo(args);
        assertThat(a.inFlight()).isZero();
    }

    @Test
    void resultsAndCapabilityCallsToo() {
        byte[] value = bytes(20 << 20);
        RpcPayloadParts.Assembly a = new RpcPayloadParts.Assembly();
        Message done = null;
        for (Message m : RpcPayloadParts.split(new Message.RpcReturn(7, value, true))) {
            if (m instanceof Message.RpcPayloadChunk c) a.chunk(c); else done = a.complete(m);
        }
        assertThat(done).isInstanceOf(Message.RpcReturn.class);
        assertThat(((Message.RpcReturn) done).value()).isEqualTo(value);
        assertThat(((Message.RpcReturn) done).threw()).isTrue();
        for (Message m : RpcPayloadParts.split(new Message.CapCall(1, 7, 3, "m", value))) {
            if (m instanceof Message.RpcPayloadChunk c) a.chunk(c); else done = a.complete(m);
        }
        assertThat(((Message.CapCall) done).args()).isEqualTo(value);
    }

    @Test
    void aDeclaredTotalPastTheLimitIsRefusedBeforeAnythingIsKept() {
        RpcPayloadParts.Assembly a = new RpcPayloadParts.Assembly();
        assertThatThrownBy(() -> a.chunk(new Message.RpcPayloadChunk(1, false, 100_000_000L, new byte[10])))
                .isInstanceOf(RpcPayloadParts.ProtocolViolation.class);
        assertThatThrownBy(() -> a.chunk(new Message.RpcPayloadChunk(1, false, Long.MAX_VALUE, new byte[10])))
                .isInstanceOf(RpcPayloadParts.ProtocolViolation.class);
        assertThat(a.inFlight()).isZero();
    }

    @Test
    void piecesPastTheAnnouncedTotalOrATotalThatChangesBreakTheProtocol() {
        RpcPayloadParts.Assembly a = new RpcPayloadParts.Assembly();
        a.chunk(new Message.RpcPayloadChunk(1, false, 9 << 20, new byte[8 << 20]));
        assertThatThrownBy(() -> a.chunk(new Message.RpcPayloadChunk(1, false, 9 << 20, new byte[2 << 20])))
                .isInstanceOf(RpcPayloadParts.ProtocolViolation.class);
        a.chunk(new Message.RpcPayloadChunk(2, false, 9 << 20, new byte[1]));
        assertThatThrownBy(() -> a.chunk(new Message.RpcPayloadChunk(2, false, 10 << 20, new byte[1])))
                .isInstanceOf(RpcPayloadParts.ProtocolViolation.class);
    }

    @Test
    void aMessageBeforeItsLastPieceBreaksTheProtocol() {
        RpcPayloadParts.Assembly a = new RpcPayloadParts.Assembly();
        a.chunk(new Message.RpcPayloadChunk(1, true, 9 << 20, new byte[4 << 20]));
        assertThatThrownBy(() -> a.complete(new Message.RpcReturn(1, new byte[0], false)))
                .isInstanceOf(RpcPayloadParts.ProtocolViolation.class);
    }

    @Test
    void pastFourPayloadsAtOnceTheNextIsRefusedWithoutKeepingItsBytes() {
        RpcPayloadParts.Assembly a = new RpcPayloadParts.Assembly();
        for (int id = 0; id < RpcPayloadParts.Assembly.MAX_IN_FLIGHT; id++) {
            a.chunk(new Message.RpcPayloadChunk(id, false, 9 << 20, new byte[1 << 20]));
        }
        a.chunk(new Message.RpcPayloadChunk(99, false, 9 << 20, new byte[9 << 20]));
        assertThat(a.inFlight()).isEqualTo(RpcPayloadParts.Assembly.MAX_IN_FLIGHT);
        assertThat(a.complete(new Message.RpcCall(1, 99, TARGET, "m", new byte[0]))).isNull();
        // Messages without pieces pass untouched.
        Message small = new Message.RpcCall(1, 100, TARGET, "m", new byte[] {1});
        assertThat(a.complete(small)).isSameAs(small);
    }

    @Test
    void workerdsMessage() {
        assertThat(RpcPayloadParts.tooLarge(33554433)).isEqualTo(
                "Serialized RPC arguments or return values are limited to 32MiB, but the size of this value was: 33554433 bytes.");
    }
}
