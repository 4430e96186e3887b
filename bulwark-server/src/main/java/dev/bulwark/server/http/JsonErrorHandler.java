package dev.bulwark.server.http;

import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.util.Locale;

/**
 * Errors Jetty itself answers (a malformed request line, bad headers, an unknown method) have
 * the same JSON shape as every other error of the node, instead of Jetty's HTML page.
 */
public final class JsonErrorHandler implements Request.Handler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = request.getAttribute(ErrorHandler.ERROR_STATUS) instanceof Integer s ? s : response.getStatus();
        if (status < 400) status = HttpStatus.INTERNAL_SERVER_ERROR_500;
        String reason = HttpStatus.getMessage(status);
        String code = reason == null ? "http_error" : reason.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
        Object requestId = request.getAttribute(FrontDoor.REQUEST_ID);
        ErrorResponse.write(response, callback, status, code, clientMessage(request, status, reason),
                requestId == null ? null : requestId.toString());
        return true;
    }

    /**
     * Only Jetty's own verdict on a malformed request (a 4xx {@code HttpException}, e.g. "Invalid
     * Content-Length Value") is worth showing; any other exception's text (a Java class name, an
     * I/O detail) stays out of the response and only its status's reason is given.
     */
    private static String clientMessage(Request request, int status, String reason) {
        Object cause = request.getAttribute(ErrorHandler.ERROR_EXCEPTION);
        Object message = request.getAttribute(ErrorHandler.ERROR_MESSAGE);
        if (status < 500 && message != null && (cause == null || cause instanceof org.eclipse.jetty.http.HttpException)) {
            String text = message.toString();
            if (!text.contains("Exception") && !text.contains("java.")) return text;
        }
        return reason == null ? "error" : reason;
    }
}
