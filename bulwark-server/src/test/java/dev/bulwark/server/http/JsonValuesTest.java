package dev.bulwark.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.java.StructuredValues;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tenant API's JSON side of RPC values: arguments as JSON.parse reads them, results as JSON.stringify would write them. */
class JsonValuesTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Object fromJson(String json) throws Exception {
        return JsonValues.fromJson(JSON.readTree(json));
    }

    @Test
    void everyJsonNumberIsAJsNumber() throws Exception {
        assertThat(fromJson("[1, -2, 1.5, 1.0, 9007199254740991, 9007199254740993, 12345678901234567890, 1e400]"))
                .isEqualTo(List.of(1L, -2L, 1.5, 1.0, 9007199254740991L, 9007199254740992.0, 1.2345678901234567e19,
                        Double.POSITIVE_INFINITY));
        assertThat(fromJson("{\"a\": [null, true, \"x\"], \"__proto__\": {}}"))
                .isEqualTo(Map.of("a", Arrays.asList(null, true, "x"), "__proto__", Map.of()));
        // and they are encodable as they are (no BigInteger, no Long past 2^53)
        assertThat(StructuredValues.encode(fromJson("[9007199254740993, 12345678901234567890]"))).isNotEmpty();
    }

    @Test
    void resultsAreWrittenAsJsonStringifyWouldWriteThem() {
        // new Map([[1, 'one'], ['k', [true]], [null, 2.5]]) from serialize.js: a null key has no JSON form
        Object map = StructuredValues.decode(HexFormat.of().parseHex("b7011603040207036f6e6507016b1201020001050000000000000440"));
        assertThatThrownBy(() -> JsonValues.toJson(map)).hasMessageContaining("null or undefined key");
        assertThat(JsonValues.toJson(Map.of(1L, "one")).toString()).isEqualTo("{\"1\":\"one\"}");
        assertThat(JsonValues.toJson(new LinkedHashSet<>(List.of("a", 2L))).toString()).isEqualTo("[\"a\",2]");
        assertThat(JsonValues.toJson(List.of(3L, 2.5, -0.0, 9007199254740992.0, 1e21, Double.NaN, BigInteger.TEN)).toString())
                .isEqualTo("[3,2.5,0,9007199254740992,1.0E21,null,10]");
        assertThat(JsonValues.toJson(List.of(new byte[] {1, 2}, Instant.ofEpochMilli(5), new RpcError(RpcError.Type.TYPE_ERROR, "no")))
                .toString()).isEqualTo("[\"AQI=\",\"1970-01-01T00:00:00.005Z\",{\"name\":\"TypeError\",\"message\":\"no\"}]");
        List<Object> cyclic = new ArrayList<>();
        cyclic.add(cyclic);
        assertThatThrownBy(() -> JsonValues.toJson(cyclic)).hasMessageContaining("cyclic");
    }
}
