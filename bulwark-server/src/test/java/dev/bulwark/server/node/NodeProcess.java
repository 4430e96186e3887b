package dev.bulwark.server.node;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A real node in a JVM of its own, for the tests that must kill it, starve it or measure it
 * ({@link CrashLoopTest}, {@link NodeMemoryBudgetTest}, {@link SoakTest}): started with this
 * test JVM's java and class path, ready when a line of its output says so; every other line
 * goes to a consumer of the test's choice.
 */
final class NodeProcess {
    private final Process process;
    private final CompletableFuture<String> readyLine = new CompletableFuture<>();

    private NodeProcess(Process process) {
        this.process = process;
    }

    /**
     * Starts {@code mainClass} with {@code jvmOptions} and {@code args}, and returns once a line of its
     * output matches {@code ready} (that line is returned by {@link #readyLine()} as well).
     */
    static NodeProcess start(List<String> jvmOptions, String mainClass, List<String> args, Predicate<String> ready,
                             Consumer<String> otherLines) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("--add-exports=java.base/sun.nio.ch=ALL-UNNAMED"); // as the launcher: direct posts (NonBlockingSend)
        command.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        command.addAll(ChildNodeOptions.properties());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        NodeProcess node = new NodeProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
        BufferedReader out = new BufferedReader(new InputStreamReader(node.process.getInputStream(), StandardCharsets.UTF_8));
        Thread.ofVirtual().start(() -> {
            try {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (!node.readyLine.isDone() && ready.test(line)) node.readyLine.complete(line);
                    else otherLines.accept(line);
                }
            } catch (IOException ignored) {
                // the node was killed
            }
            node.readyLine.completeExceptionally(new IllegalStateException("the node exited before it was ready"));
        });
        try {
            node.readyLine.get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            node.kill();
            throw e;
        }
        return node;
    }

    String readyLine() {
        return readyLine.join();
    }

    Process process() {
        return process;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The node's resident set in bytes (its own, not its sandboxes'), 0 once it is gone. */
    long rss() {
        return rss(process.pid());
    }

    /** The resident sets of the node's child processes (its sandboxes), summed. */
    long childrenRss() {
        return process.toHandle().descendants().mapToLong(p -> rss(p.pid())).sum();
    }

    static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024L;
            }
        } catch (IOException | RuntimeException gone) {
            // the process ended
        }
        return 0;
    }

    /** Closes the node's standard input (the test mains stop then) and waits for it; kills it if it does not end. */
    void stop(long waitSeconds) throws Exception {
        process.getOutputStream().close();
        if (!process.waitFor(waitSeconds, TimeUnit.SECONDS)) kill();
    }

    /** SIGKILLs the node and all its descendants, and waits until they are gone. */
    void kill() {
        killTree(process.toHandle());
    }

    static void killTree(ProcessHandle root) {
        List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
        root.destroyForcibly();
        for (ProcessHandle p : all) p.destroyForcibly();
        for (ProcessHandle p : all) p.onExit().orTimeout(30, TimeUnit.SECONDS).exceptionally(e -> p).join();
        root.onExit().orTimeout(30, TimeUnit.SECONDS).exceptionally(e -> root).join();
    }
}
