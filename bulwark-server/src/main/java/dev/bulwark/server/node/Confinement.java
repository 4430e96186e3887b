package dev.bulwark.server.node;

import dev.bulwark.server.config.SandboxSettings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * How the node confines its sandboxes with the OS, decided once at start-up: its own network, mount,
 * pid (and IPC, UTS) namespaces, an unprivileged user without capabilities, a memory cgroup and a
 * pids limit, and a seccomp filter the sandbox installs on itself. The tools are util-linux's
 * ({@code unshare}, {@code mount}, {@code pivot_root}, {@code setpriv}), present on every Debian
 * system; as root the namespaces are plain ones and the sandbox drops to its tenant's uid, as an
 * ordinary user they sit in an unprivileged user namespace. Whatever cannot be applied is reported
 * ({@link #protections()}), never silently skipped.
 */
public final class Confinement {
    /** First uid (and gid) of sandboxes when the node runs as root; each tenant gets its own. */
    static final int UID_BASE = 1_900_000_000;
    private static final List<String> TOOL_DIRS = List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin");

    /** How sandboxes are started. */
    sealed interface Kind {
        /** Namespaces as root, then a per-tenant uid without capabilities. */
        record Root(Tools tools) implements Kind {}

        /** An unprivileged user namespace (the node is an ordinary user). */
        record UserNamespace(Tools tools) implements Kind {}

        /** Plain child processes. */
        record Plain() implements Kind {}
    }

    /** Absolute paths of the util-linux tools the launcher runs. */
    record Tools(String sh, String unshare, String mount, String umount, String pivotRoot, String setpriv) {}

    /** One protection, applied or not, with how (or why not). */
    public record Protection(String name, boolean applied, String detail) {
        /** The start-up log line. */
        public String line() {
            return "sandbox confinement: " + name + ": " + (applied ? "applied (" : "NOT applied (") + detail + ")";
        }
    }

    private final Kind kind;
    private final Cgroups cgroups;
    private final boolean seccomp;
    private final List<Protection> protections;

    private Confinement(Kind kind, Cgroups cgroups, boolean seccomp, List<Protection> protections) {
        this.kind = kind;
        this.cgroups = cgroups;
        this.seccomp = seccomp;
        this.protections = List.copyOf(protections);
    }

    /**
     * Finds out what this machine allows (by trying it) and, for cgroups, sets the node's up.
     *
     * @param nodeName names the node's cgroup directories (one node per name)
     */
    public static Confinement detect(SandboxSettings.Confine mode, String nodeName) {
        List<Protection> p = new ArrayList<>();
        if (mode == SandboxSettings.Confine.OFF) {
            for (String name : NAMES) p.add(new Protection(name, false, "sandboxes.confine is \"off\""));
            return new Confinement(new Kind.Plain(), null, false, p);
        }
        boolean root = isRoot();
        Optional<Tools> tools = tools();
        Kind kind = new Kind.Plain();
        String why;
        if (tools.isEmpty()) {
            why = "util-linux's unshare, mount, umount, pivot_root or setpriv is missing";
        } else if (root && works(tools.get(), List.of())) {
            kind = new Kind.Root(tools.get());
            why = "unshare as root";
        } else if (works(tools.get(), List.of("--user", "--map-root-user"))) {
            kind = new Kind.UserNamespace(tools.get());
            why = "unshare in an unprivileged user namespace";
        } else {
            why = root ? "the kernel refused to create namespaces (a container without privileges?)"
                    : "the kernel refused an unprivileged user namespace (kernel.unprivileged_userns_clone"
                    + " or user.max_user_namespaces)";
        }
        boolean namespaces = !(kind instanceof Kind.Plain);
        p.add(new Protection(NAMES.get(0), namespaces, namespaces ? why + "; only the loopback interface, down; the"
                + " node's Unix socket is its one channel" : why));
        p.add(new Protection(NAMES.get(1), namespaces, namespaces ? why + "; a new root with the OS's /usr, the JDK,"
                + " Bulwark's jars and the V8 library read-only, its tenant's data directory writable, a private /tmp"
                : why));
        p.add(new Protection(NAMES.get(2), namespaces, namespaces ? why + "; the sandbox sees only itself and the"
                + " shell that set its view up" : why));
        p.add(new Protection(NAMES.get(3), namespaces, switch (kind) {
            case Kind.Root r -> "a uid of its own per tenant (from " + UID_BASE + "), no capabilities, no_new_privs";
            case Kind.UserNamespace u -> "root of its own user namespace (the node's uid outside), no capabilities,"
                    + " no_new_privs";
            case Kind.Plain pl -> why;
        }));
        Cgroups cgroups = null;
        String cgroupWhy;
        if (!namespaces) {
            cgroupWhy = "sandboxes are not confined: " + why;
        } else {
            try {
                cgroups = Cgroups.create(nodeName);
                cgroupWhy = cgroups.how();
            } catch (IOException | RuntimeException e) {
                String m = e instanceof java.nio.file.AccessDeniedException ? "permission denied on " + e.getMessage()
                        : e.getMessage();
                cgroupWhy = (root ? "" : "the node is not root: ") + m;
            }
        }
        p.add(new Protection(NAMES.get(4), cgroups != null, cgroups != null
                ? cgroupWhy + "; limit = sandboxes.rss_ceiling_mb + 64 MiB" : cgroupWhy));
        p.add(new Protection(NAMES.get(5), cgroups != null, cgroups != null
                ? "at most " + Cgroups.PIDS_MAX + " threads and processes" : cgroupWhy));
        String seccompWhy = seccompUnsupported();
        boolean seccomp = seccompWhy == null;
        p.add(new Protection(NAMES.get(6), seccomp, seccomp ? "installed by the sandbox on all its threads before it"
                + " runs any JavaScript: no sockets but Unix ones, no namespaces, mounts, ptrace, bpf, io_uring,"
                + " keyrings or kernel modules" : seccompWhy));
        return new Confinement(kind, cgroups, seccomp, p);
    }

    static final List<String> NAMES = List.of("network namespace", "mount namespace", "pid namespace",
            "unprivileged user", "memory cgroup", "pids limit", "seccomp filter");

    /** Every protection, applied or not, in a fixed order. */
    public List<Protection> protections() {
        return protections;
    }

    /** Whether every protection is applied. */
    public boolean complete() {
        return protections.stream().allMatch(Protection::applied);
    }

    boolean seccomp() {
        return seccomp;
    }

    /** Whether sandboxes are started in namespaces (so their directories must be prepared). */
    boolean confined() {
        return !(kind instanceof Kind.Plain);
    }

    /**
     * The command that starts {@code java} confined, with the files it may see.
     *
     * @param view what the sandbox sees (its directories are made its own here)
     */
    List<String> command(String sandbox, List<String> java, SandboxView view, long memoryBytes) throws IOException {
        return switch (kind) {
            case Kind.Plain p -> java;
            case Kind.Root r -> {
                int uid = uidOf(view.tenantDirName());
                view.ownBy(uid);
                List<String> cmd = new ArrayList<>();
                if (cgroups != null) cmd.addAll(joinCgroups(r.tools(), cgroups.prepare(sandbox, memoryBytes)));
                cmd.addAll(unshare(r.tools(), List.of()));
                cmd.addAll(MountScript.command(r.tools(), view, List.of("--reuid=" + uid, "--regid=" + uid,
                        "--clear-groups")));
                cmd.addAll(java);
                yield cmd;
            }
            case Kind.UserNamespace u -> {
                List<String> cmd = new ArrayList<>();
                if (cgroups != null) cmd.addAll(joinCgroups(u.tools(), cgroups.prepare(sandbox, memoryBytes)));
                cmd.addAll(unshare(u.tools(), List.of("--user", "--map-root-user")));
                cmd.addAll(MountScript.command(u.tools(), view, List.of()));
                cmd.addAll(java);
                yield cmd;
            }
        };
    }

    /** Forgets a sandbox that is gone. */
    void release(String sandbox) {
        if (cgroups != null) cgroups.release(sandbox);
    }

    public void close() {
        if (cgroups != null) cgroups.close();
    }

    /** A stable uid per tenant directory, so its files keep their owner across sandboxes. */
    static int uidOf(String tenantDirName) {
        return UID_BASE + Math.floorMod(tenantDirName.hashCode(), 100_000_000);
    }

    private static List<String> unshare(Tools t, List<String> extra) {
        List<String> cmd = new ArrayList<>(List.of(t.unshare()));
        cmd.addAll(extra);
        // --kill-child: when the node kills this process, its namespace's pid 1 and so the sandbox die too.
        cmd.addAll(List.of("--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
                "--propagation", "private"));
        return cmd;
    }

    private static List<String> joinCgroups(Tools t, List<Path> procs) {
        StringBuilder script = new StringBuilder("set -e\n");
        for (Path p : procs) script.append("echo 0 > ").append(MountScript.quote(p.toString())).append('\n');
        script.append("exec \"$@\"\n");
        return List.of(t.sh(), "-c", script.toString(), "sh");
    }

    private static boolean works(Tools t, List<String> extra) {
        List<String> cmd = new ArrayList<>(unshare(t, extra));
        String yes = find("true");
        if (yes == null) return false;
        cmd.add(yes);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static Optional<Tools> tools() {
        String sh = find("sh");
        String unshare = find("unshare");
        String mount = find("mount");
        String umount = find("umount");
        String pivotRoot = find("pivot_root");
        String setpriv = find("setpriv");
        if (sh == null || unshare == null || mount == null || umount == null || pivotRoot == null || setpriv == null) {
            return Optional.empty();
        }
        return Optional.of(new Tools(sh, unshare, mount, umount, pivotRoot, setpriv));
    }

    private static String find(String tool) {
        for (String dir : TOOL_DIRS) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    /** Why the sandbox could not install its seccomp filter here, or null if it can. */
    private static String seccompUnsupported() {
        String arch = System.getProperty("os.arch");
        if (!arch.equals("amd64") && !arch.equals("x86_64")) {
            return "the sandbox's filter knows x86-64 system calls only, this is " + arch;
        }
        try {
            if (Files.readAllLines(Path.of("/proc/self/status")).stream().noneMatch(l -> l.startsWith("Seccomp:"))) {
                return "the kernel has no seccomp";
            }
        } catch (IOException e) {
            return "not Linux";
        }
        return null;
    }

    private static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return line.split("\\s+")[2].equals("0");
            }
        } catch (IOException e) {
            // not Linux
        }
        return false;
    }
}
