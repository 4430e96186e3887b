package dev.bulwark.server.cli;

import dev.bulwark.server.config.ConfigException;
import dev.bulwark.server.config.ProjectConfig;
import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.node.Node;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** The {@code bulwark} command line. */
@Command(name = "bulwark", mixinStandardHelpOptions = true, version = "bulwark 0.1.0",
        description = "A self-hosted runtime for Workers-style code nobody reviewed.",
        subcommands = {Main.Serve.class, Main.Tail.class, Doctor.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    @Command(name = "serve", description = "Serve a Workers project (a directory with wrangler.jsonc, wrangler.json or wrangler.toml).")
    static final class Serve implements Callable<Integer> {
        @Parameters(index = "0", description = "the project directory", defaultValue = ".")
        Path dir;

        @Option(names = "--port", description = "port of the front door (overrides the configuration; 0 picks one)")
        Integer port;

        @Option(names = "--data", description = "data directory (overrides the configuration)")
        Path data;

        @Override
        public Integer call() throws Exception {
            ProjectConfig project;
            try {
                project = ProjectLoader.load(dir, s -> {
                    var out = s;
                    if (port != null) out = out.withPort(port);
                    if (data != null) out = out.withDataDir(data.toAbsolutePath());
                    return out;
                });
            } catch (ConfigException e) {
                System.err.println("bulwark: " + e.getMessage());
                return 2;
            }
            for (String w : project.warnings()) System.err.println("bulwark: warning: " + w);
            Node node = Node.serve(project);
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                node.close();
                stopped.countDown();
            }));
            System.out.println("bulwark: serving " + project.name() + " on http://" + project.settings().host() + ":"
                    + node.port() + "/");
            stopped.await();
            return 0;
        }
    }

    @Command(name = "tail", description = "Stream a worker's console output and uncaught exceptions from a running node.")
    static final class Tail implements Callable<Integer> {
        @Parameters(index = "0", description = "the worker's name")
        String worker;

        @Option(names = "--port", defaultValue = "8787", description = "port of the node (default ${DEFAULT-VALUE})")
        int port;

        @Option(names = "--host", defaultValue = "127.0.0.1")
        String host;

        @Option(names = "--data", defaultValue = ".bulwark/data",
                description = "the node's data directory, which holds admin.token (default ${DEFAULT-VALUE})")
        Path data;

        @Override
        public Integer call() throws Exception {
            Path tokenFile = data.resolve("admin.token");
            if (!Files.isReadable(tokenFile)) {
                System.err.println("bulwark: no admin token at " + tokenFile + " (is the node running with --data " + data + "?)");
                return 2;
            }
            String token = Files.readString(tokenFile).trim();
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/cdn-cgi/bulwark/tail/" + worker))
                    .header("Authorization", "Bearer " + token).build();
            HttpResponse<InputStream> res = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofInputStream());
            if (res.statusCode() != 200) {
                System.err.println("bulwark: tail refused: " + res.statusCode() + " " + new String(res.body().readAllBytes()));
                return 1;
            }
            try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(res.body()))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (!line.isEmpty() && !line.startsWith("{\"tail\"")) System.out.println(line);
                }
            }
            return 0;
        }
    }
}
