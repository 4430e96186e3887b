package dev.bulwark.server.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads one configuration file into a tree: JSON with comments and trailing commas (JSONC, as
 * wrangler accepts in both {@code wrangler.jsonc} and {@code wrangler.json}) or TOML. Duplicate keys
 * are errors. Numbers are canonicalized (int, else long, else big integer; decimals as double) so
 * that the same value reads equal from either format.
 */
final class ConfigFiles {

    private static final ObjectMapper JSONC = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS, JsonReadFeature.ALLOW_TRAILING_COMMA)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final ObjectMapper TOML = TomlMapper.builder().build();

    private ConfigFiles() {
    }

    /** The file's top-level object, labelled with the file's name. */
    static ConfigValue read(Path file) throws ConfigException {
        String label = file.getFileName().toString();
        String text = readText(file, label);
        ObjectMapper mapper = label.endsWith(".toml") ? TOML : JSONC;
        JsonNode tree;
        try {
            tree = mapper.readTree(text);
        } catch (JacksonException e) {
            throw new ConfigException(label + location(e.getLocation()) + ": " + firstLine(e.getOriginalMessage()), e);
        }
        if (tree == null || tree.isMissingNode()) throw new ConfigException(label + ": the file is empty");
        if (!tree.isObject()) {
            throw new ConfigException(label + ": the top level must be an object, not " + tree.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        return ConfigValue.root(label, canonical(tree));
    }

    /** A file's text as UTF-8 (a leading byte order mark is dropped). */
    static String readText(Path file, String label) throws ConfigException {
        try {
            byte[] bytes = Files.readAllBytes(file);
            String text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw new ConfigException(label + ": not valid UTF-8", e);
        } catch (IOException e) {
            throw new ConfigException(label + ": cannot be read: " + e, e);
        }
    }

    private static String location(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) return "";
        return ":" + location.getLineNr() + ":" + location.getColumnNr();
    }

    private static String firstLine(String message) {
        if (message == null) return "cannot be parsed";
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    /** A copy of {@code node} with numbers in one representation per value. */
    static JsonNode canonical(JsonNode node) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (node.isObject()) {
            ObjectNode copy = f.objectNode();
            for (Map.Entry<String, JsonNode> e : node.properties()) copy.set(e.getKey(), canonical(e.getValue()));
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = f.arrayNode(node.size());
            for (JsonNode element : node) copy.add(canonical(element));
            return copy;
        }
        if (node.isIntegralNumber()) {
            BigInteger value = node.bigIntegerValue();
            if (value.bitLength() < 32) return f.numberNode(value.intValue());
            if (value.bitLength() < 64) return f.numberNode(value.longValue());
            return f.numberNode(value);
        }
        if (node.isNumber()) return f.numberNode(node.doubleValue());
        return node.deepCopy();
    }
}
