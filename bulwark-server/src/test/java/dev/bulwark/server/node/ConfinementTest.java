package dev.bulwark.server.node;

import dev.bulwark.sandbox.worker.Limits;
import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.Reader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A sandbox seen from the inside: a probe run in the sandbox JVM before it takes any work tries the
 * node's network, another tenant's files and the node's secrets, and lists the processes it can see.
 * Skipped (saying why) where the kernel refuses namespaces; on the project's machines, as root, it runs.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConfinementTest {
    @TempDir
    static Path data;
    static Node node;
    static ServerSocket listener;
    static Path probeOut;
    static Path otherTenantFile;
    static final boolean NODE_IS_ROOT = "root".equals(System.getProperty("user.name"));

    @BeforeAll
    static void start() throws Exception {
        Confinement here = Confinement.detect(SandboxSettings.Confine.AUTO, "bulwark-probe-" + ProcessHandle.current().pid());
        here.close();
        Assumptions.assumeTrue(here.protections().stream().filter(p -> p.name().endsWith("namespace"))
                        .allMatch(Confinement.Protection::applied),
                () -> "this kernel refuses the sandbox namespaces: " + here.protections());
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.startVirtualThread(() -> {
            while (!listener.isClosed()) {
                try {
                    listener.accept().close();
                } catch (Exception e) {
                    return;
                }
            }
        });
        otherTenantFile = data.resolve("tenants").resolve(TenantNames.directoryName("beta")).resolve("secret.sqlite");
        Files.createDirectories(otherTenantFile.getParent());
        Files.writeString(otherTenantFile, "beta's data");
        probeOut = data.resolve("tenants").resolve(TenantNames.directoryName("alpha")).resolve("probe.properties");
        List<String> jvm = List.of("-Dbulwark.sandbox.probe=" + ConfinementProbe.class.getName(),
                "-Dbulwark.probe.tcp=127.0.0.1:" + listener.getLocalPort(),
                "-Dbulwark.probe.read=" + otherTenantFile + "," + data.resolve("admin.token") + ","
                        + data.resolve("namespace.secret") + ",/etc/hostname",
                "-Dbulwark.probe.out=" + probeOut);
        Settings settings = Settings.of(data, "alpha").withPort(0)
                .withSandboxes(SandboxSettings.DEFAULTS.withPoolSize(1).withJvmOptions(jvm).withDynamicWorkersMax(10)
                        .withConfine(here.complete() ? SandboxSettings.Confine.REQUIRE : SandboxSettings.Confine.AUTO));
        node = Node.start(settings);
        assertThat(node.deploy(new DeployedWorker("probe", "alpha", NodeTest.bundle(
                "export default { fetch() { return new Response('confined'); } };"), "{}", Limits.DEFAULTS))).isNull();
    }

    @AfterAll
    static void stop() throws Exception {
        if (node != null) node.close();
        if (listener != null) listener.close();
    }

    static Properties probe() throws Exception {
        await().atMost(java.time.Duration.ofSeconds(30)).until(() -> Files.exists(probeOut));
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(probeOut)) {
            p.load(r);
        }
        return p;
    }

    @Test
    void requireRefusesToStartANodeThatCannotApplyEveryProtection() {
        // Confinement turned off stands for a machine that allows none of it.
        Confinement none = Confinement.detect(SandboxSettings.Confine.OFF, "bulwark-test-none");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Node.refuseIfIncomplete(SandboxSettings.Confine.REQUIRE, none))
                .isInstanceOf(java.io.IOException.class)
                .hasMessage("sandboxes.confine is \"require\" but this machine cannot apply: network namespace, mount namespace,"
                        + " pid namespace, unprivileged user, memory cgroup, pids limit, seccomp filter");
    }

    @Test
    void sandboxesRunInAMemoryCgroupAndAPidsLimit() throws Exception {
        Confinement here = Confinement.detect(SandboxSettings.Confine.AUTO, "bulwark-probe-cg-" + ProcessHandle.current().pid());
        here.close();
        Assumptions.assumeTrue(here.protections().stream().filter(p -> p.name().equals("memory cgroup"))
                .allMatch(Confinement.Protection::applied), () -> "no memory cgroup here: " + here.protections());
        probe(); // the sandbox is up
        // The node's group: bulwark-<pid>, or bulwark-<n>-<pid> for the n-th node of this JVM.
        java.util.regex.Pattern nodeGroup = java.util.regex.Pattern.compile("/bulwark-(\\d+-)?" + ProcessHandle.current().pid() + "/");
        // Seen from the node's side: every process of the sandbox (the wrapper and the JVM) is in a cgroup of this node.
        List<String> groups = ProcessHandle.current().descendants()
                .map(h -> Path.of("/proc", Long.toString(h.pid()), "cgroup"))
                .<String>flatMap(f -> {
                    try {
                        return Files.readAllLines(f).stream();
                    } catch (java.io.IOException gone) {
                        return java.util.stream.Stream.<String>empty();
                    }
                })
                .filter(l -> nodeGroup.matcher(l).find()).toList();
        assertThat(groups).as("the sandboxes' cgroups").isNotEmpty();
        String[] parts = groups.getFirst().split(":", 3); // "9:memory:/path" (v1) or "0::/path" (v2)
        boolean v1 = Files.isRegularFile(Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
        Path memory = v1 ? Path.of("/sys/fs/cgroup/memory" + memoryPath(groups)) : Path.of("/sys/fs/cgroup" + parts[2]);
        Path pids = v1 ? Path.of("/sys/fs/cgroup/pids" + pidsPath(groups)) : memory;
        long ceilingMb = 1024; // sandboxes.rss_ceiling_mb of this node
        assertThat(Files.readString(memory.resolve(v1 ? "memory.limit_in_bytes" : "memory.max")).trim())
                .isEqualTo(Long.toString((ceilingMb + 64) << 20));
        assertThat(Files.readString(pids.resolve("pids.max")).trim()).isEqualTo("512");
    }

    private static String memoryPath(List<String> groups) {
        return groups.stream().filter(l -> l.split(":", 3)[1].contains("memory")).findFirst().orElseThrow().split(":", 3)[2];
    }

    private static String pidsPath(List<String> groups) {
        return groups.stream().filter(l -> l.split(":", 3)[1].equals("pids")).findFirst().orElseThrow().split(":", 3)[2];
    }

    @Test
    void theSandboxStillServesRequests() throws Exception {
        var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + node.port() + "/")).header("Host", "probe").build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("confined");
    }

    @Test
    void noNetwork() throws Exception {
        Properties p = probe();
        assertThat(p.getProperty("tcp")).startsWith("refused");
        // Its own network namespace: the loopback interface only (and it is down).
        assertThat(p.getProperty("interfaces")).isEqualTo("lo");
    }

    @Test
    void noForeignFiles() throws Exception {
        Properties p = probe();
        assertThat(p.getProperty("read.0")).isEqualTo(otherTenantFile + " -> denied: NoSuchFileException");
        assertThat(p.getProperty("read.1")).isEqualTo(data.resolve("admin.token") + " -> denied: NoSuchFileException");
        assertThat(p.getProperty("read.2")).isEqualTo(data.resolve("namespace.secret") + " -> denied: NoSuchFileException");
        assertThat(p.getProperty("read.3")).isEqualTo("/etc/hostname -> denied: NoSuchFileException");
        assertThat(Files.readString(otherTenantFile)).isEqualTo("beta's data");
    }

    @Test
    void itsRootHoldsOnlyItsViewAndItsClassPathIsReadOnly() throws Exception {
        Properties p = probe();
        // The table its view's bind mounts were made from (MountScript) was removed before it ran.
        assertThat(p.getProperty("root").split(",")).doesNotContain(MountScript.BIND_TABLE)
                .contains("usr", "proc", "dev", "tmp");
        int entries = System.getProperty("java.class.path").split(java.io.File.pathSeparator).length;
        assertThat(p.getProperty("classPathReadOnly")).isEqualTo(entries + "/" + entries);
    }

    @Test
    void cannotSeeTheNodesProcess() throws Exception {
        Properties p = probe();
        // Only the namespace's init (the shell that set its view up and waits for the JVM) and itself.
        assertThat(p.getProperty("pids")).isEqualTo("1," + p.getProperty("self"));
        assertThat(p.getProperty("init")).isEqualTo("/usr/bin/sh");
    }

    @Test
    void runsWithoutPrivilegeUnderSeccomp() throws Exception {
        Properties p = probe();
        assertThat(p.getProperty("status")).contains("CapEff: 0000000000000000").contains("CapBnd: 0000000000000000")
                .contains("NoNewPrivs: 1").contains("Seccomp: 2");
        // As root the sandbox runs as its tenant's uid; as an ordinary user, as root of its own user namespace.
        String uid = Integer.toString(NODE_IS_ROOT ? Confinement.uidOf(TenantNames.directoryName("alpha")) : 0);
        assertThat(p.getProperty("status")).contains("Uid: " + uid + " " + uid + " " + uid + " " + uid);
        // Sockets other than Unix ones are refused by the filter before the namespace is even asked.
        assertThat(p.getProperty("tcp")).contains("Address family not supported");
    }
}
