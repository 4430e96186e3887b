package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

/**
 * How the reader of a streamed answer talks back to whoever streams it: acknowledgements of the
 * bytes it read, a cancel, and the pieces of a request body the other side pulls. The prelude's
 * body streams (egress.js) are the same for all three; only the messages differ.
 */
sealed interface StreamWire {
    /** An outbound fetch() through the node's egress gateway. */
    record Egress() implements StreamWire {}

    /** A call (a stub's fetch()) the node relays to another sandbox. */
    record Call() implements StreamWire {}

    /** A call to a durable object placed in this sandbox, run here as invocation {@code invocationId} (LocalCalls). */
    record Local(long invocationId) implements StreamWire {}

    StreamWire EGRESS = new Egress();
    StreamWire CALL = new Call();

    default Message ack(long id, long bytes) {
        return switch (this) {
            case Egress e -> new Message.SubrequestAck(id, bytes);
            case Call c -> new Message.CallAck(id, bytes);
            case Local l -> new Message.ResponseAck(l.invocationId(), bytes);
        };
    }

    default Message cancel(long id) {
        return switch (this) {
            case Egress e -> new Message.SubrequestCancel(id);
            case Call c -> new Message.CallCancel(id);
            case Local l -> new Message.Cancel(l.invocationId(), "the caller canceled the response");
        };
    }

    default Message bodyChunk(long id, byte[] data) {
        return switch (this) {
            case Egress e -> new Message.SubrequestBodyChunk(id, data);
            case Call c -> new Message.CallBodyChunk(id, data);
            case Local l -> new Message.RequestBodyChunk(l.invocationId(), data);
        };
    }

    default Message bodyEnd(long id, String error) {
        return switch (this) {
            case Egress e -> new Message.SubrequestBodyEnd(id, error);
            case Call c -> new Message.CallBodyEnd(id, error);
            case Local l -> new Message.RequestBodyEnd(l.invocationId(), error);
        };
    }
}
