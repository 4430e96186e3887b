package dev.bulwark.server.config;

import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The worker bundle of a project: the main module and every file under the base directory that a
 * module rule types, named by its path relative to the base directory. The walk skips
 * {@code node_modules}, dot-files and dot-directories, the data directory, configuration files and
 * symbolic links (with a warning, when a rule would have typed them). The code-size limit is checked
 * on the files' sizes before any is read.
 */
final class BundleCollector {

    private static final Set<String> CONFIG_FILES = Set.of(
            "wrangler.jsonc", "wrangler.json", "wrangler.toml", SettingsReader.BULWARK_TOML);
    private static final Set<String> NEEDS_BUILD = Set.of("ts", "tsx", "mts", "cts", "jsx");
    private static final int LARGEST_SHOWN = 3;

    private record Candidate(String name, Path path, ModuleType type, long size) {
    }

    private final String file;
    private final Path baseDir;
    private final ModuleRules rules;
    private final Path dataDir;
    private final Warnings warnings;

    private BundleCollector(String file, Path baseDir, ModuleRules rules, Path dataDir, Warnings warnings) {
        this.file = file;
        this.baseDir = baseDir;
        this.rules = rules;
        this.dataDir = realIfExists(dataDir);
        this.warnings = warnings;
    }

    /**
     * @param file       the wrangler file's name, for messages
     * @param baseDir    the base directory, a real path
     * @param main       the main module, a real path inside {@code baseDir}
     * @param codeLimit  limits.code_bytes
     */
    static WorkerBundle collect(String file, Path baseDir, Path main, ModuleRules rules, Path dataDir, long codeLimit,
                                Warnings warnings) throws ConfigException {
        return new BundleCollector(file, baseDir, rules, dataDir, warnings).collect(main, codeLimit);
    }

    private WorkerBundle collect(Path main, long codeLimit) throws ConfigException {
        String mainName = nameOf(main);
        checkMainType(mainName);
        List<Candidate> candidates = new ArrayList<>();
        candidates.add(new Candidate(mainName, main, ModuleType.JS, size(main)));
        walk(mainName, candidates);
        candidates.subList(1, candidates.size()).sort(Comparator.comparing(Candidate::name));
        checkCodeSize(candidates, candidates.stream().mapToLong(Candidate::size).sum(), codeLimit);

        List<WorkerModule> modules = new ArrayList<>(candidates.size());
        for (Candidate c : candidates) {
            try {
                modules.add(new WorkerModule(c.name(), c.type(), Files.readAllBytes(c.path())));
            } catch (IOException e) {
                throw new ConfigException(file + ": cannot read module " + c.name() + ": " + e, e);
            }
        }
        WorkerBundle bundle = WorkerBundle.of(mainName, modules);
        checkCodeSize(candidates, bundle.codeSize(), codeLimit);   // files may have grown while read
        return bundle;
    }

    private void checkMainType(String mainName) throws ConfigException {
        Optional<ModuleType> type = rules.typeOf(mainName);
        if (type.isPresent() && type.get() != ModuleType.JS) {
            throw new ConfigException(file + ": main '" + mainName + "' must be an ES module, but the module rules make it "
                    + type.get().wireName());
        }
        String extension = mainName.substring(mainName.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        if (type.isEmpty() && NEEDS_BUILD.contains(extension)) {
            throw new ConfigException(file + ": main '" + mainName + "' needs a build step (." + extension
                    + "); Bulwark runs JavaScript modules as they are: build the worker and point main at the output");
        }
    }

    private void walk(String mainName, List<Candidate> into) throws ConfigException {
        try {
            Files.walkFileTree(baseDir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (dir.equals(baseDir)) return FileVisitResult.CONTINUE;
                    String name = dir.getFileName().toString();
                    boolean skip = name.startsWith(".") || name.equals("node_modules") || dir.equals(dataDir);
                    return skip ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path path, BasicFileAttributes attrs) throws IOException {
                    String fileName = path.getFileName().toString();
                    if (fileName.startsWith(".") || CONFIG_FILES.contains(fileName)) return FileVisitResult.CONTINUE;
                    String name = nameOf(path);
                    if (name.equals(mainName)) return FileVisitResult.CONTINUE;
                    Optional<ModuleType> type = typeOf(name);
                    if (type.isEmpty()) return FileVisitResult.CONTINUE;
                    if (attrs.isRegularFile()) {
                        into.add(new Candidate(name, path, type.get(), attrs.size()));
                    } else if (attrs.isSymbolicLink()) {
                        warnings.add(file + ": " + name + " is a symbolic link and is not a module; Bulwark does not follow links");
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            if (e.getCause() instanceof ConfigException ce) throw ce;
            throw new ConfigException(file + ": cannot list the modules under " + baseDir + ": " + e, e);
        }
    }

    /** The rules' type for a file, with a ConfigException carried through the file visitor as an IOException's cause. */
    private Optional<ModuleType> typeOf(String name) throws IOException {
        try {
            return rules.typeOf(name);
        } catch (ConfigException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private void checkCodeSize(List<Candidate> candidates, long total, long limit) throws ConfigException {
        if (total <= limit) return;
        String largest = candidates.stream()
                .sorted(Comparator.comparingLong(Candidate::size).reversed())
                .limit(LARGEST_SHOWN)
                .map(c -> c.name() + " (" + bytes(c.size()) + ")")
                .collect(Collectors.joining(", "));
        throw new ConfigException(file + ": the worker's modules total " + bytes(total) + ", over limits.code_bytes of "
                + bytes(limit) + "; the largest: " + largest);
    }

    private String nameOf(Path path) {
        Path relative = baseDir.relativize(path);
        List<String> parts = new ArrayList<>();
        for (Path part : relative) parts.add(part.toString());
        return String.join("/", parts);
    }

    private long size(Path path) throws ConfigException {
        try {
            return Files.size(path);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read " + path + ": " + e, e);
        }
    }

    /** The walk sees real paths; so must the comparison with the data directory. */
    private static Path realIfExists(Path path) {
        try {
            return Files.exists(path) ? path.toRealPath() : path;
        } catch (IOException e) {
            return path;
        }
    }

    static String bytes(long n) {
        if (n < 1024) return n + " bytes";
        double mib = n / (1024.0 * 1024.0);
        String human = mib >= 1 ? String.format(Locale.ROOT, "%.1f MiB", mib) : String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        return n + " bytes (" + human + ")";
    }
}
