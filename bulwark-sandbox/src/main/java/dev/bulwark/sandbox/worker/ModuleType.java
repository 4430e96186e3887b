package dev.bulwark.sandbox.worker;

/** The module types of a Workers bundle (workerd's names in comments). */
public enum ModuleType {
    /** An ES module ({@code esModule}). */
    JS,
    /** A CommonJS module ({@code commonJsModule}); not yet supported by the isolate host. */
    CJS,
    /** A string ({@code text}): the module's default export. */
    TEXT,
    /** Bytes ({@code data}): an ArrayBuffer as the default export. */
    DATA,
    /** JSON ({@code json}): the parsed value as the default export. */
    JSON,
    /** A WebAssembly module ({@code wasm}): a compiled {@code WebAssembly.Module} as the default export. */
    WASM;

    /** The lower-case name used in WorkerCode ({@code js}, {@code text}, ...). */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static ModuleType fromWireName(String name) {
        for (ModuleType t : values()) {
            if (t.wireName().equals(name)) return t;
        }
        throw new IllegalArgumentException("unknown module type: " + name);
    }
}
