package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.egress.OutboundSummary;

import java.util.function.Consumer;

/**
 * Watches one invocation of a worker that has tail workers ({@code tails} in its WorkerCode) and,
 * when it is done, hands one trace item (Workers' TraceItem shape: scriptName, entrypoint,
 * outcome, eventTimestamp, event, logs, exceptions, cpuTime, wallTime, plus Bulwark's
 * {@code outbound} summary) to {@code deliver}, which sends it to every tail worker. Log lines of
 * the invocation reach it through {@link #log} (the node's log hub sees them all).
 */
final class TailListener extends ForwardingInvocationListener {
    /** Log lines and exceptions one trace item keeps; more are counted, not kept. */
    static final int MAX_LOGS = 256;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode item = JSON.createObjectNode();
    private final ArrayNode logs;
    private final ArrayNode exceptions;
    private final long started = System.currentTimeMillis();
    private final java.util.function.Supplier<OutboundSummary.Snapshot> outbound;
    private final Consumer<String> deliver;
    private String outcome = "ok";
    private int droppedLogs;

    /**
     * @param event    the event's description (Workers' TraceItem.event: request, rpcMethod, ...)
     * @param outbound the invocation's outbound summary when it ends
     * @param deliver  takes the JSON array of trace items for the tail workers
     */
    TailListener(InvocationListener inner, String scriptName, String entrypoint, ObjectNode event,
                 java.util.function.Supplier<OutboundSummary.Snapshot> outbound, Consumer<String> deliver) {
        super(inner);
        this.outbound = outbound;
        this.deliver = deliver;
        item.put("scriptName", scriptName);
        if (entrypoint == null) item.putNull("entrypoint");
        else item.put("entrypoint", entrypoint);
        item.put("eventTimestamp", started);
        item.set("event", event);
        logs = item.putArray("logs");
        exceptions = item.putArray("exceptions");
        item.putArray("diagnosticsChannelEvents");
        item.putArray("scriptTags");
        item.putNull("dispatchNamespace");
        item.put("truncated", false);
    }

    /** The event description of a fetch: {@code {request: {url, method, headers}}}; the response status is added later. */
    static ObjectNode fetchEvent(Message.FetchStart start) {
        ObjectNode event = JSON.createObjectNode();
        ObjectNode request = event.putObject("request");
        request.put("url", start.url());
        request.put("method", start.method());
        ObjectNode headers = request.putObject("headers");
        for (Message.Header h : start.headers()) {
            String name = h.name().toLowerCase(java.util.Locale.ROOT);
            if (name.startsWith("cf-bulwark-") || name.equals("authorization") || name.equals("cookie")) continue;
            headers.put(name, h.value());
        }
        return event;
    }

    /** The event description of an RPC call: {@code {rpcMethod}}. */
    static ObjectNode rpcEvent(String method) {
        ObjectNode event = JSON.createObjectNode();
        event.put("rpcMethod", method);
        return event;
    }

    synchronized void log(Message.LogLine line) {
        if (logs.size() >= MAX_LOGS) {
            droppedLogs++;
            return;
        }
        ObjectNode entry = logs.addObject();
        entry.put("timestamp", line.timestampMillis());
        entry.put("level", "limit".equals(line.level()) ? "error" : line.level());
        entry.putArray("message").add(line.message());
    }

    @Override
    public void head(Message.ResponseHead head) {
        synchronized (this) {
            ObjectNode event = (ObjectNode) item.get("event");
            event.putObject("response").put("status", head.status());
        }
        super.head(head);
    }

    @Override
    public void failed(Message.InvocationFailed failure) {
        synchronized (this) {
            ErrorCode code = ErrorCode.fromCode(failure.code());
            outcome = switch (code == null ? ErrorCode.INTERNAL : code) {
                case WORKER_THREW -> "exception";
                case CPU_LIMIT_EXCEEDED -> "exceededCpu";
                case MEMORY_LIMIT_EXCEEDED -> "exceededMemory";
                case WALL_TIME_EXCEEDED -> "exceededWallTime";
                case CANCELED -> "canceled";
                case NOT_FOUND, WORKER_LOAD_FAILED -> "scriptNotFound";
                default -> "unknown";
            };
            exception(failure.message());
        }
        super.failed(failure);
    }

    @Override
    public void rpcReturn(Message.RpcReturn result) {
        if (result.threw()) {
            synchronized (this) {
                outcome = "exception";
                exception(null);
            }
        }
        super.rpcReturn(result);
    }

    @Override
    public void done(long cpuMicros) {
        String json;
        synchronized (this) {
            item.put("outcome", outcome);
            item.put("cpuTime", cpuMicros / 1000);
            item.put("wallTime", System.currentTimeMillis() - started);
            if (droppedLogs > 0) item.put("truncated", true);
            OutboundSummary.Snapshot o = outbound.get();
            if (o != null) item.set("outbound", JSON.valueToTree(o));
            json = JSON.createArrayNode().add(item).toString();
        }
        try {
            super.done(cpuMicros);
        } finally {
            deliver.accept(json);
        }
    }

    /** "Name: message" as the sandbox reports a thrown error; null: an RPC method threw (its error went to the caller). */
    private void exception(String described) {
        if (exceptions.size() >= MAX_LOGS) return;
        ObjectNode e = exceptions.addObject();
        e.put("timestamp", System.currentTimeMillis());
        if (described == null) {
            e.put("name", "Error");
            e.put("message", "the RPC method threw (its error was returned to the caller)");
            return;
        }
        int colon = described.indexOf(": ");
        boolean named = colon > 0 && described.substring(0, colon).matches("[A-Za-z_$][\\w$]*");
        e.put("name", named ? described.substring(0, colon) : "Error");
        e.put("message", named ? described.substring(colon + 2) : described);
    }
}
