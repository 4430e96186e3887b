package dev.bulwark.server.governance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The Cedar policy files tool calls are decided by, with the operator's version label, and the
 * SHA-256 over all of them ({@link #hash}) that every envelope and audit record carries: a change of
 * one byte in one file is a different policy set.
 *
 * <p>Each policy may carry {@code @id("...")} (its rule name in denials and the audit trail) and
 * {@code @mode("log-only")} (evaluated and audited, never enforced; the default is {@code enforce}).
 */
public record PolicyBundle(String version, Map<String, String> files, String defaultMode) {
    /** Used when the embedder configured none: every call the envelope's tool ACL allows is permitted. */
    public static final PolicyBundle DEFAULT = new PolicyBundle("builtin-1",
            Map.of("default.cedar", "@id(\"allow-within-acl\")\npermit(principal, action, resource);\n"));

    public PolicyBundle {
        Objects.requireNonNull(version, "version");
        if (version.isBlank() || version.length() > 128) throw new IllegalArgumentException("a policy version is 1 to 128 characters");
        files = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(files));
        if (files.isEmpty()) throw new IllegalArgumentException("a policy bundle has at least one file");
        if (!"enforce".equals(defaultMode) && !"log-only".equals(defaultMode)) {
            throw new IllegalArgumentException("a policy bundle's default mode is \"enforce\" or \"log-only\"");
        }
    }

    /** Rules without {@code @mode} are enforced. */
    public PolicyBundle(String version, Map<String, String> files) {
        this(version, files, "enforce");
    }

    /** This bundle with {@code mode} ({@code enforce} | {@code log-only}) for every rule without {@code @mode}. */
    public PolicyBundle withDefaultMode(String mode) {
        return new PolicyBundle(version, files, mode);
    }

    /** Every {@code *.cedar} file of {@code dir} (not recursive), under {@code version}. */
    public static PolicyBundle fromDirectory(Path dir, String version) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (var paths = Files.newDirectoryStream(dir, "*.cedar")) {
            for (Path p : paths) files.put(p.getFileName().toString(), Files.readString(p));
        }
        return new PolicyBundle(version, files);
    }

    /** SHA-256 over the file names and contents, in name order (and the default mode when it is not enforce), as hex. */
    public String hash() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            if (!defaultMode.equals("enforce")) md.update(("mode:" + defaultMode + "\n").getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, String> e : files.entrySet()) {
                for (String part : new String[] {e.getKey(), e.getValue()}) {
                    byte[] b = part.getBytes(StandardCharsets.UTF_8);
                    md.update(java.nio.ByteBuffer.allocate(8).putLong(b.length).array());
                    md.update(b);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
