package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.server.node.CloneCodec;

import java.util.Base64;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * An RPC result ({@link CloneCodec}'s Java values) as JSON: byte[] as a base64 string, a Set as an
 * array, a Date as its ISO-8601 instant, a BigInt as a number, an error as {@code {name, message}},
 * NaN and infinities as null. A cyclic value is refused (JSON cannot hold it).
 */
final class JsonValues {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private JsonValues() {}

    static JsonNode toJson(Object v) {
        return toJson(v, new IdentityHashMap<>());
    }

    private static JsonNode toJson(Object v, IdentityHashMap<Object, Boolean> path) {
        return switch (v) {
            case null -> F.nullNode();
            case Boolean b -> F.booleanNode(b);
            case Double d -> d.isNaN() || d.isInfinite() ? F.nullNode()
                    : d == Math.rint(d) && Math.abs(d) < 1e15 ? F.numberNode(d.longValue()) : F.numberNode(d);
            case java.math.BigInteger b -> F.numberNode(b);
            case String s -> F.textNode(s);
            case byte[] b -> F.textNode(Base64.getEncoder().encodeToString(b));
            case java.time.Instant i -> F.textNode(i.toString());
            case CloneCodec.JsError e -> F.objectNode().put("name", e.name()).put("message", e.message());
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
                    if (!(e.getKey() instanceof String || e.getKey() instanceof Double || e.getKey() instanceof Boolean)) {
                        throw new IllegalArgumentException("a Map whose keys are not strings, numbers or booleans has no JSON form");
                    }
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
