package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.ipc.MessageChannel;
import dev.bulwark.sandbox.isolate.IsolateHost;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The node's handle on one sandbox process: the child JVM, its socket, and the invocations in
 * flight in it. When the process dies, every invocation in flight fails with
 * {@code sandbox_crashed} naming the cause, and the supervisor is told.
 */
final class SandboxProcess implements IsolateHost, Capabilities.Peer {
    private final String name;
    private final String tenant;
    private final Process process;
    private final MessageChannel channel;
    private final Map<Long, InvocationListener> invocations = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<Message>> loads = new ConcurrentHashMap<>();
    private final Consumer<Message> unsolicited;
    private final CompletableFuture<String> exited = new CompletableFuture<>();
    private final Map<String, Loaded> loaded = new ConcurrentHashMap<>();
    /** Dynamic worker code arriving in chunks (owned by the reader thread). */
    private final dev.bulwark.sandbox.ipc.LoadDynamicParts.Assembly loadParts = new dev.bulwark.sandbox.ipc.LoadDynamicParts.Assembly();
    /** RPC payloads over 8 MiB arriving in pieces (owned by the reader thread). */
    private final dev.bulwark.sandbox.ipc.RpcPayloadParts.Assembly rpcParts = new dev.bulwark.sandbox.ipc.RpcPayloadParts.Assembly();

    /** Calls this sandbox made whose answer or request body is still streaming, by its call id (CallerLink). */
    private final Map<Long, CallRelay> calls = new ConcurrentHashMap<>();
    /** The sandbox whose reader runs on this thread (see {@link #afterBurst}). */
    private static final ThreadLocal<SandboxProcess> READER = new ThreadLocal<>();
    /** What waits for the end of the current read burst (reader thread only). */
    private final List<Runnable> burst = new ArrayList<>();

    /** Which version of a worker this sandbox loaded, and how that went (failure null: loaded). */
    record Loaded(DeployedWorker worker, Message.WorkerLoadFailed failure) {}
    private volatile String deathCause;
    /**
     * The largest frame the node reads from a sandbox. What a sandbox sends is bounded before it
     * is built (an inline subrequest body of 1 MiB, body pieces of 64 KiB, headers of 256 Ki chars), so
     * one reader never holds more than this, whatever a compromised sandbox writes.
     */
    static final int MAX_FRAME_FROM_SANDBOX = 16 << 20;

    private final boolean confined;

    private SandboxProcess(String name, String tenant, Process process, MessageChannel channel,
                           Consumer<Message> unsolicited, boolean confined) {
        this.confined = confined;
        this.name = name;
        this.tenant = tenant;
        this.process = process;
        this.channel = channel;
        this.unsolicited = unsolicited;
    }

