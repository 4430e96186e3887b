package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.node.ObjectAdmin;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The admin endpoints for durable objects, under the node's admin prefix (the caller checked the
 * admin token):
 * <pre>
 * GET namespaces                                       the namespaces the deployed workers bind
 * GET namespaces/{worker}/{class}/objects?limit&cursor the stored objects, in id order, paginated
 * GET namespaces/{worker}/{class}/objects/{id}         size, alarm, WebSockets, placement
 * GET namespaces/{worker}/{class}/objects/{id}/snapshot  a consistent copy of its SQLite database
 * </pre>
 * An unknown namespace or object answers 404 with the node's JSON error shape.
 */
final class AdminObjects {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AdminObjects.class);
    static final String SQLITE_TYPE = "application/vnd.sqlite3";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ObjectAdmin admin;

    AdminObjects(ObjectAdmin admin) {
        this.admin = admin;
    }

    /** {@code rest} is the path after the admin prefix, starting with {@code namespaces}. */
    void serve(String rest, Request request, Response response, Callback callback) throws IOException {
        if (!request.getMethod().equals("GET")) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET");
            ErrorResponse.write(response, callback, 405, "method_not_allowed", "the admin endpoints answer GET only", null);
            return;
        }
        String[] parts = rest.split("/", -1);
        if (parts.length == 1) {
            namespaces(response, callback);
            return;
        }
        if (parts.length < 4 || !parts[3].equals("objects") || parts.length > 6
                || (parts.length == 6 && !parts[5].equals("snapshot"))) {
            notFound(response, callback, "no such endpoint: " + FrontDoor.ADMIN_PREFIX + rest);
            return;
        }
        ObjectAdmin.Namespace ns = admin.namespace(parts[1], parts[2]);
        if (ns == null) {
            notFound(response, callback, "no durable object namespace '" + parts[1] + "/" + parts[2] + "' is bound on this node");
            return;
        }
        if (parts.length == 4) {
            list(ns, request, response, callback);
            return;
        }
        String id = parts[4];
        if (!ObjectAdmin.isObjectId(id)) {
            notFound(response, callback, "not an object id (64 hex digits)");
            return;
        }
        if (parts.length == 5) info(ns, id, response, callback);
        else snapshot(ns, id, response, callback);
    }

    private static void notFound(Response response, Callback callback, String message) {
        ErrorResponse.write(response, callback, 404, "not_found", message, null);
    }

    private void namespaces(Response response, Callback callback) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("namespaces");
        for (ObjectAdmin.Namespace n : admin.namespaces()) {
            ObjectNode o = list.addObject();
            o.put("id", n.id());
            o.put("tenant", n.tenant());
            o.put("worker", n.worker());
            o.put("class", n.className());
            ArrayNode b = o.putArray("bindings");
            n.bindings().forEach(b::add);
        }
        json(response, callback, root);
    }

    private void list(ObjectAdmin.Namespace ns, Request request, Response response, Callback callback) throws IOException {
        Fields query = Request.extractQueryParameters(request);
        int limit = ObjectAdmin.DEFAULT_PAGE;
        String limitText = query.getValue("limit");
        if (limitText != null) {
            try {
                limit = Integer.parseInt(limitText);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > ObjectAdmin.MAX_PAGE) {
                ErrorResponse.write(response, callback, 400, "bad_request",
                        "limit must be an integer from 1 to " + ObjectAdmin.MAX_PAGE, null);
                return;
            }
        }
        String cursor = query.getValue("cursor");
        if (cursor != null && !ObjectAdmin.isObjectId(cursor)) {
            ErrorResponse.write(response, callback, 400, "bad_request", "cursor must be an object id from a previous page", null);
            return;
        }
        ObjectAdmin.Page page = admin.list(ns, cursor, limit);
        ObjectNode root = JSON.createObjectNode();
        root.put("namespace", ns.id());
        ArrayNode list = root.putArray("objects");
        for (ObjectAdmin.StoredObject o : page.objects()) {
            list.addObject().put("id", o.id()).put("sizeBytes", o.sizeBytes());
        }
        if (page.cursor() == null) root.putNull("cursor");
        else root.put("cursor", page.cursor());
        json(response, callback, root);
    }

    private void info(ObjectAdmin.Namespace ns, String id, Response response, Callback callback) {
        ObjectAdmin.ObjectInfo info = admin.info(ns, id);
        if (info == null) {
            notFound(response, callback, "namespace " + ns.id() + " holds no object " + id);
            return;
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("namespace", ns.id());
        root.put("id", id);
        root.put("sizeBytes", info.sizeBytes());
        if (info.alarm() == null) root.putNull("alarm");
        else root.put("alarm", info.alarm());
        ObjectNode sockets = root.putObject("websockets");
        sockets.put("count", info.websockets().size());
        ArrayNode tags = sockets.putArray("tags");
        for (List<String> t : info.websockets()) {
            ArrayNode one = tags.addArray();
            t.forEach(one::add);
        }
        root.put("active", info.sandbox() != null);
        if (info.sandbox() == null) {
            root.putNull("sandbox");
        } else {
            root.putObject("sandbox").put("name", info.sandbox()).put("pid", info.pid());
        }
        json(response, callback, root);
    }

    private void snapshot(ObjectAdmin.Namespace ns, String id, Response response, Callback callback) {
        ObjectAdmin.Snapshot snapshot = admin.snapshot(ns, id);
        switch (snapshot) {
            case null -> notFound(response, callback, "namespace " + ns.id() + " holds no object " + id);
            case ObjectAdmin.Snapshot.Failed f -> {
                log.warn("snapshot of {} {} failed: {}", ns.id(), id, f.reason());
                ErrorResponse.write(response, callback, 503, "snapshot_failed", f.reason(), null);
            }
            case ObjectAdmin.Snapshot.Taken t -> {
                try (var channel = Files.newByteChannel(t.file(),
                        java.util.Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
                     InputStream in = Channels.newInputStream(channel)) {
                    long size = channel.size();
                    // The open channel keeps the copy readable: it leaves the disk before a byte is
                    // sent, so no client can see it still there once it has its download.
                    ObjectAdmin.deleteQuietly(t.file());
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, SQLITE_TYPE);
                    response.getHeaders().put(HttpHeader.CONTENT_DISPOSITION, "attachment; filename=\"" + id + ".sqlite\"");
                    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
                    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, size);
                    try (OutputStream out = Content.Sink.asOutputStream(response)) {
                        in.transferTo(out);
                    }
                    callback.succeeded();
                } catch (IOException e) {
                    // Before any byte was sent the client gets the JSON error; after, the response is cut.
                    callback.failed(e);
                } finally {
                    ObjectAdmin.deleteQuietly(t.file());
                }
            }
        }
    }

    private static void json(Response response, Callback callback, ObjectNode body) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(body.toString().getBytes(StandardCharsets.UTF_8)), callback);
    }
}
