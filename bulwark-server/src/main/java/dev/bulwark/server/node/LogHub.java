package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.ipc.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where workers' console output and uncaught exceptions go: one structured JSON line each in the
 * node's log (logger {@code bulwark.worker}), and to every live {@code bulwark tail} of that worker.
 * A slow tail loses lines rather than slowing the worker down.
 */
public final class LogHub {
    private static final Logger workerLog = LoggerFactory.getLogger("bulwark.worker");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TAIL_BUFFER = 10_000;

    /** One subscriber: a bounded queue of JSON lines for one worker. */
    public static final class Tail implements AutoCloseable {
        private final String worker;
        private final BlockingQueue<String> lines = new ArrayBlockingQueue<>(TAIL_BUFFER);
        private final LogHub hub;

        private Tail(String worker, LogHub hub) {
            this.worker = worker;
            this.hub = hub;
        }

        public BlockingQueue<String> lines() {
            return lines;
        }

        @Override
        public void close() {
            hub.tails.remove(this);
        }
    }

    private final Set<Tail> tails = ConcurrentHashMap.newKeySet();
    private final java.util.function.Function<String, SourceNames> sourceNames;

    public LogHub() {
        this(worker -> SourceNames.NONE);
    }

    LogHub(java.util.function.Function<String, SourceNames> sourceNames) {
        this.sourceNames = sourceNames;
    }

    /** The sandbox's level for a limit kill (Isolate.LIMIT_LEVEL): the message is {@code "<limit>: <text>"}. */
    static final String LIMIT_LEVEL = "limit";

    /** Tails open right now (operators and tests). */
    public int openTails() {
        return tails.size();
    }

    public Tail tail(String worker) {
        Tail t = new Tail(worker, this);
        tails.add(t);
        return t;
    }

    /** The request id shown to operators for an invocation id. */
    public static String requestId(long invocationId) {
        // (Not String.format: it parses the pattern on every request.)
        String hex = Long.toHexString(invocationId);
        return hex.length() >= 16 ? hex : "0".repeat(16 - hex.length()) + hex;
    }

    void accept(Message.LogLine line) {
        ObjectNode json = JSON.createObjectNode();
        json.put("ts", Instant.ofEpochMilli(line.timestampMillis()).toString());
        boolean limit = LIMIT_LEVEL.equals(line.level());
        String level = limit ? "error" : line.level();
        String message = sourceNames.apply(line.workerId()).rewrite(line.message());
        json.put("level", level);
        json.put("worker", line.workerId());
        if (line.invocationId() != 0) json.put("requestId", requestId(line.invocationId()));
        if (limit && message != null) {
            int colon = message.indexOf(": ");
            json.put("event", "limit_exceeded");
            json.put("limit", colon < 0 ? message : message.substring(0, colon));
            message = colon < 0 ? message : message.substring(colon + 2);
        }
        json.put("message", message);
        String text = json.toString();
        switch (level) {
            case "error" -> workerLog.error(text);
            case "warn" -> workerLog.warn(text);
            case "debug" -> workerLog.debug(text);
            default -> workerLog.info(text);
        }
        for (Tail t : tails) {
            if (t.worker.equals(line.workerId())) t.lines.offer(text);
        }
    }
}
