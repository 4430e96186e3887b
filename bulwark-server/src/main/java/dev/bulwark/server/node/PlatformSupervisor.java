package dev.bulwark.server.node;

import dev.bulwark.objects.java.HttpHeader;
import dev.bulwark.objects.java.JavaDurableObject;
import dev.bulwark.objects.java.JavaObjectContext;
import dev.bulwark.objects.java.JavaRequest;
import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.objects.java.JavaResponse;
import dev.bulwark.objects.storage.KvListOptions;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.FacetIds;
import dev.bulwark.sandbox.ipc.Message;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The built-in supervisor (issue 14): a durable object implemented in Java, trusted, run in the
 * node, that gives every generated app its own facet. Bind it from a worker with
 * {@code {"name": "PLATFORM", "class_name": "FacetPlatform", "script_name": "bulwark:java"}} and
 * forward requests to one of its objects ({@code env.PLATFORM.getByName("main").fetch(request)}):
 * <pre>
 * PUT    /_apps/{app}[?class=App]   the body is the app's code (one ES module exporting the class):
 *                                   stored by its SHA-256 in this object's storage; the app's
 *                                   facet is aborted (its data kept) and the next request runs the new code
 * DELETE /_apps/{app}               deletes the app and its facet's database
 * GET    /_apps                     the apps and their code hashes
 * *      /{app}/{rest...}           served by the facet {app} as /{rest...}
 * GET    /_records                  the facets' records, as this object keeps them in its own database
 *                                   (table facet_records: requests, errors, CPU ms, storage bytes, last code
 *                                   hash; updated after each request from what the node counted)
 * </pre>
 * Quotas are the node's facet quotas of this object (its id), from configuration or the admin API.
 * Errors are JSON {@code {"error": {"code", "message", "app"}}}: 404 {@code no_such_app}, 429
 * {@code facet_quota}, 502 {@code facet_failed} (the app threw, hit a limit, or its sandbox died).
 */
