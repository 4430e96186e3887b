package dev.bulwark.objects.process;

import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.ipc.MessageChannel;
import dev.bulwark.sandbox.isolate.CarrierReader;
import dev.bulwark.sandbox.isolate.Dormancy;
import dev.bulwark.sandbox.isolate.IsolateSettings;
import dev.bulwark.sandbox.isolate.NativeLibrary;
import dev.bulwark.sandbox.isolate.SandboxRuntime;
import dev.bulwark.objects.runtime.SqliteObjectStore;
import dev.bulwark.objects.storage.StorageOptions;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The main class of a sandbox process. The node starts it with a socket path to connect to;
 * it announces itself with {@link Message.Ready}, then serves the node's messages until the
 * socket closes, and exits. It has no other way in or out.
 *
 * <p>It lives where isolates and object storage meet (DESIGN.md): its durable objects keep their
 * SQLite files under {@code --data-dir}, the one directory of its tenant it is told about.
 *
 * <pre>java ... dev.bulwark.objects.process.SandboxMain --socket PATH --lib-dir DIR --data-dir DIR
 *     [--heap-mb N] [--pool N] [--isolates-per-worker N] [--rss-soft-mb N] [--object-idle-ms N]
 *     [--object-storage-idle-ms N (0: never)] [--dormant-idle-ms N --dormant-live-max N] [--seccomp on]
 *     [--max-value-bytes N --max-database-bytes N --durability normal|full]</pre>
 *
 * <p>The last three are the node's {@code [storage]} settings ({@link #storageArguments}); absent, the
 * defaults of {@link StorageOptions}.
 *
 * <p>{@code --dormant-idle-ms} and {@code --dormant-live-max} (the sandboxes for generated code):
 * when loaded workers give their isolates back and keep their code ({@link Dormancy}).
 *
 * <p>With {@code --seccomp on} it installs its {@link Seccomp} filter before it announces itself,
 * and exits if it cannot. The system property {@value #PROBE} names a {@link Runnable} run at that
 * point: a test hook to look around from inside a confined sandbox (an operator's JVM option, never
 * reachable from JavaScript).
 */
public final class SandboxMain {
    static final String PROBE = "bulwark.sandbox.probe";
    /**
     * An object whose storage was not used for this long has its SQLite connection closed (it is
     * opened again at its next storage call): most of an idle object's memory is its connection.
     */
    public static final long DEFAULT_STORAGE_IDLE_MS = 1_000;
    /**
     * The node's socket is read by the isolates' carriers ({@link CarrierReader}) instead of the
     * main thread: the carrier that reads a request's start runs it and reads on, so no thread is
     * woken between the socket and the isolate (sandbox wake-ups per request ~2.7-3.0 -> ~0.5-1.2).
     * On by default since the lead's quiet A/B (seventh session, 6 ABBA pairs per row): c=1 p50
     * lower in 6/6 pairs on /do/counter and /do/get and 5/6 on /hello, c=32 req/s level (3-4 of 6
     * pairs higher). {@code -Dbulwark.sandbox.readOnCarriers=false} (in {@code
     * sandboxes.jvm_options}) has the main thread read, as before (docs/notes/lazyreader.md).
     */
    static final boolean READ_ON_CARRIERS = !"false".equals(System.getProperty("bulwark.sandbox.readOnCarriers"));

    private SandboxMain() {}

    public static void main(String[] args) throws Exception {
        // The JIT's threads below the requests' (docs/notes/jitwarm2.md).
        dev.bulwark.sandbox.jvm.CompilerThreads.lower();
        Map<String, String> opts = parse(args);
        Path socket = Path.of(required(opts, "--socket"));
        NativeLibrary.useDirectory(Path.of(required(opts, "--lib-dir")));
        int heapMb = Integer.parseInt(opts.getOrDefault("--heap-mb", "128"));
        int poolSize = Integer.parseInt(opts.getOrDefault("--pool", "2"));
        int isolatesPerWorker = Integer.parseInt(opts.getOrDefault("--isolates-per-worker", "1"));
        long objectIdleMs = Long.parseLong(opts.getOrDefault("--object-idle-ms", "10000"));
        long storageIdleMs = Long.parseLong(opts.getOrDefault("--object-storage-idle-ms",
                Long.toString(DEFAULT_STORAGE_IDLE_MS)));
        long rssSoft = Long.parseLong(opts.getOrDefault("--rss-soft-mb", "0")) << 20;
        Path dataDir = Path.of(required(opts, "--data-dir"));
        Dormancy dormancy = opts.containsKey("--dormant-idle-ms")
                ? new Dormancy(Long.parseLong(opts.get("--dormant-idle-ms")), Integer.parseInt(opts.get("--dormant-live-max")))
                : Dormancy.OFF;

        MessageChannel channel = MessageChannel.connect(socket);
        SqliteObjectStore store = new SqliteObjectStore(dataDir, storageOptions(opts), storageIdleMs);
        SandboxRuntime runtime = new SandboxRuntime(IsolateSettings.forHeap(heapMb), poolSize, isolatesPerWorker, rssSoft,
                store, objectIdleMs, dormancy, new SocketOutbox(channel));
        if ("on".equals(opts.get("--seccomp"))) {
            try {
                Seccomp.install();
            } catch (Throwable e) {
                System.err.println("sandbox: could not install the seccomp filter the node asked for: " + e);
                Runtime.getRuntime().halt(3);
            }
        }
        String probe = System.getProperty(PROBE);
        if (probe != null) ((Runnable) Class.forName(probe).getDeclaredConstructor().newInstance()).run();
        channel.send(new Message.Ready(Message.PROTOCOL_VERSION, ProcessHandle.current().pid()));
        CarrierReader.Source reader = new CarrierReader.Source() {
            @Override
            public boolean next() throws Exception {
                Message m = channel.receive();
                if (m instanceof Message.Shutdown) return false;
                runtime.deliver(m);
                return true;
            }

            @Override
            public boolean pending() throws Exception {
                return channel.hasBuffered();
            }
        };
        try {
            if (READ_ON_CARRIERS) {
                CarrierReader.serve(reader); // the carrier that reads a request's start runs it
            } else {
                while (reader.next()) {
                    // this thread reads; carriers run what it delivers
                }
            }
        } catch (EOFException e) {
            // node closed the connection
        } finally {
            runtime.close();
            store.close();
            channel.close();
        }
        System.exit(0);
    }

    /**
     * The sandbox's way out: the socket to the node. If the node is gone, nothing we run matters.
     *
     * <p>What a task says ({@link #sendLater}) is held by its thread, encoded, until the task's
     * {@link #flush}: the buffer of the socket is shared by every isolate thread, so writing into
     * it at once let one isolate's flush send another's output before that task committed its
     * writes (the output gate). A task whose whole output is bookkeeping nobody waits for (the
     * notice of a local call, the end of an invocation) does not flush the socket: it travels with
     * the next output, so a local call costs the node's reader one wake-up instead of three.
     */
    static final class SocketOutbox implements dev.bulwark.sandbox.isolate.Outbox {
        /** Past this much held output a task's messages go to the socket before its end (as a full buffer did). */
        static final int MAX_HELD_BYTES = 1 << 20;

        private interface Io {
            void run() throws IOException;
        }

        private static final class Held {
            final java.util.ArrayList<byte[]> frames = new java.util.ArrayList<>();
            long bytes;
            boolean urgent;
        }

        private final MessageChannel channel;
        private final ThreadLocal<Held> held = ThreadLocal.withInitial(Held::new);

        SocketOutbox(MessageChannel channel) {
            this.channel = channel;
        }

        private static void orHalt(Io io) {
            try {
                io.run();
            } catch (IOException e) {
                Runtime.getRuntime().halt(0);
            }
        }

        @Override
        public void send(Message message) {
            orHalt(() -> channel.post(message));
        }

        @Override
        public void sendLater(Message message) {
            Held h = held.get();
            byte[] frame = dev.bulwark.sandbox.ipc.MessageCodec.frame(message); // refused here, as before, if too large
            h.frames.add(frame);
            h.bytes += frame.length;
            h.urgent |= !(message instanceof Message.LocalInvocation || message instanceof Message.InvocationDone);
            if (h.bytes > MAX_HELD_BYTES) write(h, true);
        }

        @Override
        public void flush() {
            Held h = held.get();
            if (!h.frames.isEmpty()) write(h, h.urgent);
        }

        @Override
        public void discard() {
            Held h = held.get();
            h.frames.clear();
            h.bytes = 0;
            h.urgent = false;
        }

        @Override
        public void idle() {
            orHalt(channel::flushIfDirty);
        }

        private void write(Held h, boolean now) {
            try {
                orHalt(() -> channel.writeFrames(h.frames, now));
            } finally {
                h.frames.clear();
                h.bytes = 0;
                h.urgent = false;
            }
        }
    }

    /** The arguments that give a sandbox these storage options (the node's side of {@link #storageOptions}). */
    public static java.util.List<String> storageArguments(StorageOptions options) {
        return java.util.List.of("--max-value-bytes", Long.toString(options.maxValueBytes()),
                "--max-database-bytes", Long.toString(options.maxDatabaseBytes()),
                "--durability", options.durability().name().toLowerCase(java.util.Locale.ROOT));
    }

    static StorageOptions storageOptions(Map<String, String> opts) {
        StorageOptions d = StorageOptions.defaults();
        return new StorageOptions(
                Long.parseLong(opts.getOrDefault("--max-value-bytes", Long.toString(d.maxValueBytes()))),
                Long.parseLong(opts.getOrDefault("--max-database-bytes", Long.toString(d.maxDatabaseBytes()))),
                opts.containsKey("--durability")
                        ? dev.bulwark.objects.storage.Durability.valueOf(opts.get("--durability").toUpperCase(java.util.Locale.ROOT))
                        : d.durability());
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) throw new IllegalArgumentException("unexpected argument " + args[i]);
            opts.put(args[i], args[i + 1]);
        }
        return opts;
    }

    private static String required(Map<String, String> opts, String key) {
        String v = opts.get(key);
        if (v == null) throw new IllegalArgumentException("missing " + key);
        return v;
    }
}
