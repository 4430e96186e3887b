package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

/**
 * Pulls the streamed request body of a sandbox's call into memory, for a callee that takes its
 * request whole (a durable object implemented in Java, in the node). The caller streams every body
 * that is not already bytes in hand (a forwarded request's, say); this reads it piece by piece
 * through the call's {@link CallRelay}, as a callee sandbox would, up to {@link #MAX_BYTES}, and
 * then hands the call, body in hand, to {@code whole}. Past the cap, the call fails with
 * {@code request_too_large} and no further piece is asked for.
 *
 * <p>Pieces arrive on the caller sandbox's reader thread: nothing here blocks; {@code whole} runs
 * on a virtual thread of its own.
 */
final class CallBodyCollector implements InvocationChannel {
    /** Largest body a Java object takes (as a call's body in hand). */
    static final int MAX_BYTES = 8 << 20;

    private final Message.CallStart call;
    private final CallerLink link;
    private final Consumer<Message.CallStart> whole;
    private final CallRelay relay;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private boolean over;

    private CallBodyCollector(Message.CallStart call, CallerLink link, Consumer<Message.CallStart> whole) {
        this.call = call;
        this.link = link;
        this.whole = whole;
        this.relay = new CallRelay(call.callId(), 0, link);
    }

    /** Starts pulling {@code call}'s body from the caller behind {@code link}; {@code whole} gets the call with it. */
    static void collect(Message.CallStart call, CallerLink link, Consumer<Message.CallStart> whole) {
        CallBodyCollector c = new CallBodyCollector(call, link, whole);
        c.relay.connect(c);
        c.relay.pull();
    }

    /** What the relay forwards to its callee: here, the body's pieces and its end. */
    @Override
    public synchronized void send(Message message) {
        if (over) return;
        switch (message) {
            case Message.RequestBodyChunk c -> {
                if (body.size() + (long) c.data().length > MAX_BYTES) {
                    over = true;
                    finish(new Message.CallFailed(call.callId(), ErrorCode.REQUEST_TOO_LARGE.code(),
                            "a durable object implemented in Java takes a request body of at most " + MAX_BYTES + " bytes"));
                    return;
                }
                body.writeBytes(c.data());
                relay.pull();
            }
            case Message.RequestBodyEnd e -> {
                over = true;
                if (e.error() != null) {
                    finish(new Message.CallFailed(call.callId(), ErrorCode.INTERNAL.code(), "the request body failed: " + e.error()));
                    return;
                }
                Message.CallStart withBody = new Message.CallStart(call.invocationId(), call.callId(), call.target(),
                        call.method(), call.url(), call.headers(), body.toByteArray());
                link.detach(relay);
                Thread.startVirtualThread(() -> whole.accept(withBody));
            }
            default -> { } // acknowledgements and cancels of a response this relay never carries
        }
    }

    private void finish(Message failure) {
        link.detach(relay);
        link.accept(failure);
    }
}
