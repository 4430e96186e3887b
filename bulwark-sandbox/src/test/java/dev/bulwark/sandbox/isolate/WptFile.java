package dev.bulwark.sandbox.isolate;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One web-platform-tests file and what its {@code // META:} lines ask for: the scripts to run
 * before it ({@code script=}, relative to the file or absolute from the WPT root), a long timeout
 * ({@code timeout=long}) and the globals it runs in ({@code global=}).
 *
 * @param path    the file's path from the WPT root, e.g. {@code url/url-constructor.any.js}
 * @param source  its text
 * @param scripts WPT paths of the included scripts, in order
 * @param longTimeout whether it asked for WPT's long timeout
 * @param workerScope whether it runs in a worker scope (Bulwark's global is a worker's)
 */
record WptFile(String path, String source, List<String> scripts, boolean longTimeout, boolean workerScope) {
    private static final Pattern META = Pattern.compile("^//\\s*META:\\s*(\\w+)=(.*)$", Pattern.MULTILINE);
    /** Quoted .json names in a test: data files it fetch()es, served from the bundle. */
    private static final Pattern JSON_NAME = Pattern.compile("[\"'`]([\\w./-]+\\.json)[\"'`]");

    static WptFile parse(String path, String source) {
        List<String> scripts = new ArrayList<>();
        boolean longTimeout = false;
        // WPT's default for .any.js is "window,dedicatedworker"; .window.js files are window-only.
        String globals = path.endsWith(".window.js") ? "window" : "window,dedicatedworker";
        Matcher m = META.matcher(source);
        while (m.find()) {
            String key = m.group(1);
            String value = m.group(2).trim();
            switch (key) {
                case "script" -> scripts.add(resolve(path, value));
                case "timeout" -> longTimeout = value.equals("long");
                case "global" -> globals = value;
                default -> { } // title, variant, ...: nothing to do here
            }
        }
        boolean worker = false;
        for (String g : globals.split(",")) {
            String s = g.trim();
            if (s.equals("worker") || s.equals("dedicatedworker") || s.equals("sharedworker")
                    || s.equals("serviceworker") || s.equals("dedicatedworker-module")) {
                worker = true;
            }
        }
        return new WptFile(path, source, List.copyOf(scripts), longTimeout, worker);
    }

    /** The WPT paths of .json files this test may fetch (those that exist are served). */
    List<String> dataFiles() {
        List<String> out = new ArrayList<>();
        Matcher m = JSON_NAME.matcher(source);
        while (m.find()) {
            String r = resolve(path, m.group(1));
            if (!out.contains(r)) out.add(r);
        }
        return out;
    }

    /** The directory a file is reported under: its own directory. */
    String directory() {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    static String resolve(String from, String reference) {
        if (reference.startsWith("/")) return normalize(reference.substring(1));
        int slash = from.lastIndexOf('/');
        return normalize((slash < 0 ? "" : from.substring(0, slash + 1)) + reference);
    }

    private static String normalize(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty() || p.equals(".")) continue;
            if (p.equals("..")) {
                if (!parts.isEmpty()) parts.removeLast();
            } else {
                parts.add(p);
            }
        }
        return String.join("/", parts);
    }
}
