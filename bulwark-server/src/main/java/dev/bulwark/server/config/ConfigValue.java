package dev.bulwark.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A value read from a configuration file, with the file it came from and its key path
 * ({@code migrations[0].new_sqlite_classes}), so that every typed read can fail with a message
 * naming both. The typed readers never coerce: a string where a number belongs is an error.
 */
record ConfigValue(String file, String path, JsonNode node) {

    private static final int QUOTED_VALUE_MAX = 60;

    static ConfigValue root(String file, JsonNode node) {
        return new ConfigValue(file, "", node);
    }

    /** The value under {@code key}, if the key is present (an explicit null counts as present). */
    Optional<ConfigValue> optional(String key) throws ConfigException {
        requireObject();
        JsonNode child = node.get(key);
        return child == null ? Optional.empty() : Optional.of(new ConfigValue(file, childPath(key), child));
    }

    ConfigValue required(String key) throws ConfigException {
        Optional<ConfigValue> child = optional(key);
        if (child.isEmpty()) throw new ConfigException(file + ": " + childPath(key) + " is required");
        return child.get();
    }

    String string() throws ConfigException {
        if (!node.isTextual()) throw invalid("a string");
        return node.textValue();
    }

    String nonEmptyString() throws ConfigException {
        if (!node.isTextual() || node.textValue().isBlank()) throw invalid("a non-empty string");
        return node.textValue();
    }

    boolean bool() throws ConfigException {
        if (!node.isBoolean()) throw invalid("true or false");
        return node.booleanValue();
    }

    /** An integral number in [min, max]; {@code requirement} describes that range for the message. */
    long integer(long min, long max, String requirement) throws ConfigException {
        if (!node.isIntegralNumber() || !node.canConvertToLong()) throw invalid(requirement);
        long value = node.longValue();
        if (value < min || value > max) throw invalid(requirement);
        return value;
    }

    int integer(int min, int max, String requirement) throws ConfigException {
        return (int) integer((long) min, (long) max, requirement);
    }

    List<ConfigValue> elements() throws ConfigException {
        if (!node.isArray()) throw invalid("an array");
        List<ConfigValue> elements = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            elements.add(new ConfigValue(file, path + "[" + i + "]", node.get(i)));
        }
        return elements;
    }

    /** An array of non-empty strings. */
    List<String> strings() throws ConfigException {
        if (!node.isArray()) throw invalid("an array of strings");
        List<String> strings = new ArrayList<>(node.size());
        for (ConfigValue element : elements()) strings.add(element.nonEmptyString());
        return List.copyOf(strings);
    }

    /** The members of an object (a table in TOML), in file order. */
    Map<String, ConfigValue> members() throws ConfigException {
        requireObject();
        Map<String, ConfigValue> members = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            members.put(e.getKey(), new ConfigValue(file, childPath(e.getKey()), e.getValue()));
        }
        return Collections.unmodifiableMap(members);
    }

    /**
     * Reports each member that is neither {@code known} nor {@code unsupported}: unsupported keys
     * (ones wrangler knows and Bulwark does not implement yet) and unknown keys get distinct warnings.
     */
    void warnUnknownKeys(Set<String> known, Set<String> unsupported, Warnings warnings) throws ConfigException {
        for (String key : members().keySet()) {
            if (known.contains(key)) continue;
            String kind = unsupported.contains(key) ? "unsupported" : "unknown";
            warnings.add(file + ": " + kind + " key '" + childPath(key) + "' is ignored");
        }
    }

    /** "file: path must be {requirement}, got {the value}". */
    ConfigException invalid(String requirement) {
        return new ConfigException(file + ": " + path + " must be " + requirement + ", got " + describe(true));
    }

    /** Like {@link #invalid} but names only the kind of value found, never the value (for secrets). */
    ConfigException invalidRedacted(String requirement) {
        return new ConfigException(file + ": " + path + " must be " + requirement + ", got " + describe(false));
    }

    /** "file: path {message}". */
    ConfigException error(String message) {
        return new ConfigException(file + ": " + path + " " + message);
    }

    private void requireObject() throws ConfigException {
        if (!node.isObject()) throw invalid(isToml() ? "a table" : "an object");
    }

    private String childPath(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private boolean isToml() {
        return file.endsWith(".toml");
    }

    private String describe(boolean showValue) {
        JsonNodeType type = node.getNodeType();
        return switch (type) {
            case OBJECT, POJO -> isToml() ? "a table" : "an object";
            case ARRAY -> "an array";
            case NULL -> "null";
            case MISSING, BINARY -> "nothing";
            case STRING -> showValue ? quote(node.textValue()) : "a string";
            case NUMBER -> showValue ? node.asText() : "a number";
            case BOOLEAN -> showValue ? node.asText() : "a boolean";
        };
    }

    private static String quote(String s) {
        String shown = s.length() > QUOTED_VALUE_MAX ? s.substring(0, QUOTED_VALUE_MAX) + "..." : s;
        return TextNode.valueOf(shown).toString();
    }
}
