package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.ipc.MessageCodec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The node-sandbox codec ({@link MessageCodec}) on the two hot messages: a {@code FetchStart} with
 * 10 headers and a 1 KiB body, and a 16 KiB {@code ResponseChunk}. Frames go to and come from
 * memory (a reused buffer), so this is the codec alone, not the socket. {@code roundTrip} is one
 * encode plus one decode; {@code encode} and {@code decode} split it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"-Xss8m"})
public class CodecBench {

    /** A ByteArrayOutputStream whose buffer can be read in place. */
    static final class Frame extends ByteArrayOutputStream {
        Frame(int size) {
            super(size);
        }

        DataInputStream input() {
            return new DataInputStream(new ByteArrayInputStream(buf, 0, count));
        }
    }

    @State(Scope.Thread)
    public static class Messages {
        Message fetchStart;
        Message responseChunk;
        final Frame out = new Frame(32 << 10);
        final DataOutputStream data = new DataOutputStream(out);
        final Frame encodedFetchStart = new Frame(4 << 10);
        final Frame encodedResponseChunk = new Frame(32 << 10);

        @Setup
        public void setUp() throws IOException {
            Random random = new Random(42);
            List<Message.Header> headers = new ArrayList<>();
            String[] names = {"accept", "accept-encoding", "accept-language", "cache-control", "content-type",
                    "cookie", "host", "user-agent", "x-forwarded-for", "x-request-id"};
            for (String name : names) headers.add(new Message.Header(name, "value-of-" + name + "-" + random.nextInt(1_000_000)));
            byte[] body = new byte[1024];
            random.nextBytes(body);
            fetchStart = new Message.FetchStart(123_456_789L, "worker-abcdef", "POST",
                    "https://example.com/api/v1/items?page=2&sort=desc", List.copyOf(headers), body);
            byte[] chunk = new byte[16 << 10];
            random.nextBytes(chunk);
            responseChunk = new Message.ResponseChunk(123_456_789L, chunk);
            MessageCodec.write(new DataOutputStream(encodedFetchStart), fetchStart);
            MessageCodec.write(new DataOutputStream(encodedResponseChunk), responseChunk);
            // Sanity: what is decoded is what was encoded.
            Message back = MessageCodec.read(encodedFetchStart.input());
            if (!(back instanceof Message.FetchStart f) || f.headers().size() != 10 || f.body().length != 1024) {
                throw new IllegalStateException("codec round trip changed the message: " + back);
            }
        }
    }

    private static Message roundTrip(Messages s, Message m) throws IOException {
        s.out.reset();
        MessageCodec.write(s.data, m);
        return MessageCodec.read(s.out.input());
    }

    @Benchmark
    public Message fetchStartRoundTrip(Messages s) throws IOException {
        return roundTrip(s, s.fetchStart);
    }

    @Benchmark
    public Message responseChunk16kRoundTrip(Messages s) throws IOException {
        return roundTrip(s, s.responseChunk);
    }

    @Benchmark
    public int fetchStartEncode(Messages s) throws IOException {
        s.out.reset();
        MessageCodec.write(s.data, s.fetchStart);
        return s.out.size();
    }

    @Benchmark
    public Message fetchStartDecode(Messages s) throws IOException {
        return MessageCodec.read(s.encodedFetchStart.input());
    }

    @Benchmark
    public int responseChunk16kEncode(Messages s) throws IOException {
        s.out.reset();
        MessageCodec.write(s.data, s.responseChunk);
        return s.out.size();
    }

    @Benchmark
    public Message responseChunk16kDecode(Messages s) throws IOException {
        return MessageCodec.read(s.encodedResponseChunk.input());
    }
}
