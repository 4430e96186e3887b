package dev.bulwark.server.governance;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The part of JSON Schema that tool arguments are checked against, and nothing more: {@code type}
 * (one or a list of object, array, string, integer, number, boolean, null), {@code properties},
 * {@code required}, {@code additionalProperties} (a boolean), {@code enum}, {@code minLength},
 * {@code maxLength}, {@code pattern}, {@code minimum}, {@code maximum}, {@code items},
 * {@code maxItems}, plus the annotations {@code description}, {@code title} and {@code $schema}.
 * A schema using any other keyword is refused when the tool is registered, so no one believes a
 * rule is checked that is not. The root must be {@code {"type": "object"}}.
 */
final class ArgsSchema {
    private static final Set<String> KEYWORDS = Set.of("type", "properties", "required", "additionalProperties", "enum",
            "minLength", "maxLength", "pattern", "minimum", "maximum", "items", "maxItems", "description", "title", "$schema");
    private static final Set<String> TYPES = Set.of("object", "array", "string", "integer", "number", "boolean", "null");

    private ArgsSchema() {}

    static void checkSchema(JsonNode schema) {
        if (!schema.isObject() || !"object".equals(schema.path("type").asText())) {
            throw new IllegalArgumentException("a tool's argument schema is a JSON Schema object with \"type\": \"object\"");
        }
        checkNode(schema, "");
    }

    private static void checkNode(JsonNode s, String at) {
        if (!s.isObject()) throw new IllegalArgumentException("schema at '" + at + "' is not an object");
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYWORDS.contains(k)) throw new IllegalArgumentException("schema keyword '" + k + "' at '" + at + "' is not supported");
        }
        JsonNode type = s.get("type");
        if (type != null) {
            for (JsonNode t : type.isArray() ? type : List.of(type)) {
                if (!t.isTextual() || !TYPES.contains(t.textValue())) throw new IllegalArgumentException("unknown type at '" + at + "'");
            }
        }
        JsonNode pattern = s.get("pattern");
        if (pattern != null) Pattern.compile(pattern.asText());
        JsonNode props = s.get("properties");
        if (props != null) props.fields().forEachRemaining(e -> checkNode(e.getValue(), at + "/" + e.getKey()));
        JsonNode items = s.get("items");
        if (items != null) checkNode(items, at + "/items");
        JsonNode additional = s.get("additionalProperties");
        if (additional != null && !additional.isBoolean()) {
            throw new IllegalArgumentException("additionalProperties must be a boolean at '" + at + "'");
        }
    }

    /** The first violation of {@code value} against {@code schema}, or null when it conforms. */
    static String violation(JsonNode schema, Object value) {
        List<String> out = new ArrayList<>(1);
        check(schema, value, "args", out);
        return out.isEmpty() ? null : out.getFirst();
    }

    private static boolean check(JsonNode s, Object v, String at, List<String> out) {
        JsonNode type = s.get("type");
        if (type != null) {
            boolean any = false;
            for (JsonNode t : type.isArray() ? type : List.of(type)) any |= is(t.textValue(), v);
            if (!any) return fail(out, at + " must be of type " + (type.isArray() ? type.toString() : type.textValue()));
        }
        JsonNode en = s.get("enum");
        if (en != null) {
            boolean found = false;
            for (JsonNode e : en) found |= equalsJson(e, v);
            if (!found) return fail(out, at + " must be one of " + en);
        }
        if (v instanceof String str) {
            int len = str.codePointCount(0, str.length());
            if (s.has("minLength") && len < s.get("minLength").asLong()) return fail(out, at + " is shorter than " + s.get("minLength"));
            if (s.has("maxLength") && len > s.get("maxLength").asLong()) return fail(out, at + " is longer than " + s.get("maxLength"));
            if (s.has("pattern") && !Pattern.compile(s.get("pattern").asText()).matcher(str).find()) {
                return fail(out, at + " does not match the pattern " + s.get("pattern").asText());
            }
        }
        if (v instanceof Number n && !(v instanceof java.math.BigInteger)) {
            double d = n.doubleValue();
            if (s.has("minimum") && d < s.get("minimum").asDouble()) return fail(out, at + " is below " + s.get("minimum"));
            if (s.has("maximum") && d > s.get("maximum").asDouble()) return fail(out, at + " is above " + s.get("maximum"));
        }
        if (v instanceof List<?> list) {
            if (s.has("maxItems") && list.size() > s.get("maxItems").asLong()) return fail(out, at + " has more than " + s.get("maxItems") + " items");
            JsonNode items = s.get("items");
            if (items != null) {
                for (int i = 0; i < list.size(); i++) if (!check(items, list.get(i), at + "[" + i + "]", out)) return false;
            }
        }
        if (v instanceof Map<?, ?> map) {
            JsonNode props = s.get("properties");
            JsonNode required = s.get("required");
            if (required != null) {
                for (JsonNode r : required) if (!map.containsKey(r.asText())) return fail(out, at + "." + r.asText() + " is required");
            }
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) return fail(out, at + " must have string keys");
                JsonNode p = props == null ? null : props.get(key);
                if (p != null) {
                    if (!check(p, e.getValue(), at + "." + key, out)) return false;
                } else if (s.path("additionalProperties").isBoolean() && !s.get("additionalProperties").booleanValue()) {
                    return fail(out, at + "." + key + " is not allowed");
                }
            }
        }
        return true;
    }

    private static boolean is(String type, Object v) {
        return switch (type) {
            case "object" -> v instanceof Map;
            case "array" -> v instanceof List;
            case "string" -> v instanceof String;
            case "integer" -> v instanceof Long || v instanceof Integer || v instanceof java.math.BigInteger
                    || v instanceof Double d && d == Math.rint(d) && !d.isInfinite();
            case "number" -> v instanceof Number && !(v instanceof Double d && (d.isNaN() || d.isInfinite()));
            case "boolean" -> v instanceof Boolean;
            case "null" -> v == null;
            default -> false;
        };
    }

    private static boolean equalsJson(JsonNode e, Object v) {
        if (e.isTextual()) return e.textValue().equals(v);
        if (e.isBoolean()) return Boolean.valueOf(e.booleanValue()).equals(v);
        if (e.isNull()) return v == null;
        if (e.isNumber()) return v instanceof Number n && n.doubleValue() == e.asDouble();
        return false;
    }

    private static boolean fail(List<String> out, String message) {
        out.add(message);
        return false;
    }
}
