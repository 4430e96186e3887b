package dev.bulwark.sandbox.ipc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * RPC payloads (arguments of {@link Message.RpcCall} and {@link Message.CapCall}, the value of
 * {@link Message.RpcReturn}) of up to {@link #MAX_PAYLOAD} bytes, Workers' limit, on a link whose
 * frames from a sandbox are at most 16 MiB: a payload over {@link #WHOLE} bytes leaves the
 * sandbox as {@link Message.RpcPayloadChunk}s of at most {@link #PIECE} bytes, then the message
 * itself with an empty payload. The pattern is {@link LoadDynamicParts}'s.
 *
 * <p>{@link Assembly} is the node's side and trusts nothing the sandbox says: a declared total
 * past {@link #MAX_PAYLOAD}, a piece past the declared total or a total that changes is a broken
 * sandbox ({@link ProtocolViolation}); bytes are kept as they arrive (nothing is allocated from a
 * declared size), so one payload never holds more than the limit, and a sandbox has at most
 * {@link Assembly#MAX_IN_FLIGHT} payloads being assembled (a payload past that is refused when
 * its message arrives).
 */
public final class RpcPayloadParts {
    private RpcPayloadParts() {}

    /** Workers' limit on one serialized RPC payload (workerd's {@code MAX_JS_RPC_MESSAGE_SIZE}). */
    public static final int MAX_PAYLOAD = 32 << 20;
    /**
     * What the sandbox may add to a payload of at most {@link #MAX_PAYLOAD} bytes after the check:
     * capability slots renamed for the node.
     */
    static final int SLACK = 64 << 10;
    /** Payloads up to this size travel whole in their message. */
    public static final int WHOLE = 8 << 20;
    /** Largest piece of a payload in one {@link Message.RpcPayloadChunk}. */
    public static final int PIECE = 4 << 20;

    /** workerd's error for a payload over the limit (thrown as a plain {@code Error}). */
    public static String tooLarge(long size) {
        return "Serialized RPC arguments or return values are limited to 32MiB, but the size of this value was: "
                + size + " bytes.";
    }

    /** The messages that carry {@code message}, in order: itself, or its payload's pieces and then itself without it. */
    public static List<Message> split(Message message) {
        return switch (message) {
            case Message.RpcCall m when large(m.args()) ->
                    pieces(m.callId(), false, m.args(), new Message.RpcCall(m.invocationId(), m.callId(), m.target(), m.method(), new byte[0]));
            case Message.CapCall m when large(m.args()) ->
                    pieces(m.callId(), false, m.args(), new Message.CapCall(m.invocationId(), m.callId(), m.capId(), m.method(), new byte[0]));
            case Message.RpcReturn m when large(m.value()) ->
                    pieces(m.invocationId(), true, m.value(), new Message.RpcReturn(m.invocationId(), new byte[0], m.threw()));
            default -> List.of(message);
        };
    }

    private static boolean large(byte[] payload) {
        return payload != null && payload.length > WHOLE;
    }

    private static List<Message> pieces(long id, boolean result, byte[] payload, Message last) {
        List<Message> parts = new ArrayList<>();
        for (int at = 0; at < payload.length; at += PIECE) {
            parts.add(new Message.RpcPayloadChunk(id, result, payload.length,
                    Arrays.copyOfRange(payload, at, Math.min(payload.length, at + PIECE))));
        }
        parts.add(last);
        return parts;
    }

    /** A sandbox broke the protocol: the node ends it. */
    public static final class ProtocolViolation extends RuntimeException {
        ProtocolViolation(String message) {
            super(message);
        }
    }

    /**
     * The payloads one sandbox is sending in pieces. Not thread-safe: the sandbox's reader thread
     * owns it. {@link #chunk} keeps a piece; {@link #complete} gives a message its payload back.
     */
    public static final class Assembly {
        /** Payloads one sandbox may have being assembled at once (each up to 32 MiB). */
        public static final int MAX_IN_FLIGHT = 4;
        /** Why a payload was not kept. */
        public static final String REFUSED = "too many large RPC payloads are on their way from this sandbox at once";
        private final Map<Key, Pending> pending = new HashMap<>();

        private record Key(long id, boolean result) {}

        public void chunk(Message.RpcPayloadChunk c) {
            if (c.data() == null || c.total() <= WHOLE || c.total() > MAX_PAYLOAD + SLACK) {
                throw new ProtocolViolation("an RPC payload piece of a payload of " + c.total() + " bytes");
            }
            Key key = new Key(c.id(), c.result());
            Pending p = pending.get(key);
            if (p == null) {
                // Over budget: remembered without its bytes, refused when its message arrives.
                p = new Pending(c.total(), busy() < MAX_IN_FLIGHT);
                if (pending.size() >= 4 * MAX_IN_FLIGHT) throw new ProtocolViolation("too many RPC payloads begun");
                pending.put(key, p);
            }
            if (p.total != c.total() || p.received + c.data().length > p.total) {
                throw new ProtocolViolation("an RPC payload longer than announced");
            }
            p.add(c.data());
        }

        /**
         * {@code message} with the payload its pieces carried, or itself if none came; null when
         * the payload was not kept (too many at once): answer it with {@link #REFUSED}.
         */
        public Message complete(Message message) {
            Key key = switch (message) {
                case Message.RpcCall m -> new Key(m.callId(), false);
                case Message.CapCall m -> new Key(m.callId(), false);
                case Message.RpcReturn m -> new Key(m.invocationId(), true);
                default -> null;
            };
            Pending p = key == null ? null : pending.remove(key);
            if (p == null) return message;
            if (p.received != p.total) throw new ProtocolViolation("an RPC payload shorter than announced");
            if (!p.kept) return null;
            byte[] payload = p.join();
            return switch (message) {
                case Message.RpcCall m -> new Message.RpcCall(m.invocationId(), m.callId(), m.target(), m.method(), payload);
                case Message.CapCall m -> new Message.CapCall(m.invocationId(), m.callId(), m.capId(), m.method(), payload);
                case Message.RpcReturn m -> new Message.RpcReturn(m.invocationId(), payload, m.threw());
                default -> throw new IllegalStateException();
            };
        }

        /** Payloads being assembled with their bytes (tests). */
        public int inFlight() {
            return busy();
        }

        private int busy() {
            int n = 0;
            for (Pending p : pending.values()) if (p.kept) n++;
            return n;
        }
    }


    /** One payload being assembled: pieces as they came, never past the announced total. */
    private static final class Pending {
        final long total;
        final boolean kept;
        final List<byte[]> pieces = new ArrayList<>();
        long received;

        Pending(long total, boolean kept) {
            this.total = total;
            this.kept = kept;
        }

        void add(byte[] data) {
            received += data.length;
            if (kept) pieces.add(data);
        }

        byte[] join() {
            byte[] all = new byte[(int) received];
            int at = 0;
            for (int i = 0; i < pieces.size(); i++) {
                byte[] piece = pieces.get(i);
                System.arraycopy(piece, 0, all, at, piece.length);
                at += piece.length;
                pieces.set(i, null); // let it go as soon as it is copied
            }
            return all;
        }
    }
}
