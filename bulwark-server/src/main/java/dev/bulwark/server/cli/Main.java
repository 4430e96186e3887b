package dev.bulwark.server.cli;

import dev.bulwark.server.config.ConfigException;
import dev.bulwark.server.config.ProjectConfig;
import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.node.Node;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * The {@code bulwark} command line. Every bad input is answered in one line on stderr starting
 * with {@code bulwark: } and a non-zero exit status (2 for a usage or configuration error, 1 for a
 * failure at run time), never with a stack trace.
 */
@Command(name = "bulwark", mixinStandardHelpOptions = true, version = "bulwark 0.1.0",
        description = "A self-hosted runtime for Workers-style code nobody reviewed.",
        subcommands = {Main.Serve.class, Main.Tail.class, Doctor.class, Objects.class, Audit.class})
public final class Main implements Runnable {
    static final int USAGE = 2, FAILED = 1;

    /** For tests: called with the node and a way to stop it once {@code serve} is serving. */
    static volatile Consumer<Serving> servingHook;

    /** A serving node and the way to end {@code serve} (as Ctrl-C does). */
    record Serving(Node node, Runnable stop) {}

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // The JIT's threads below the requests' (docs/notes/jitwarm2.md); sandboxes do the same.
        dev.bulwark.sandbox.jvm.CompilerThreads.lower();
        System.exit(run(System.out, System.err, args));
    }

    /** Runs the command line with the given streams; returns the exit status. */
    static int run(PrintStream out, PrintStream err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setParameterExceptionHandler((e, a) -> {
            String command = e.getCommandLine().getCommandName();
            err.println("bulwark: " + e.getMessage() + " (see bulwark " + ("bulwark".equals(command) ? "" : command + " ")
                    + "--help)");
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, c, parsed) -> {
            err.println("bulwark: " + oneLine(e));
            return FAILED;
        });
        return cli.execute(args);
    }

    /** An unexpected exception as one line: its message, or its kind when it has none. */
    static String oneLine(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && (t.getMessage() == null || t.getMessage().isBlank())) t = t.getCause();
        String message = t.getMessage();
        if (message == null || message.isBlank()) message = "unexpected " + t.getClass().getSimpleName();
        return message.lines().findFirst().orElse(message);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "serve", description = "Serve Workers projects (directories with wrangler.jsonc, wrangler.json or wrangler.toml).")
    static final class Serve implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(description = "project directories (default: the current one); with several, the node settings "
                + "come from the first and each worker answers on its routes and on <name>.localhost")
        List<Path> dirs = new ArrayList<>();

        @Option(names = "--port", description = "port of the front door, 0 to 65535 (overrides the configuration; 0 picks one)")
        Integer port;

        @Option(names = "--data", description = "data directory (overrides the configuration)")
        Path data;

        @Option(names = "--main", description = "serve this module instead of the wrangler file's main "
                + "(e.g. a bundle built by esbuild); only with one project")
        Path main;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr(), out = spec.commandLine().getOut();
            if (port != null && (port < 0 || port > 65_535)) {
                err.println("bulwark: --port " + port + ": must be from 0 to 65535");
                return USAGE;
            }
            List<Path> projects = dirs.isEmpty() ? List.of(Path.of(".")) : dirs;
            if (main != null && projects.size() > 1) {
                err.println("bulwark: --main applies to one project; " + projects.size() + " were given");
                return USAGE;
            }
            List<ProjectConfig> configs = new ArrayList<>();
            for (Path dir : projects) {
                try {
                    configs.add(ProjectLoader.load(dir, main, s -> {
                        var o = s;
                        if (port != null) o = o.withPort(port);
                        if (data != null) o = o.withDataDir(data.toAbsolutePath());
                        return o;
                    }));
                } catch (ConfigException e) {
                    err.println("bulwark: " + e.getMessage());
                    return USAGE;
                }
            }
            List<String> names = new ArrayList<>();
            for (ProjectConfig c : configs) {
                if (names.contains(c.name())) {
                    err.println("bulwark: two projects are named '" + c.name() + "' (" + c.directory() + ")");
                    return USAGE;
                }
                names.add(c.name());
                for (String w : c.warnings()) err.println("bulwark: warning: " + w);
            }
            var settings = configs.getFirst().settings();
            Node node;
            try {
                node = Node.serve(configs);
            } catch (dev.bulwark.server.node.MigrationException e) {
                err.println("bulwark: " + oneLine(e));
                return USAGE;
            } catch (java.nio.file.FileSystemException e) {
                err.println("bulwark: " + fileProblem(e));
                return FAILED;
            } catch (IOException e) {
                err.println("bulwark: cannot listen on " + settings.host() + ":" + settings.port() + ": " + listenProblem(e));
                return FAILED;
            }
            // Each load error was logged once by the node, naming the worker; here only the verdict.
            List<String> failed = names.stream().filter(n -> node.loadError(n) != null).toList();
            if (failed.size() == names.size()) {
                node.close();
                err.println("bulwark: not serving: " + (failed.size() == 1 ? "worker " + failed.getFirst() + " failed"
                        : "every worker failed (" + String.join(", ", failed) + ")") + " to load (the error is above)");
                return FAILED;
            }
            if (!failed.isEmpty()) {
                err.println("bulwark: WARNING: " + failed.size() + " of " + names.size() + " workers FAILED to load and "
                        + "answer every request with 500 worker_load_failed: " + String.join(", ", failed));
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                node.close();
                stopped.countDown();
            });
            Runtime.getRuntime().addShutdownHook(hook);
            List<String> serving = names.stream().filter(n -> !failed.contains(n)).toList();
            out.println("bulwark: serving " + String.join(", ", serving) + " on http://" + settings.host() + ":"
                    + node.port() + "/");
            Consumer<Serving> test = servingHook;
            if (test != null) {
                test.accept(new Serving(node, () -> {
                    Runtime.getRuntime().removeShutdownHook(hook);
                    hook.run();
                }));
            }
            stopped.await();
            return 0;
        }

        /** A file the node could not create or write (its data directory, its run directory), in words. */
        static String fileProblem(java.nio.file.FileSystemException e) {
            String what = switch (e) {
                case java.nio.file.AccessDeniedException a -> "permission denied";
                case java.nio.file.NoSuchFileException n -> "no such file or directory";
                case java.nio.file.FileAlreadyExistsException f -> "exists and is not a directory";
                case java.nio.file.NotDirectoryException n -> "not a directory";
                default -> e.getReason() != null ? e.getReason() : "cannot be used";
            };
            return e.getFile() + ": " + what;
        }

        private static String listenProblem(IOException e) {
            Throwable t = e;
            while (t != null && !(t instanceof BindException)) t = t.getCause();
            if (t != null) {
                String m = String.valueOf(t.getMessage());
                if (m.contains("in use")) return "the address is already in use (another process listens there; try --port)";
                return m;
            }
            return oneLine(e);
        }
    }

    @Command(name = "tail", description = "Stream a worker's console output, uncaught exceptions and limit kills from a running node.")
    static final class Tail implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", description = "the worker's name")
        String worker;

        @CommandLine.Mixin
        AdminNode node;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr(), out = spec.commandLine().getOut();
            try (HttpClient client = AdminNode.client()) {
                HttpResponse<InputStream> res;
                try {
                    node.checkPort();
                    res = node.get(client, "tail/" + java.net.URLEncoder.encode(worker, java.nio.charset.StandardCharsets.UTF_8), null);
                } catch (AdminNode.Refusal r) {
                    err.println("bulwark: " + r.getMessage());
                    return r.status;
                }
                if (res.statusCode() == 404) {
                    err.println("bulwark: the node on " + node.host + ":" + node.port + " has no worker named '" + worker + "'");
                    return FAILED;
                }
                if (res.statusCode() != 200) {
                    err.println("bulwark: tail refused: " + res.statusCode() + " " + oneLine(
                            new IOException(new String(res.body().readNBytes(4096)))));
                    return FAILED;
                }
                try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(res.body()))) {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        if (!line.isEmpty() && !line.startsWith("{\"tail\"")) out.println(line);
                    }
                }
            }
            return 0;
        }
    }
}
