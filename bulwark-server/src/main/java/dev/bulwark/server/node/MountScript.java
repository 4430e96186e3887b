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
 * pivot_root, detaches the node's, remounts the new root read-only, and runs the JVM through
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
        List<Bind> binds = new ArrayList<>();
        for (String top : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
            Path p = Path.of("/", top);
            if (Files.isSymbolicLink(p)) {
                try {
                    line(s, "ln -s " + quote(Files.readSymbolicLink(p).toString()) + " " + r + "/" + top);
                } catch (java.io.IOException e) {
                    // unreadable link: leave it out
                }
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                binds.add(new Bind(p, view, true));
            }
        }
        line(s, "mkdir -p " + r + "/proc " + r + "/dev " + r + "/tmp");
        line(s, t.mount() + " -t proc -o nosuid,nodev,noexec proc " + r + "/proc");
        line(s, t.mount() + " -t tmpfs -o mode=1777,size=64m,nosuid,nodev bulwark-tmp " + r + "/tmp");
        for (String dev : List.of("null", "zero", "random", "urandom")) binds.add(new Bind(Path.of("/dev", dev), view, false));
        for (Path p : view.readOnly()) binds.add(new Bind(p, view, true));
        binds.add(new Bind(view.tenantData(), view, false));
        binds.add(new Bind(view.tmp(), view, false));
        binds.add(new Bind(view.socketDir(), view, false));
        // Every mount point first, in one mkdir and one touch (each command is a fork and exec).
        List<String> dirs = new ArrayList<>();
        List<String> files = new ArrayList<>();
        for (Path p : mountPoints(view)) {
            if (Files.isDirectory(p)) {
                dirs.add(quote(view.root() + p.toString()));
            } else {
                dirs.add(quote(view.root() + p.getParent().toString()));
                files.add(quote(view.root() + p.toString()));
            }
        }
        line(s, "mkdir -p " + String.join(" ", dirs));
        if (!files.isEmpty()) line(s, "touch " + String.join(" ", files));
        // Every bind mount by one mount(8), from a table of them (one mount command per bind was one
        // fork and exec each: ~90 with a test's class path, most of a second of a sandbox's start on
        // a loaded machine). The table is written by the shell's builtin printf on the new root's
        // tmpfs and removed before pivot_root; mount --all stops at nothing else than --bind did:
        // a bind that fails makes it exit non-zero, and set -e ends the script (no sandbox starts).
        String table = quote(view.root() + "/" + BIND_TABLE);
        StringBuilder printf = new StringBuilder("printf '%s\\n'");
        for (Bind b : binds) printf.append(' ').append(quote(b.fstabLine()));
        line(s, printf + " > " + table);
        line(s, t.mount() + " --all --fstab " + table);
        line(s, "rm " + table);
        line(s, "cd " + r);
        line(s, "mkdir .old");
        line(s, t.pivotRoot() + " . .old");
        line(s, "cd /");
        line(s, t.umount() + " -l /.old");
        line(s, "rmdir /.old");
        line(s, t.mount() + " -o remount,bind,ro /");
        line(s, "cd " + quote(view.tmp().toString()));
        // Not exec: this shell stays pid 1 and exits with the JVM's status (137 when it was killed),
        // which unshare passes on (util-linux 2.38's unshare turns a child's death by signal into 1).
        s.append("set +e\n\"$@\"\nexit $?\n");
        List<String> cmd = new ArrayList<>(List.of(t.sh(), "-c", s.toString(), "sh", t.setpriv()));
        cmd.addAll(user);
        // --pdeathsig keep: changing the uid clears the parent-death signal unshare --kill-child set.
        cmd.addAll(List.of("--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--pdeathsig", "keep", "--"));
        return cmd;
    }

    /** The file (on the new root's tmpfs, removed before the sandbox runs) that lists the bind mounts. */
    static final String BIND_TABLE = ".bulwark-binds";

    /** A bind mount of {@code source} at the same path under the new root, read-only or not. */
    record Bind(Path source, Path target, boolean readOnly) {
        Bind(Path source, SandboxView view, boolean readOnly) {
            this(source, Path.of(view.root() + source.toString()), readOnly);
        }

        /** Its line of an fstab(5) table, as {@code mount --bind [-o ro] SOURCE TARGET} would mount it. */
        String fstabLine() {
            return fstabField(source.toString()) + " " + fstabField(target.toString()) + " none "
                    + (readOnly ? "bind,ro" : "bind") + " 0 0";
        }
    }

    /** A path as an fstab(5) field: the characters that end or escape a field written in octal. */
    static String fstabField(String path) {
        StringBuilder out = new StringBuilder();
        for (char c : path.toCharArray()) {
            switch (c) {
                case ' ' -> out.append("\\040");
                case '\t' -> out.append("\\011");
                case '\n' -> out.append("\\012");
                case '\\' -> out.append("\\134");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static List<Path> mountPoints(SandboxView view) {
        List<Path> all = new ArrayList<>();
        for (String top : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
            Path p = Path.of("/", top);
            if (!Files.isSymbolicLink(p) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) all.add(p);
        }
        for (String dev : List.of("null", "zero", "random", "urandom")) all.add(Path.of("/dev", dev));
        all.addAll(view.readOnly());
        all.addAll(List.of(view.tenantData(), view.tmp(), view.socketDir()));
        return all;
    }

    private static void line(StringBuilder s, String line) {
        s.append(line).append('\n');
    }

    /** A single-quoted shell word. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