final class PlatformSupervisor implements JavaDurableObject {
    static final String CLASS_NAME = "FacetPlatform";
    private static final String APPS = "_apps";
    private static final String RECORDS = "_records";
    private static final java.util.regex.Pattern CLASS = java.util.regex.Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]{0,63}");
    /** Code bigger than this is refused (it travels whole to the sandbox). */
    static final int MAX_CODE_BYTES = 4 << 20;

    /** What the node does for the supervisor: load code into the tenant's sandbox for generated code, reach facets. */
    interface Platform {
        /**
         * The dynamic worker id of the code {@code codeHash} (loaded now from {@code source} if it
         * is not), or throws IllegalStateException with why not.
         */
        String load(String tenant, String codeHash, java.util.function.Supplier<String> source);

        Message fetch(String tenant, Address.DurableObject parent, String app, String workerId, String className,
                      JavaRequest request);

        /** Null, or why the abort or delete failed. */
        String reset(String tenant, Address.DurableObject parent, String app, boolean delete);

        /** What the node counted of the facet {@code app} so far, or null if it never ran. */
        FacetRecord record(Address.DurableObject parent, String app);
    }

    private final JavaObjectContext ctx;
    private final Platform platform;
    /** What serving an app needs from storage, read once per instance (dropped by PUT and DELETE). */
    private final java.util.Map<String, App> apps = new java.util.concurrent.ConcurrentHashMap<>();
    /** When each app's record was last copied into this object's database (ms). */
    private final java.util.Map<String, Long> recordedAt = new java.util.concurrent.ConcurrentHashMap<>();
    /** Records are copied at most this often on the request path (and always before {@code /_records} answers). */
    static final long RECORD_EVERY_MS = 1_000;

    private record App(String codeHash, String className) {}

    PlatformSupervisor(JavaObjectContext ctx, Platform platform) {
        this.ctx = ctx;
        this.platform = platform;
    }

    private Address.DurableObject self() {
        return new Address.DurableObject(JavaObjects.WORKER_ID, CLASS_NAME, ctx.id().hex(), ctx.id().name());
    }

    @Override
    public JavaResponse fetch(JavaRequest request) throws Exception {
        String path = URI.create(request.url()).getRawPath();
        String[] parts = path.split("/", 3);
        // An app's name is a path segment, percent-decoded: "/_apps/a%2Fb" names "a/b" (refused).
        String first = parts.length > 1 ? segment(parts[1]) : "";
        if (first.equals(APPS)) return manage(request, parts.length > 2 ? segment(parts[2]) : null);
        if (first.equals(RECORDS) && parts.length == 2) return records();
        if (first.isEmpty()) return error(404, "no_such_app", "requests go to /{app}/...", null);
        return serve(first, parts.length > 2 ? "/" + parts[2] : "/", request);
    }

    /** A path segment, percent-decoded as UTF-8 ('+' is itself in a path). */
    private static String segment(String raw) {
        try {
            return java.net.URLDecoder.decode(raw.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return raw; // the front door refuses a bad percent-encoding before this; kept as sent
        }
    }

    private JavaResponse manage(JavaRequest request, String app) {
        if (app == null || app.isEmpty()) {
            if (!request.method().equals("GET")) return error(405, "method_not_allowed", "GET /_apps lists the apps", null);
            StringBuilder out = new StringBuilder("{\"apps\":{");
            boolean firstApp = true;
            for (var e : ctx.storage().list(new KvListOptions(null, null, null, "app:", false, null)).entrySet()) {
                if (!firstApp) out.append(',');
                firstApp = false;
                out.append(quote(e.getKey().substring(4))).append(':').append(quote(String.valueOf(e.getValue())));
            }
            return json(200, out.append("}}").toString());
        }
        String problem = FacetIds.nameProblem(app);
        if (problem != null || app.startsWith("_")) {
            return error(400, "bad_app_name", problem != null ? problem : "app names starting with '_' are reserved", app);
        }
        switch (request.method()) {
            case "PUT" -> {
                byte[] body = request.body();
                if (body == null || body.length == 0) return error(400, "no_code", "the body must be the app's code", app);
                if (body.length > MAX_CODE_BYTES) return error(413, "code_too_large", "the code is larger than " + MAX_CODE_BYTES + " bytes", app);
                String className = queryParam(request.url(), "class");
                if (className == null) className = "App";
                if (!CLASS.matcher(className).matches()) return error(400, "bad_class_name", "class must be a JS identifier", app);
                String hash = sha256(body);
                ctx.storage().put("code:" + hash, new String(body, StandardCharsets.UTF_8));
                ctx.storage().put("app:" + app, hash);
                ctx.storage().put("class:" + app, className);
                apps.remove(app);
                String failed = platform.reset(ctx.tenant(), self(), app, false);
                if (failed != null) return error(502, "facet_failed", failed, app);
                return json(201, "{\"app\":" + quote(app) + ",\"codeHash\":" + quote(hash) + "}");
            }
            case "DELETE" -> {
                if (ctx.storage().get("app:" + app) == null) return error(404, "no_such_app", "no app '" + app + "'", app);
                String failed = platform.reset(ctx.tenant(), self(), app, true);
                if (failed != null) return error(502, "facet_failed", failed, app);
                ctx.storage().delete("app:" + app);
                ctx.storage().delete("class:" + app);
                apps.remove(app);
                return json(200, "{\"deleted\":" + quote(app) + "}");
            }
            default -> {
                return error(405, "method_not_allowed", "PUT uploads an app's code, DELETE deletes the app", app);
            }
        }
    }

    /**
     * Forwards a request to the app's facet. The wait for the facet's answer happens outside this
     * object's gate: other requests (to other apps and to the same app, which the facet itself
     * serializes with its own gates) go on meanwhile; uploads and deletes stay serial.
     */
    private JavaResponse serve(String app, String rest, JavaRequest request) throws Exception {
        App a = apps.get(app);
        if (a == null) {
            Object hash = ctx.storage().get("app:" + app);
            if (!(hash instanceof String h)) return error(404, "no_such_app", "no app '" + app + "'", app);
            Object className = ctx.storage().get("class:" + app);
            a = new App(h, className instanceof String c ? c : "App");
            apps.put(app, a);
        }
        String h = a.codeHash();
        String workerId;
        try {
            // The code is read only when its dynamic worker is not loaded.
            workerId = platform.load(ctx.tenant(), h, () -> (String) ctx.storage().get("code:" + h));
        } catch (IllegalStateException e) {
            return error(502, "facet_failed", e.getMessage(), app);
        }
        String query = URI.create(request.url()).getRawQuery();
        JavaRequest forwarded = new JavaRequest(request.method(), "http://" + app + rest + (query == null ? "" : "?" + query),
                request.headers(), request.body());
        String className = a.className();
        Message answer = ctx.outsideGate(() -> platform.fetch(ctx.tenant(), self(), app, workerId, className, forwarded));
        long now = System.currentTimeMillis();
        if (now - recordedAt.getOrDefault(app, 0L) >= RECORD_EVERY_MS) keepRecord(app, h);
        return switch (answer) {
            case Message.CallResult r -> {
                List<HttpHeader> headers = new ArrayList<>();
                for (Message.Header hd : r.headers()) headers.add(new HttpHeader(hd.name(), hd.value()));
                yield new JavaResponse(r.status(), headers, r.body());
            }
            case Message.CallFailed f when f.code().equals(FacetQuotas.CODE) -> error(429, FacetQuotas.CODE, f.message(), app);
            case Message.CallFailed f -> error(502, "facet_failed", f.message(), app);
            default -> error(502, "facet_failed", "unexpected answer", app);
        };
    }

    private boolean recordsTableMade;

    private void recordsTable() {
        if (recordsTableMade) return;
        recordsTableMade = true;
        ctx.storage().sql("CREATE TABLE IF NOT EXISTS facet_records (app TEXT PRIMARY KEY, requests INTEGER NOT NULL, "
                + "errors INTEGER NOT NULL, cpu_ms INTEGER NOT NULL, storage_bytes INTEGER NOT NULL, code_hash TEXT, "
                + "updated_ms INTEGER NOT NULL)").close();
    }

    /** Copies what the node counted of the app's facet into this object's own database. */
    private void keepRecord(String app, String codeHash) {
        FacetRecord r = platform.record(self(), app);
        recordedAt.put(app, System.currentTimeMillis());
        if (r == null) return;
        recordsTable();
        ctx.storage().sql("INSERT INTO facet_records VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(app) DO UPDATE SET "
                        + "requests = excluded.requests, errors = excluded.errors, cpu_ms = excluded.cpu_ms, "
                        + "storage_bytes = excluded.storage_bytes, code_hash = excluded.code_hash, updated_ms = excluded.updated_ms",
                app, r.requests(), r.errors(), r.cpuMs(), r.storageBytes(), codeHash, System.currentTimeMillis()).close();
    }

    private JavaResponse records() {
        recordsTable();
        for (var e : ctx.storage().list(new KvListOptions(null, null, null, "app:", false, null)).entrySet()) {
            keepRecord(e.getKey().substring(4), String.valueOf(e.getValue()));
        }
        StringBuilder out = new StringBuilder("{\"records\":[");
        boolean firstRow = true;
        try (var cursor = ctx.storage().sql("SELECT app, requests, errors, cpu_ms, storage_bytes, code_hash FROM facet_records ORDER BY app")) {
            for (java.util.List<Object> row = cursor.next(); row != null; row = cursor.next()) {
                if (!firstRow) out.append(',');
                firstRow = false;
                out.append("{\"app\":").append(quote(String.valueOf(row.get(0)))).append(",\"requests\":").append(row.get(1))
                        .append(",\"errors\":").append(row.get(2)).append(",\"cpuMs\":").append(row.get(3))
                        .append(",\"storageBytes\":").append(row.get(4)).append(",\"codeHash\":")
                        .append(row.get(5) == null ? "null" : quote(String.valueOf(row.get(5)))).append('}');
            }
        }
        return json(200, out.append("]}").toString());
    }

    private static String queryParam(String url, String name) {
        String q = URI.create(url).getQuery();
        if (q == null) return null;
        for (String kv : q.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0 && kv.substring(0, eq).equals(name)) return kv.substring(eq + 1);
        }
        return null;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JavaResponse error(int status, String code, String message, String app) {
        return json(status, "{\"error\":{\"code\":" + quote(code) + ",\"message\":" + quote(message)
                + ",\"app\":" + (app == null ? "null" : quote(app)) + "}}");
    }

    private static JavaResponse json(int status, String body) {
        return new JavaResponse(status, List.of(new HttpHeader("content-type", "application/json")),
                body.getBytes(StandardCharsets.UTF_8));
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
