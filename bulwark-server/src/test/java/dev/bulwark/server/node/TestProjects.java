package dev.bulwark.server.node;

import dev.bulwark.server.config.ProjectConfig;
import dev.bulwark.server.config.ProjectLoader;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every node test does first: start a real node on a test project from
 * {@code src/test/resources} (port 0, the test's data directory), and ask it over HTTP/1.1.
 */
final class TestProjects {
    /** HTTP/1.1: the JDK client's default h2c upgrade would change what the front door sees. */
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private TestProjects() {
    }

    /** A project directory under {@code src/test/resources}. */
    static Path resource(String dir) {
        return Path.of("src", "test", "resources", dir).toAbsolutePath();
    }

    /** Loads a project as {@code bulwark serve} would, on a free port with {@code data} as its data directory. */
    static ProjectConfig load(Path project, Path data) throws Exception {
        return ProjectLoader.load(project, s -> s.withPort(0).withDataDir(data));
    }

    /**
     * Serves {@code src/test/resources/<dir>}: the project itself, or, when {@code workers} are
     * named, each of those subdirectories as one worker of the node.
     */
    static Node serve(Path data, String dir, String... workers) throws Exception {
        return serve(data, UnaryOperator.identity(), dir, workers);
    }

    /** As {@link #serve(Path, String, String...)}, with the sandboxes' settings changed by {@code sandboxes}. */
    static Node serve(Path data, UnaryOperator<SandboxSettings> sandboxes, String dir, String... workers) throws Exception {
        UnaryOperator<Settings> settings = s -> s.withPort(0).withDataDir(data).withSandboxes(sandboxes.apply(s.sandboxes()));
        if (workers.length == 0) return Node.serve(ProjectLoader.load(resource(dir), settings));
        List<ProjectConfig> projects = new ArrayList<>();
        for (String w : workers) projects.add(ProjectLoader.load(resource(dir).resolve(w), settings));
        return Node.serve(projects);
    }

    /** A request for {@code path} on the node (a 90 s timeout: sandboxes start cold in tests). */
    static HttpRequest.Builder request(Node node, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path)).timeout(Duration.ofSeconds(90));
    }

    /** GET {@code path} on the node with {@code Host: host} (null: none): its body, after asserting a 200. */
    static String ok(Node node, String host, String path) throws Exception {
        HttpRequest.Builder request = request(node, path);
        if (host != null) request.header("Host", host);
        HttpResponse<String> r = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }
}
