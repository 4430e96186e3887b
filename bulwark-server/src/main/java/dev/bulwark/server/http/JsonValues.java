package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.java.StructuredValues;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON and the Java values of {@link StructuredValues}, for the tenant API's RPC calls. Arguments:
 * JSON as {@code JSON.parse} reads it (every JSON number is a JS number: a Long when it is a safe
 * integer, else a Double). A result: byte[] as a base64 string, a Set as an array, a Map as an
 * object (keys as strings), a Date as its ISO-8601 instant, a BigInt as a number, an error as
 * {@code {name, message}}, NaN and infinities as null. A cyclic value is refused (JSON cannot hold it).
 */
final class JsonValues {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final long MAX_SAFE_INTEGER = (1L << 53) - 1;

    private JsonValues() {}

    /** A JSON value as the JS value {@code JSON.parse} would give, in Java. */
    static Object fromJson(JsonNode n) {
        return switch (n.getNodeType()) {
            case NULL, MISSING -> null;
            case BOOLEAN -> n.booleanValue();
            case NUMBER -> n.canConvertToLong() && n.isIntegralNumber() && Math.abs(n.longValue()) <= MAX_SAFE_INTEGER
                    ? (Object) n.longValue() : (Object) n.doubleValue();
            case STRING -> n.textValue();
            case ARRAY -> {
                List<Object> list = new ArrayList<>(n.size());
                for (JsonNode e : n) list.add(fromJson(e));
                yield list;
            }
            case OBJECT -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : n.properties()) map.put(e.getKey(), fromJson(e.getValue()));
                yield map;
            }
            case BINARY, POJO -> throw new IllegalArgumentException("not a JSON value");
        };
    }

    static JsonNode toJson(Object v) {
        return toJson(v, new IdentityHashMap<>());
    }

    private static JsonNode toJson(Object v, IdentityHashMap<Object, Boolean> path) {
        return switch (v) {
            case null -> F.nullNode();
            case Boolean b -> F.booleanNode(b);
            case Long l -> F.numberNode(l);
            // Written as JSON.stringify writes a number: an integer below 1e21 in plain digits.
            case Double d -> d.isNaN() || d.isInfinite() ? F.nullNode()
                    : d == Math.rint(d) && Math.abs(d) < 1e21 ? F.numberNode(BigDecimal.valueOf(d).toBigIntegerExact())
                    : F.numberNode(d);
            case java.math.BigInteger b -> F.numberNode(b);
            case String s -> F.textNode(s);
            case byte[] b -> F.textNode(Base64.getEncoder().encodeToString(b));
            case java.time.Instant i -> F.textNode(i.toString());
            case RpcError e -> F.objectNode().put("name", e.name()).put("message", e.getMessage());
            case Collection<?> c -> {
                enter(v, path);
                ArrayNode a = F.arrayNode();
                for (Object e : c) a.add(toJson(e, path));
                path.remove(v);
                yield a;
            }
            case Map<?, ?> m -> {
                enter(v, path);
                ObjectNode o = F.objectNode();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (e.getKey() == null) throw new IllegalArgumentException("a Map with a null or undefined key has no JSON form");
                    o.set(String.valueOf(e.getKey()), toJson(e.getValue(), path));
                }
                path.remove(v);
                yield o;
            }
            default -> throw new IllegalArgumentException("a " + v.getClass().getSimpleName() + " has no JSON form");
        };
    }

    private static void enter(Object v, IdentityHashMap<Object, Boolean> path) {
        if (path.put(v, Boolean.TRUE) != null) throw new IllegalArgumentException("the value is cyclic");
    }
}
