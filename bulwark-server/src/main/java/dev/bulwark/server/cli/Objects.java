package dev.bulwark.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.cli.AdminNode.Refusal;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code bulwark objects ...}: the admin endpoints for durable objects, from the command line
 * (through {@link AdminNode}, as {@code tail}); every failure is one line.
 */
@Command(name = "objects", description = "Inspect the durable objects of a running node (namespaces, objects, snapshots).",
        subcommands = {Objects.Namespaces.class, Objects.ListObjects.class, Objects.Show.class, Objects.Snapshot.class})
final class Objects implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The common part of each subcommand: the request, its one-line failures. */
    abstract static class AdminCall implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        AdminNode node;

        @Override
        public final Integer call() throws Exception {
            try {
                node.checkPort();
                run(spec.commandLine().getOut());
                return 0;
            } catch (Refusal r) {
                spec.commandLine().getErr().println("bulwark: " + r.getMessage());
                return r.status;
            }
        }

        abstract void run(PrintWriter out) throws Exception;

        /** GETs an admin path; a non-200 answer becomes a Refusal with the node's message. */
        HttpResponse<InputStream> get(String path) throws Exception {
            HttpResponse<InputStream> res = node.get(AdminNode.client(), path, Duration.ofMinutes(5));
            if (res.statusCode() != 200) {
                String body;
                try (InputStream in = res.body()) {
                    body = new String(in.readNBytes(8192), StandardCharsets.UTF_8);
                }
                String message;
                try {
                    message = JSON.readTree(body).get("error").get("message").asText();
                } catch (IOException | NullPointerException e) {
                    message = "the node answered " + res.statusCode();
                }
                throw new Refusal(Main.FAILED, message.lines().findFirst().orElse(message));
            }
            return res;
        }

        JsonNode getJson(String path) throws Exception {
            try (InputStream in = get(path).body()) {
                return JSON.readTree(in);
            }
        }
    }

    /** {@code <worker>/<class>} as the API's two path segments. */
    static String namespacePath(String namespace) throws Refusal {
        int slash = namespace.indexOf('/');
        if (slash <= 0 || slash == namespace.length() - 1 || namespace.indexOf('/', slash + 1) >= 0) {
            throw new Refusal(Main.USAGE, "namespace '" + namespace + "': expected <worker>/<class> (see bulwark objects namespaces)");
        }
        return "namespaces/" + URLEncoder.encode(namespace.substring(0, slash), StandardCharsets.UTF_8) + "/"
                + URLEncoder.encode(namespace.substring(slash + 1), StandardCharsets.UTF_8);
    }

    static String objectId(String id) throws Refusal {
        if (!id.matches("[0-9a-f]{64}")) throw new Refusal(Main.USAGE, "object id '" + id + "': expected 64 hex digits");
        return id;
    }

    @Command(name = "namespaces", description = "List the durable object namespaces (<worker>/<class>) the node's workers bind.")
    static final class Namespaces extends AdminCall {
        @Override
        void run(PrintWriter out) throws Exception {
            for (JsonNode n : getJson("namespaces").get("namespaces")) {
                StringBuilder bindings = new StringBuilder();
                for (JsonNode b : n.get("bindings")) bindings.append(bindings.isEmpty() ? "" : ",").append(b.asText());
                out.println(n.get("id").asText() + "\ttenant=" + n.get("tenant").asText() + "\tbindings=" + bindings);
            }
        }
    }

    @Command(name = "list", description = "List the stored objects of a namespace: id and size in bytes, in id order.")
    static final class ListObjects extends AdminCall {
        @Parameters(index = "0", description = "the namespace, <worker>/<class>")
        String namespace;

        @Override
        void run(PrintWriter out) throws Exception {
            String base = namespacePath(namespace) + "/objects?limit=1000";
            String cursor = null;
            do {
                JsonNode page = getJson(base + (cursor == null ? "" : "&cursor=" + cursor));
                for (JsonNode o : page.get("objects")) out.println(o.get("id").asText() + "\t" + o.get("sizeBytes").asLong());
                cursor = page.get("cursor").isNull() ? null : page.get("cursor").asText();
            } while (cursor != null);
        }
    }

    @Command(name = "show", description = "Show one object: size, alarm, WebSockets, where it runs (JSON).")
    static final class Show extends AdminCall {
        @Parameters(index = "0", description = "the namespace, <worker>/<class>")
        String namespace;

        @Parameters(index = "1", description = "the object's id (64 hex digits)")
        String id;

        @Override
        void run(PrintWriter out) throws Exception {
            JsonNode info = getJson(namespacePath(namespace) + "/objects/" + objectId(id));
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(info));
        }
    }

    @Command(name = "snapshot", description = "Download a consistent copy of one object's SQLite database.")
    static final class Snapshot extends AdminCall {
        @Parameters(index = "0", description = "the namespace, <worker>/<class>")
        String namespace;

        @Parameters(index = "1", description = "the object's id (64 hex digits)")
        String id;

        @Option(names = {"-o", "--output"}, description = "the file to write (default: <id>.sqlite)")
        Path output;

        @Override
        void run(PrintWriter out) throws Exception {
            String path = namespacePath(namespace) + "/objects/" + objectId(id) + "/snapshot";
            Path target = output != null ? output : Path.of(id + ".sqlite");
            Path dir = target.toAbsolutePath().getParent();
            if (dir == null || !Files.isDirectory(dir)) throw new Refusal(Main.USAGE, target + ": its directory does not exist");
            HttpResponse<InputStream> res = get(path);
            // Written beside the target, then moved: an interrupted download never leaves a half database.
            Path partial = Files.createTempFile(dir, ".bulwark-snapshot-", ".part");
            long bytes;
            try (InputStream in = res.body()) {
                bytes = Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
            out.println("bulwark: wrote " + bytes + " bytes to " + target);
        }
    }
}