    /**
     * Starts a sandbox JVM and waits for its {@link Message.Ready}.
     *
     * @param unsolicited receives log lines and subrequests (on the reader thread)
     * @param onExit      runs once when the process is gone, with the cause
     */
    static SandboxProcess start(String name, String tenant, SandboxLauncher launcher, Consumer<Message> unsolicited,
                                Consumer<SandboxProcess> onExit) throws IOException {
        Path socketPath = launcher.socketPath(name);
        Files.deleteIfExists(socketPath);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socketPath));
        Process process;
        MessageChannel channel;
        try {
            process = launcher.launch(name, tenant, socketPath);
            // Its two connections, one per direction (MessageChannel.connect); a relayed answer is
            // written by the thread that has it when the socket has room (direct posts).
            CompletableFuture<MessageChannel> accepted = new CompletableFuture<>();
            handshakeThread(name).start(() -> {
                try {
                    accepted.complete(MessageChannel.accept(server, MAX_FRAME_FROM_SANDBOX, true));
                } catch (IOException e) {
                    accepted.completeExceptionally(e);
                }
            });
            process.onExit().thenRun(() -> accepted.completeExceptionally(
                    new IOException("sandbox exited with status " + process.exitValue() + " before connecting")));
            try {
                channel = accepted.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                process.destroyForcibly();
                throw new IOException("sandbox " + name + " did not connect: " + e.getMessage(), e);
            }
        } finally {
            server.close();
            Files.deleteIfExists(socketPath);
        }
        try {
            // The handshake is bounded in time too: a child that connects and says nothing is killed.
            CompletableFuture<Message> hello = new CompletableFuture<>();
            handshakeThread(name).start(() -> {
                try {
                    hello.complete(channel.receive());
                } catch (Throwable e) {
                    hello.completeExceptionally(e);
                }
            });
            Message first;
            try {
                first = hello.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IOException("sandbox " + name + " did not say hello: " + e.getMessage(), e);
            }
            if (!(first instanceof Message.Ready ready) || ready.protocolVersion() != Message.PROTOCOL_VERSION) {
                throw new IOException("sandbox " + name + " speaks another protocol: " + first);
            }
        } catch (IOException e) {
            // A failed handshake leaves nothing behind: neither the child nor its socket.
            process.destroyForcibly();
            channel.close();
            throw e;
        }
        SandboxProcess sandbox = new SandboxProcess(name, tenant, process, channel, unsolicited,
                launcher.confinement().confined());
        Thread.ofPlatform().name("sandbox-reader-" + name).daemon(true).start(sandbox::read);
        process.onExit().thenRun(() -> sandbox.died(onExit));
        return sandbox;
    }

    /**
     * A platform thread for a step of the handshake. Not a virtual one: a socket a virtual thread has
     * read is switched to non-blocking for good, and the reader thread's every later read became
     * read, EAGAIN, poll, read (the JDK's emulation of a blocking read) instead of one read.
     */
    private static Thread.Builder handshakeThread(String sandbox) {
        return Thread.ofPlatform().name("sandbox-handshake-" + sandbox).daemon(true);
    }

    String name() {
        return name;
    }

    @Override
    public String tenant() {
        return tenant;
    }

    /**
     * The sandbox JVM's process id as the node sees it. A confined sandbox is the java process
     * among the descendants of the {@code unshare} process the node started.
     */
    long pid() {
        long p = jvmPid;
        if (p != 0 || !confined) return confined ? p : process.pid();
        p = process.descendants().filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().map(ProcessHandle::pid).orElse(0L);
        if (p == 0) return process.pid(); // not started yet
        jvmPid = p;
        return p;
    }

    private volatile long jvmPid;

    boolean isAlive() {
        return process.isAlive() && deathCause == null;
    }

    int inFlight() {
        return invocations.size();
    }

    Loaded loaded(String workerName) {
        return loaded.get(workerName);
    }

    void loaded(DeployedWorker worker, Message.WorkerLoadFailed failure) {
        loaded.put(worker.name(), new Loaded(worker, failure));
    }

    void forget(String workerName) {
        loaded.remove(workerName);
    }

    /**
     * Loads a worker; completes with WorkerLoaded or WorkerLoadFailed. Posted (a dynamic worker's
     * load may start on another sandbox's reader thread, DynamicLoads): it stays behind what was
     * sent before it, such as the UnloadWorker of an evicted id it loads again (DynamicWorkers'
     * {@code unloading}), and whatever must follow it (a call to the worker) waits for its answer.
     */
    CompletableFuture<Message> load(Message.LoadWorker load) {
        CompletableFuture<Message> result = new CompletableFuture<>();
        loads.put(load.correlationId(), result);
        post(load);
        return result;
    }

    /**
     * Asks the sandbox to reset a facet (issue 14); completes with FacetResetDone, or with
     * WorkerLoadFailed (sandbox_crashed) if the process dies first.
     */
    CompletableFuture<Message> resetFacet(Message.FacetReset request) {
        CompletableFuture<Message> result = new CompletableFuture<>();
        loads.put(request.correlationId(), result);
        if (deathCause != null) {
            complete(request.correlationId(), new Message.FacetResetDone(request.correlationId(), null));
            return result;
        }
        deliver(request);
        return result;
    }

    /**
     * Asks for a snapshot of an object's database; completes with SnapshotTaken, or with
     * WorkerLoadFailed (sandbox_crashed) if the process dies first.
     */
    CompletableFuture<Message> snapshot(Message.SnapshotObject request) {
        CompletableFuture<Message> result = new CompletableFuture<>();
        loads.put(request.correlationId(), result);
        if (deathCause != null) {
            complete(request.correlationId(), new Message.SnapshotTaken(request.correlationId(), "the sandbox is gone"));
            return result;
        }
        deliver(request);
        return result;
    }

    /** The node stopped waiting for a correlated answer (a snapshot that timed out): forget it. */
    void forgetAnswer(long correlationId) {
        loads.remove(correlationId);
    }

    /**
     * Starts an invocation ({@code start} is its FetchStart or RpcStart); its outcome goes to the
     * listener, whatever happens to the process.
     *
     * @param send whether to send the start (this thread may block on the socket) or {@linkplain #post post} it
     */
    void start(long invocationId, Message start, InvocationListener listener, boolean send) {
        capHooks.starting(this, start);
        invocations.put(invocationId, listener);
        String cause = deathCause;
        if (cause != null) {
            fail(invocationId, cause);
            return;
        }
        if (send) deliver(start);
        else post(start);
    }

    /**
     * Follows an invocation the sandbox started itself (a local call): its InvocationDone, or the
     * process's death, ends it at {@code listener} as for one started here. False when the id is
     * in use or the process is gone.
     */
    boolean track(long invocationId, InvocationListener listener) {
        if (deathCause != null || invocations.putIfAbsent(invocationId, listener) != null) return false;
        if (deathCause != null) {
            fail(invocationId, deathCause);
            return false;
        }
        return true;
    }

    @Override
    public void deliver(Message message) {
        try {
            channel.send(message);
        } catch (IOException e) {
            kill("connection to the sandbox failed: " + e.getMessage());
        }
    }

    /**
     * Sends a message without blocking on this sandbox's socket: for senders that must never block
     * there (the reader threads of sandboxes, relaying calls). It is written at once when nothing
     * posted before it waits and the socket takes it whole, else queued for the channel's writer
     * thread ({@link MessageChannel#post}). What is queued is bounded by the protocol's windows (a
     * call's response window, one body piece per pull).
     */
    void post(Message message) {
        try {
            channel.post(message);
        } catch (IOException e) {
            kill("connection to the sandbox failed: " + e.getMessage());
        }
    }

    /** Ends the process with SIGKILL; its in-flight invocations fail with the cause. */
    void kill(String cause) {
        if (deathCause == null) deathCause = cause;
        if (confined) ProcessHandle.of(pid()).ifPresent(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** Resident set size of the process in bytes, from /proc (0 if unknown). */
    long residentBytes() {
        return dev.bulwark.sandbox.jvm.ResidentSize.ofProcess(pid());
    }

    /**
     * Runs {@code r} on this reader thread once the messages the sandbox wrote together have been
     * read (nothing more is buffered): a call relay holds a head until then, so a head with its
     * body in hand travels on as one answer. False when not called on a sandbox reader thread.
     */
    static boolean afterBurst(Runnable r) {
        SandboxProcess p = READER.get();
        if (p == null) return false;
        p.burst.add(r);
        return true;
    }

    private void burstOver() throws IOException {
        if (burst.isEmpty()) return;
        // A sandbox that keeps its socket busy (many calls streaming at once) must not hold a head
        // back for long: at most MAX_BURST messages are read past it.
        if (channel.hasBuffered() && ++burstMessages < MAX_BURST) return;
        burstMessages = 0;
        List<Runnable> now = List.copyOf(burst);
        burst.clear();
        for (Runnable r : now) r.run();
    }

    /** Messages read past a held head before it goes on anyway (see {@link #afterBurst}). */
    private static final int MAX_BURST = 16;
    private int burstMessages;

    /** A sandbox caller's end of call {@code callId} (see CallerLink). */
    CallerLink link(long callId, boolean bodyStreamed) {
        return new CallerLink(this, callId, bodyStreamed);
    }

    void attachCall(long callId, CallRelay relay) {
        calls.put(callId, relay);
        if (deathCause != null && calls.remove(callId, relay)) relay.callerCancel("the calling sandbox is gone");
    }

    void detachCall(long callId, CallRelay relay) {
        calls.remove(callId, relay);
    }

    private void read() {
        READER.set(this);
        try {
            Message next = null;
            while (true) {
                burstOver();
                Message m = next != null ? next : channel.receive();
                next = null;
                // A chunk followed by its invocation's end in the same read goes on as one
                // (InvocationListener.lastChunk): the relay writes it to the client in one go.
                if (m instanceof Message.ResponseChunk c && channel.hasBuffered()) {
                    next = channel.receive();
                    if (next instanceof Message.ResponseEnd e && e.invocationId() == c.invocationId()) {
                        listener(c.invocationId()).lastChunk(c.data());
                        next = null;
                        continue;
                    }
                }
                route(m);
            }
        } catch (EOFException e) {
            // the process closed its end: it is exiting
        } catch (IOException e) {
            kill("protocol error: " + e.getMessage());
        } catch (VirtualMachineError e) {
            // The node is in trouble: this sandbox's stream cannot be trusted any more; never swallowed.
            kill("the node failed reading from it: " + e);
            throw e;
        }
    }

    private void route(Message received) {
        Message message;
        try {
            message = withPayload(received);
        } catch (dev.bulwark.sandbox.ipc.RpcPayloadParts.ProtocolViolation e) {
            kill("protocol error: " + e.getMessage());
            return;
        }
        if (message == null) return;
        switch (message) {
            case Message.WorkerLoaded m -> complete(m.correlationId(), m);
            case Message.WorkerLoadFailed m -> complete(m.correlationId(), m);
            case Message.SnapshotTaken m -> complete(m.correlationId(), m);
            case Message.FacetResetDone m -> complete(m.correlationId(), m);
            case Message.ResponseHead m -> listener(m.invocationId()).head(m);
            case Message.ResponseChunk m -> listener(m.invocationId()).chunk(m.data());
            case Message.ResponseEnd m -> listener(m.invocationId()).end();
            case Message.InvocationFailed m -> listener(m.invocationId()).failed(m);
            case Message.InvocationDone m -> {
                InvocationListener l = invocations.remove(m.invocationId());
                capHooks.invocationDone(m.invocationId());
                if (l != null) l.done(m.cpuMicros());
            }
            case Message.RequestBodyPull m -> listener(m.invocationId()).pull();
            case Message.CallAck m -> {
                CallRelay r = calls.get(m.callId());
                if (r != null) r.callerAck(m.bytes());
            }
            case Message.CallCancel m -> {
                CallRelay r = calls.remove(m.callId());
                if (r != null) r.callerCancel("the caller canceled the response");
            }
            case Message.CallBodyChunk m -> {
                CallRelay r = calls.get(m.callId());
                if (r != null) r.callerBodyChunk(m.data());
            }
            case Message.CallBodyEnd m -> {
                CallRelay r = calls.get(m.callId());
                if (r != null) r.callerBodyEnd(m.error());
            }
            case Message.StreamedCallStart m -> unsolicited.accept(m);
            case Message.StreamedCapFetch m -> unsolicited.accept(m);
            case Message.LogLine m -> unsolicited.accept(m);
            case Message.Subrequest m -> unsolicited.accept(m);
            case Message.SubrequestAck m -> unsolicited.accept(m);
            case Message.SubrequestCancel m -> unsolicited.accept(m);
            case Message.StreamedSubrequest m -> unsolicited.accept(m);
            case Message.SubrequestBodyChunk m -> unsolicited.accept(m);
            case Message.SubrequestBodyEnd m -> unsolicited.accept(m);
            case Message.SubrequestStartTls m -> unsolicited.accept(m);
            case Message.CallStart m -> unsolicited.accept(m);
            case Message.LoadDynamic m -> unsolicited.accept(m);
            case Message.LoadDynamicStart m -> assembled(loadParts.start(m));
            case Message.LoadDynamicChunk m -> assembled(loadParts.chunk(m));
            case Message.RpcCall m -> unsolicited.accept(m);
            case Message.LocalInvocation m -> unsolicited.accept(m);
            case Message.ObjectsEvicted m -> unsolicited.accept(m);
            case Message.AlarmSet m -> unsolicited.accept(m);
            case Message.RpcReturn m -> {
                InvocationListener l = listener(m.invocationId());
                l.rpcReturn(l.takesCapabilities() ? capHooks.returned(this, m) : CapHooks.plain(m));
            }
            case Message.CapCall m -> unsolicited.accept(m);
            case Message.CapFetch m -> unsolicited.accept(m);
            case Message.CapRelease m -> unsolicited.accept(m);
            case Message.CapRevoke m -> unsolicited.accept(m);
            case Message.SocketOpen m -> listener(m.invocationId()).socketOpen(m);
            case Message.SocketClaim m -> unsolicited.accept(m);
            case Message.SocketSend m -> unsolicited.accept(m);
            case Message.SocketClose m -> unsolicited.accept(m);
            case Message.SocketAttachment m -> unsolicited.accept(m);
            case Message.SocketAutoResponse m -> unsolicited.accept(m);
            default -> kill("unexpected message from sandbox: " + message.getClass().getSimpleName());
        }
    }

    /** Whether invocation {@code invocationId} is in flight in this process. */
    @Override
    public boolean runs(long invocationId) {
        return invocations.containsKey(invocationId);
    }

    /** What the node's capability table does with an invocation's result and its end (see Capabilities). */
    interface CapHooks {
        /** An RPC result leaves invocation {@code r.invocationId()} of {@code from}: its capabilities taken in. */
        Message.RpcReturn returned(SandboxProcess from, Message.RpcReturn r);

        void invocationDone(long invocationId);

        /** Invocation {@code start} is about to start in {@code in}: the table notes whose worker it runs. */
        default void starting(SandboxProcess in, Message start) {}

        /**
         * A result for a listener that cannot hand capabilities on (the tenant API, alarms): one
         * that holds some becomes a TypeError, and no ref is made for them.
         */
        static Message.RpcReturn plain(Message.RpcReturn r) {
            if (!dev.bulwark.sandbox.ipc.CapPayload.hasRefs(r.value())) return r;
            return new Message.RpcReturn(r.invocationId(), CapabilityCalls.error(
                    dev.bulwark.objects.java.RpcError.Type.TYPE_ERROR,
                    "This result holds functions, RpcTargets or stubs, which cannot be passed to this caller."), true);
        }

        CapHooks NONE = new CapHooks() {
            public Message.RpcReturn returned(SandboxProcess from, Message.RpcReturn r) {
                return r;
            }

            public void invocationDone(long invocationId) {}
        };
    }

    private volatile CapHooks capHooks = CapHooks.NONE;

    void capHooks(CapHooks hooks) {
        this.capHooks = hooks;
    }

    /**
     * {@code received} with its RPC payload put together from the pieces that came before it;
     * null for a piece (kept) or a message whose payload was refused (answered here).
     */
    private Message withPayload(Message received) {
        return switch (received) {
            case Message.RpcPayloadChunk c -> {
                rpcParts.chunk(c);
                yield null;
            }
            case Message.RpcCall m -> completed(m);
            case Message.CapCall m -> completed(m);
            case Message.RpcReturn m -> completed(m);
            default -> received;
        };
    }

    private Message completed(Message m) {
        Message whole = rpcParts.complete(m);
        if (whole != null) return whole;
        String why = dev.bulwark.sandbox.ipc.RpcPayloadParts.Assembly.REFUSED;
        return switch (m) {
            case Message.RpcCall c -> {
                deliver(new Message.CallFailed(c.callId(), ErrorCode.SANDBOX_UNAVAILABLE.code(), why));
                yield null;
            }
            case Message.CapCall c -> {
                deliver(new Message.CallFailed(c.callId(), ErrorCode.SANDBOX_UNAVAILABLE.code(), why));
                yield null;
            }
            case Message.RpcReturn r -> new Message.RpcReturn(r.invocationId(), CapabilityCalls.error(RpcError.Type.ERROR, why), true);
            default -> throw new IllegalStateException("not an RPC message: " + m.getClass().getSimpleName());
        };
    }

    /** A load assembled from its chunks goes on as a LoadDynamic; a refused one is answered here. */
    private void assembled(Message outcome) {
        switch (outcome) {
            case null -> {}
            case Message.LoadDynamic load -> unsolicited.accept(load);
            default -> deliver(outcome);
        }
    }

    private void complete(long correlationId, Message m) {
        CompletableFuture<Message> f = loads.remove(correlationId);
        if (f != null) f.complete(m);
    }

    private static final InvocationListener NOBODY = new InvocationListener() {
        public void head(Message.ResponseHead head) {}
        public void chunk(byte[] data) {}
        public void end() {}
        public void failed(Message.InvocationFailed failure) {}
        public void done(long cpuMicros) {}
        public void rpcReturn(Message.RpcReturn result) {}
        public void socketOpen(Message.SocketOpen open) {}
    };

    private InvocationListener listener(long invocationId) {
        InvocationListener l = invocations.get(invocationId);
        return l != null ? l : NOBODY;
    }

    private void died(Consumer<SandboxProcess> onExit) {
        String cause = deathCause;
        if (cause == null) {
            int status = process.exitValue();
            cause = "the sandbox process exited with status " + status + (status == 137 || status == 9 ? " (killed)" : "");
            deathCause = cause;
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // already closed
        }
        for (Long id : List.copyOf(invocations.keySet())) fail(id, cause);
        for (Long id : List.copyOf(calls.keySet())) {
            CallRelay r = calls.remove(id);
            if (r != null) r.callerCancel("the calling sandbox is gone");
        }
        for (CompletableFuture<Message> f : new ArrayList<>(loads.values())) {
            f.complete(new Message.WorkerLoadFailed(0, "", ErrorCode.SANDBOX_CRASHED.code(), cause));
        }
        loads.clear();
        exited.complete(cause);
        onExit.accept(this);
    }

    private void fail(long invocationId, String cause) {
        InvocationListener l = invocations.remove(invocationId);
        if (l == null) return;
        capHooks.invocationDone(invocationId); // the stubs it held die with it
        l.failed(new Message.InvocationFailed(invocationId, ErrorCode.SANDBOX_CRASHED.code(),
                ErrorCode.SANDBOX_CRASHED.description() + ": " + cause, false));
        l.done(0);
    }

    CompletableFuture<String> exited() {
        return exited;
    }

    /**
     * How long {@link #close()} gives a sandbox to exit before killing it. The launcher's AOT training
     * run raises it: a sandbox recording its AOT configuration writes it while it exits, which takes
     * seconds on a loaded machine.
     */
    private static final long SHUTDOWN_WAIT_MS = Long.getLong("bulwark.sandbox.shutdownWaitMs", 3_000);

    @Override
    public void close() {
        if (!process.isAlive()) return;
        deathCause = "the node shut the sandbox down";
        try {
            // Posted: a sandbox that stopped reading its socket must not hold the node's shutdown up.
            channel.post(new Message.Shutdown());
        } catch (IOException ignored) {
            // it is going away anyway
        }
        try {
            if (!process.waitFor(SHUTDOWN_WAIT_MS, TimeUnit.MILLISECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
