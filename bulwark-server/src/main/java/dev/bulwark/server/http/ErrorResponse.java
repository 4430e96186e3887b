package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.ipc.ErrorCode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Every error the node answers itself: {@code {"error":{"code","message","requestId"}}} with the code's status. */
public final class ErrorResponse {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ErrorResponse() {}

    public static String body(String code, String message, String requestId) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("code", code);
        error.put("message", message);
        if (requestId != null) error.put("requestId", requestId);
        return root.toString();
    }

    /**
     * What a client is told about a failure. Messages the node or the sandbox composed from known
     * facts (a limit and its value, a size) are shown; anything that may carry a worker's exception,
     * a Java exception, a module path or a process's exit detail is replaced by the code's fixed
     * description: that detail is in the operator's log under the request id.
     */
    static String clientMessage(ErrorCode code, String detail) {
        return switch (code) {
            case CPU_LIMIT_EXCEEDED, WALL_TIME_EXCEEDED, MEMORY_LIMIT_EXCEEDED, REQUEST_TOO_LARGE, CANCELED,
                 LOOP_LIMIT_EXCEEDED, TOO_MANY_WEBSOCKETS, OBJECT_STORAGE_FAILED, WORKER_HUNG ->
                    detail == null ? code.description() : detail;
            case WORKER_THREW, WORKER_LOAD_FAILED, CODE_TOO_LARGE, ENV_TOO_LARGE, ISOLATE_RESET, SANDBOX_CRASHED,
                 SANDBOX_UNAVAILABLE, NOT_FOUND, INTERNAL -> code.description();
        };
    }

    static void write(Response response, Callback callback, ErrorCode code, String message, String requestId) {
        write(response, callback, code.status(), code.code(), message, requestId);
    }

    static void write(Response response, Callback callback, int status, String code, String message, String requestId) {
        response.write(true, prepare(response, status, code, message, requestId), callback);
    }

    /** Sets the status and headers of an error response and returns its body. */
    static ByteBuffer prepare(Response response, int status, String code, String message, String requestId) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        if (status == 503) response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        return ByteBuffer.wrap(body(code, message, requestId).getBytes(StandardCharsets.UTF_8));
    }
}
