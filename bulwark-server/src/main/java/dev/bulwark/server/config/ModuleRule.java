package dev.bulwark.server.config;

import dev.bulwark.sandbox.worker.ModuleType;

import java.util.List;
import java.util.Objects;

/**
 * One module rule: files under the base directory whose relative path matches one of
 * {@code globs} are modules of {@code type}. {@code fallthrough} lets later rules of the same type
 * (including the default rules) still apply; without it the first rule of a type shadows the rest.
 */
public record ModuleRule(ModuleType type, List<String> globs, boolean fallthrough) {
    public ModuleRule {
        Objects.requireNonNull(type, "type");
        globs = List.copyOf(globs);
        if (globs.isEmpty()) throw new IllegalArgumentException("a module rule needs at least one glob");
    }
}
