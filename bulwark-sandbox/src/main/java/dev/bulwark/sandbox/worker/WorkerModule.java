package dev.bulwark.sandbox.worker;

import java.util.Arrays;
import java.util.Objects;

/**
 * One module of a worker bundle: its name (a path relative to the bundle root, with '/'
 * separators, e.g. {@code "src/index.js"}), its type and its content. Text-like modules
 * (js, cjs, text, json) are UTF-8; data and wasm are raw bytes.
 */
public record WorkerModule(String name, ModuleType type, byte[] content) {
    public WorkerModule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(content, "content");
        content = content.clone();
    }

    public static WorkerModule text(String name, ModuleType type, String source) {
        return new WorkerModule(name, type, source.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public byte[] content() {
        return content.clone();
    }

    /** Bytes {@code from} (inclusive) to {@code to} (exclusive) of the content, without copying the rest. */
    public byte[] slice(int from, int to) {
        return Arrays.copyOfRange(content, from, to);
    }

    public String contentAsString() {
        return new String(content, java.nio.charset.StandardCharsets.UTF_8);
    }

    public int size() {
        return content.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WorkerModule m && name.equals(m.name) && type == m.type && Arrays.equals(content, m.content);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(content));
    }

    @Override
    public String toString() {
        return "WorkerModule[" + name + ", " + type.wireName() + ", " + content.length + " bytes]";
    }
}
