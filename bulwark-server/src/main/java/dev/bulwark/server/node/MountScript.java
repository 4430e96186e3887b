package dev.bulwark.server.node;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shell script that runs as pid 1 of a new sandbox's namespaces: it builds the sandbox's root
 * on a small tmpfs (bind mounts of its {@link SandboxView}, a fresh /proc of its pid namespace,
 * /dev/null, /dev/zero, /dev/random, /dev/urandom, a private /tmp), makes that the root with
 * pivot_root, detaches the node's, remounts the new root read-only, and execs the JVM through
 * setpriv with no capabilities, no_new_privs and (as root) the tenant's uid.
 */
final class MountScript {
    private MountScript() {}

    /** {@code sh -c SCRIPT sh setpriv ... --}; the java command line follows. */
    static List<String> command(Confinement.Tools t, SandboxView view, List<String> user) {
        StringBuilder s = new StringBuilder();
        s.append("set -e\n");
        String r = quote(view.root().toString());
        line(s, "mkdir -p " + r);
        line(s, t.mount() + " -t tmpfs -o mode=755,size=4m,nosuid,nodev bulwark-root " + r);
        for (String top : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
            Path p = Path.of("/", top);
            if (Files.isSymbolicLink(p)) {
                try {
                    line(s, "ln -s " + quote(Files.readSymbolicLink(p).toString()) + " " + r + "/" + top);
                } catch (java.io.IOException e) {
                    // unreadable link: leave it out
                }
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                bind(s, t, p, view, true);
            }
        }
        line(s, "mkdir -p " + r + "/proc " + r + "/dev " + r + "/tmp");
        line(s, t.mount() + " -t proc -o nosuid,nodev,noexec proc " + r + "/proc");
        for (String dev : List.of("null", "zero", "random", "urandom")) {
            line(s, "touch " + r + "/dev/" + dev);
            line(s, t.mount() + " --bind /dev/" + dev + " " + r + "/dev/" + dev);
        }
        line(s, t.mount() + " -t tmpfs -o mode=1777,size=64m,nosuid,nodev bulwark-tmp " + r + "/tmp");
        for (Path p : view.readOnly()) bind(s, t, p, view, true);
        bind(s, t, view.tenantData(), view, false);
        bind(s, t, view.tmp(), view, false);
        bind(s, t, view.socketDir(), view, false);
        line(s, "cd " + r);
        line(s, "mkdir .old");
        line(s, t.pivotRoot() + " . .old");
        line(s, "cd /");
        line(s, t.umount() + " -l /.old");
        line(s, "rmdir /.old");
        line(s, t.mount() + " -o remount,bind,ro /");
        line(s, "cd " + quote(view.tmp().toString()));
        s.append("exec \"$@\"\n");
        List<String> cmd = new ArrayList<>(List.of(t.sh(), "-c", s.toString(), "sh", t.setpriv()));
        cmd.addAll(user);
        // --pdeathsig keep: changing the uid clears the parent-death signal unshare --kill-child set.
        cmd.addAll(List.of("--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--pdeathsig", "keep", "--"));
        return cmd;
    }

    private static void bind(StringBuilder s, Confinement.Tools t, Path p, SandboxView view, boolean readOnly) {
        String target = quote(view.root() + p.toString());
        if (Files.isDirectory(p)) {
            line(s, "mkdir -p " + target);
        } else {
            line(s, "mkdir -p " + quote(view.root() + p.getParent().toString()));
            line(s, "touch " + target);
        }
        line(s, t.mount() + " --bind " + (readOnly ? "-o ro " : "") + quote(p.toString()) + " " + target);
    }

    private static void line(StringBuilder s, String line) {
        s.append(line).append('\n');
    }

    /** A single-quoted shell word. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
