package dev.bulwark.server.node;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Runs inside a sandbox at start-up (SandboxMain's test hook, named by the system property
 * {@code bulwark.sandbox.probe}) and writes what it could reach to {@code bulwark.probe.out}:
 * a TCP listener of the node's network, files outside its view, the processes it can see.
 */
public final class ConfinementProbe implements Runnable {
    @Override
    public void run() {
        Properties out = new Properties();
        String[] tcp = System.getProperty("bulwark.probe.tcp").split(":");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(tcp[0], Integer.parseInt(tcp[1])), 2000);
            out.setProperty("tcp", "connected");
        } catch (IOException | RuntimeException e) {
            out.setProperty("tcp", "refused: " + e);
        }
        out.setProperty("interfaces", String.join(",", interfaces()));
        int i = 0;
        for (String path : System.getProperty("bulwark.probe.read").split(",")) {
            out.setProperty("read." + i++, path + " -> " + read(Path.of(path)));
        }
        List<String> pids = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            dirs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .sorted(java.util.Comparator.comparingLong(Long::parseLong)).forEach(pids::add);
        } catch (IOException e) {
            pids.add("error: " + e);
        }
        out.setProperty("pids", String.join(",", pids));
        out.setProperty("self", Long.toString(ProcessHandle.current().pid()));
        try {
            out.setProperty("init", Files.readString(Path.of("/proc/1/cmdline")).split("\0")[0]);
        } catch (IOException e) {
            out.setProperty("init", "error: " + e);
        }
        out.setProperty("status", status());
        try (var top = Files.list(Path.of("/"))) {
            out.setProperty("root", String.join(",", top.map(p -> p.getFileName().toString()).sorted().toList()));
        } catch (IOException e) {
            out.setProperty("root", "error: " + e);
        }
        out.setProperty("classPathReadOnly", classPathReadOnly());
        try (var w = Files.newBufferedWriter(Path.of(System.getProperty("bulwark.probe.out")))) {
            out.store(w, "confinement probe");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * "n/m": how many of the m class path entries sit on a read-only mount (the one with the longest
     * mount point that holds the entry, from /proc/self/mountinfo).
     */
    private static String classPathReadOnly() {
        java.util.Map<String, String> options = new java.util.HashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                options.put(f[4].replace("\\040", " "), f[5]);
            }
        } catch (IOException e) {
            return "error: " + e;
        }
        int readOnly = 0;
        String[] entries = System.getProperty("java.class.path").split(java.io.File.pathSeparator);
        for (String entry : entries) {
            String best = null;
            for (String point : options.keySet()) {
                if ((entry.equals(point) || entry.startsWith(point.endsWith("/") ? point : point + "/"))
                        && (best == null || point.length() > best.length())) best = point;
            }
            if (best != null && java.util.Arrays.asList(options.get(best).split(",")).contains("ro")) readOnly++;
        }
        return readOnly + "/" + entries.length;
    }

    private static List<String> interfaces() {
        List<String> names = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/dev"))) {
                int colon = line.indexOf(':');
                if (colon > 0 && !line.contains("|")) names.add(line.substring(0, colon).trim());
            }
        } catch (IOException e) {
            names.add("error: " + e);
        }
        return names;
    }

    private static String read(Path p) {
        try {
            return "read " + Files.readAllBytes(p).length + " bytes";
        } catch (IOException | RuntimeException e) {
            return "denied: " + e.getClass().getSimpleName();
        }
    }

    /** Uid, capabilities and seccomp mode from /proc/self/status. */
    private static String status() {
        try {
            return String.join(";", Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:") || l.startsWith("CapEff:") || l.startsWith("CapBnd:")
                            || l.startsWith("Seccomp:") || l.startsWith("NoNewPrivs:"))
                    .map(l -> l.replaceAll("\\s+", " ")).toList());
        } catch (IOException e) {
            return "error: " + e;
        }
    }
}
