package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Message;

import java.util.function.Consumer;

/**
 * The caller's end of a call a sandbox sent ({@code CallStart}, {@code CapFetch} and their
 * streamed forms): the answer goes to that sandbox, and what it says later about the call (its
 * {@link Message.CallAck}s, {@link Message.CallCancel}, request body pieces) reaches the call's
 * {@link CallRelay} through the sandbox, keyed by its call id, so a sandbox can only speak of its
 * own calls.
 */
final class CallerLink implements Consumer<Message> {
    private final SandboxProcess caller;
    private final long callId;
    private final boolean bodyStreamed;
    private final Consumer<Message> observer;

    CallerLink(SandboxProcess caller, long callId, boolean bodyStreamed) {
        this(caller, callId, bodyStreamed, null);
    }

    private CallerLink(SandboxProcess caller, long callId, boolean bodyStreamed, Consumer<Message> observer) {
        this.caller = caller;
        this.callId = callId;
        this.bodyStreamed = bodyStreamed;
        this.observer = observer;
    }

    /** The link of {@code reply} when it is one (a sandbox caller), else null (a Java caller). */
    static CallerLink of(Consumer<Message> reply) {
        return reply instanceof CallerLink l ? l : null;
    }

    /** The same link, with {@code observer} seeing every message before the caller does (a summary's record). */
    CallerLink observed(Consumer<Message> observer) {
        return new CallerLink(caller, callId, bodyStreamed, this.observer == null ? observer : this.observer.andThen(observer));
    }

    /** Whether the caller streams the request body (it answers pulls). */
    boolean bodyStreamed() {
        return bodyStreamed;
    }

    void attach(CallRelay relay) {
        caller.attachCall(callId, relay);
    }

    void detach(CallRelay relay) {
        caller.detachCall(callId, relay);
    }

    @Override
    public void accept(Message m) {
        if (observer != null) observer.accept(m);
        // Often on the callee sandbox's reader thread: queued, never written there (see SandboxProcess.post).
        caller.post(m);
    }
}
