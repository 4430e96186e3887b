package dev.bulwark.objects.java;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Java side of the structured format, against bytes that {@code serialize.js} wrote (the hex
 * strings below were produced by Node running the prelude's own serialize.js on the JS values in
 * the comments), and the other way round.
 */
class StructuredValuesTest {
    static Object decode(String hex) {
        return StructuredValues.decode(HexFormat.of().parseHex(hex));
    }

    static String encode(Object v) {
        return HexFormat.of().formatHex(StructuredValues.encode(v));
    }

    // [1, -2, 2 ** 31, 1.5, -0, NaN, 'héllo', 'a\uD800b', true, null, undefined, 12345678901234n, -(2n ** 70n)]
    static final String ARGS = "b701120d0402040305000000000000e04105000000000000f83f05000000000000008005000000000000f87f070668c3a96c6c6f0803610000d86200020100060006f22fce733a0b06010900000000000000004000";
    // The same without undefined.
    static final String ARGS2 = "b701120c0402040305000000000000e04105000000000000f83f05000000000000008005000000000000f87f070668c3a96c6c6f0803610000d862000201060006f22fce733a0b06010900000000000000004000";

    @Test
    void jsPrimitivesArriveAsTheDocumentedJavaValues() {
        List<?> args = (List<?>) decode(ARGS);
        assertThat(args).hasSize(13);
        assertThat(args.get(0)).isEqualTo(1L);
        assertThat(args.get(1)).isEqualTo(-2L);
        assertThat(args.get(2)).isEqualTo(2147483648L);
        assertThat(args.get(3)).isEqualTo(1.5);
        assertThat(Double.doubleToRawLongBits((Double) args.get(4))).isEqualTo(Double.doubleToRawLongBits(-0.0));
        assertThat((Double) args.get(5)).isNaN();
        assertThat(args.get(6)).isEqualTo("héllo");
        assertThat(args.get(7)).isEqualTo("a\uD800b");
        assertThat(args.get(8)).isEqualTo(true);
        assertThat(args.get(9)).isNull();
        assertThat(args.get(10)).as("undefined").isNull();
        assertThat(args.get(11)).isEqualTo(BigInteger.valueOf(12345678901234L));
        assertThat(args.get(12)).isEqualTo(BigInteger.TWO.pow(70).negate());
        // 2 ** 53 is past the safe range: a Double.
        assertThat(decode("b701050000000000004043")).isEqualTo(9007199254740992.0);
    }

    @Test
    void javaValuesAreWrittenExactlyAsSerializeJsWritesTheirJsCounterparts() {
        List<Object> args = Arrays.asList(1L, -2, 2147483648L, 1.5, -0.0, Double.NaN, "héllo", "a\uD800b", true, null,
                BigInteger.valueOf(12345678901234L), BigInteger.TWO.pow(70).negate());
        assertThat(encode(args)).isEqualTo(ARGS2);
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("a", List.of(1, Map.of("b", "c")));
        object.put("d", Instant.ofEpochMilli(1700000000123L));
        // {a: [1, {b: 'c'}], d: new Date(1700000000123)}
        assertThat(encode(object)).isEqualTo("b7011102070161120204021101070162070163000701641400b08756febc7842");
        // new Uint8Array([1, 2, 255])
        assertThat(encode(new byte[]{1, 2, (byte) 255})).isEqualTo("b701190218030102ff0003");
        // const s = {k: 1}; [s, s]
        Map<String, Object> shared = Map.of("k", 1);
        assertThat(encode(List.of(shared, shared))).isEqualTo("b7011202110107016b0402100100");
        // new TypeError('bad'), read back by serialize.js as a TypeError with that message (checked with Node)
        assertThat(encode(new RpcError(RpcError.Type.TYPE_ERROR, "bad"))).isEqualTo("b7011a05010703626164");
    }

    @Test
    void bytesDatesErrorsReferencesAndHoles() {
        assertThat((byte[]) decode("b701190218030102ff0003")).containsExactly(1, 2, 255);
        // new Uint8Array([9, 8, 7, 6]).subarray(1, 3): only the viewed bytes
        assertThat((byte[]) decode("b70119021804090807060102")).containsExactly(8, 7);
        // new Uint8Array([5, 6]).buffer
        assertThat((byte[]) decode("b70118020506")).containsExactly(5, 6);
        // {a: [1, {b: 'c'}], d: new Date(1700000000123), e: new TypeError('bad')} (the error has a stack)
        Map<?, ?> object = (Map<?, ?>) decode("b7011103070161120204021101070162070163000701641400b08756febc78420701651a05030703626164079a02547970654572726f723a206261640a2020202061742066696c653a2f2f2f746d702f6a6f2d7072656c7564652f672e6d6a733a31303a36340a202020206174204d6f64756c654a6f622e72756e20286e6f64653a696e7465726e616c2f6d6f64756c65732f65736d2f6d6f64756c655f6a6f623a3332353a3235290a202020206174206173796e63204d6f64756c654c6f616465722e696d706f727420286e6f64653a696e7465726e616c2f6d6f64756c65732f65736d2f6c6f616465723a3630363a3234290a202020206174206173796e63206173796e6352756e456e747279506f696e745769746845534d4c6f6164657220286e6f64653a696e7465726e616c2f6d6f64756c65732f72756e5f6d61696e3a3131373a3529");
        assertThat(new ArrayList<Object>(object.keySet())).containsExactly("a", "d", "e");
        assertThat(object.get("a")).isEqualTo(List.of(1L, Map.of("b", "c")));
        assertThat(object.get("d")).isEqualTo(Instant.ofEpochMilli(1700000000123L));
        assertThat(object.get("e")).isEqualTo(new RpcError(RpcError.Type.TYPE_ERROR, "bad"));
        // const s = {k: 1}; [s, s]: one Map, twice
        List<?> shared = (List<?>) decode("b7011202110107016b0402100100");
        assertThat(shared.get(0)).isSameAs(shared.get(1));
        // const c = []; c.push(c)
        List<?> cycle = (List<?>) decode("b7011201100000");
        assertThat(cycle.get(0)).isSameAs(cycle);
        // [1, , 3]
        assertThat((List<?>) decode("b701120304020f040600")).isEqualTo(Arrays.asList(1L, null, 3L));
        // const a = []; a[100] = 1 (sparse: longer than its bytes)
        List<?> sparse = (List<?>) decode("b70113650164040200");
        assertThat(sparse).hasSize(101);
        assertThat(sparse.get(100)).isEqualTo(1L);
        assertThat(sparse.subList(0, 100)).containsOnlyNulls();
        // new Array(600000) is taken; [new Array(600000), new Array(600000)] passes the 2^20 holes a value may have
        assertThat((List<?>) decode("b70113c0cf240000")).hasSize(600_000);
        assertThatThrownBy(() -> decode("b701120213c0cf24000013c0cf24000000")).hasMessageContaining("array past the end");
        // and a cyclic Java list goes out and comes back cyclic
        List<Object> self = new ArrayList<>();
        self.add(self);
        List<?> back = (List<?>) StructuredValues.decode(StructuredValues.encode(self));
        assertThat(back.get(0)).isSameAs(back);
    }

    @Test
    void mapsAndSetsWithPrimitiveKeysCrossBothWays() {
        // new Map([[1, 'one'], ['k', [true]], [null, 2.5]])
        String mapHex = "b7011603040207036f6e6507016b1201020001050000000000000440";
        Map<?, ?> map = (Map<?, ?>) decode(mapHex);
        assertThat(new ArrayList<Object>(map.keySet())).containsExactly(1L, "k", null);
        assertThat(map.get(1L)).isEqualTo("one");
        assertThat(map.get("k")).isEqualTo(List.of(true));
        assertThat(map.get(null)).isEqualTo(2.5);
        assertThat(encode(map)).isEqualTo(mapHex);
        // A Java Map with a key that is not a String is a JS Map, written as serialize.js writes it.
        Map<Object, Object> javaMap = new LinkedHashMap<>();
        javaMap.put(1, "one");
        javaMap.put("k", List.of(true));
        javaMap.put(null, 2.5);
        assertThat(encode(javaMap)).isEqualTo(mapHex);
        // new Map([['a', 1]]): only String keys, and still a JS Map when it goes back (checked with Node)...
        Object stringKeyed = decode("b70116010701610402");
        assertThat(stringKeyed).isEqualTo(Map.of("a", 1L));
        assertThat(encode(stringKeyed)).isEqualTo("b70116010701610402");
        // ...while a Java Map of String keys is a plain object.
        assertThat(encode(Map.of("a", 1))).isEqualTo("b70111010701610402");
        // const m = new Map(); m.set('self', m)
        Map<?, ?> self = (Map<?, ?>) decode("b7011601070473656c661000");
        assertThat(self.get("self")).isSameAs(self);
        // new Set(['a', 1, 2n])
        String setHex = "b7011703070161040206000102";
        assertThat(decode(setHex)).isInstanceOf(Set.class).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.ITERABLE)
                .containsExactly("a", 1L, BigInteger.TWO);
        assertThat(encode(new LinkedHashSet<>(List.of("a", 1, BigInteger.TWO)))).isEqualTo(setHex);
    }

    @Test
    void anErrorThrownAcrossAStubReadsAsItsTypeAndMessage() {
        // class MyError extends RangeError (name 'MyError', code = 7), as the prelude's richErrors writes it
        RpcError e = (RpcError) decode("b7012102030707746f6f2066617207074d794572726f72010704636f6465040e");
        assertThat(e.type()).isEqualTo(RpcError.Type.RANGE_ERROR);
        assertThat(e).hasToString("RangeError: too far");
        // AggregateError([], 'agg'): an Error here (its errors read past)
        RpcError agg = (RpcError) decode("b70121070107036167670107066572726f7273120000");
        assertThat(agg.type()).isEqualTo(RpcError.Type.ERROR);
        assertThat(agg.getMessage()).isEqualTo("agg");
    }

    @Test
    void aDomExceptionKeepsItsName() {
        // new DOMException('stop', 'AbortError') (without its stack); serialize.js reads these bytes back as that DOMException
        String hex = "b7011f070a41626f72744572726f72070473746f7000";
        RpcError e = (RpcError) decode(hex);
        assertThat(e.type()).isEqualTo(RpcError.Type.ERROR);
        assertThat(e.name()).isEqualTo("AbortError");
        assertThat(e.getMessage()).isEqualTo("stop");
        assertThat(e).hasToString("AbortError: stop");
        assertThat(e).isNotEqualTo(new RpcError("stop"));
        assertThat(encode(e)).isEqualTo(hex);
        assertThat(new RpcError(RpcError.Type.TYPE_ERROR, "bad").name()).isEqualTo("TypeError");
    }

    @Test
    void valuesJavaDoesNotTakeAreRefusedWithATypeError() {
        // /x/g, new Float32Array(2), Object.assign([1], {x: 2}), new Map([[{}, 1]]), new Set([[]])
        for (String hex : List.of("b70115070178070167", "b7011908180800000000000000000002", "b70112010402010701780404",
                "b701160111000402", "b7011701120000")) {
            assertThatThrownBy(() -> decode(hex)).as(hex).isInstanceOfSatisfying(RpcError.class,
                    e -> assertThat(e.type()).isEqualTo(RpcError.Type.TYPE_ERROR));
        }
        assertThatThrownBy(() -> decode("b70115070178070167")).hasMessageStartingWith("A RegExp cannot be passed to Java");
        assertThatThrownBy(() -> decode("b701160111000402")).hasMessageStartingWith("An object as a Map key or Set element cannot be passed");
        // a capability slot
        assertThatThrownBy(() -> decode("b7012000")).hasMessageStartingWith("A stub, function or RpcTarget cannot be passed");
        // and on the way out: a Java value with no JS form, a Long past 2^53, an object as a Map key or Set element
        assertThatThrownBy(() -> StructuredValues.encode(new Object())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StructuredValues.encode(1L << 60)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StructuredValues.encode(new java.math.BigDecimal("1.5"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StructuredValues.encode(Map.of(List.of(), 2))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StructuredValues.encode(Set.of(new byte[0]))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StructuredValues.encode("x".repeat(100), 50)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void malformedInputIsRefusedWithoutAllocatingWhatItClaims() {
        for (String hex : List.of("", "b7", "b702", "0001", "b70107ffffffff0f", "b70112ffffffff0f", "b7011308ffffffff0f00",
                "b7011001", "b701191802", "b70101ff", "b7011a0901", "b701", "b70118ffffffffffffffff7f",
                // an array of 2^35 elements, a string of 2^31 bytes, a sparse array of 2^32 * 15, a Map and a Set of 2^32 entries
                "b70112808080808020", "b701078080808008", "b70113808080800f0000", "b70116ffffffff0f", "b70117ffffffff0f")) {
            assertThatThrownBy(() -> decode(hex)).as(hex).isInstanceOf(RpcError.class);
        }
        // a view whose range passes its buffer's end
        assertThatThrownBy(() -> decode("b7011902180201020103")).hasMessageContaining("view out of range");
        // nesting past the limit
        StringBuilder deep = new StringBuilder("b701");
        for (int i = 0; i < 1100; i++) deep.append("1201");
        deep.append("01");
        for (int i = 0; i < 1100; i++) deep.append("00");
        assertThatThrownBy(() -> decode(deep.toString())).hasMessageContaining("nested too deeply");
    }

    @Test
    void randomMutationsOfValidEncodingsDecodeOrAreRefusedCleanly() {
        Random random = new Random(11);
        byte[] valid = StructuredValues.encode(List.of(Map.of("a", List.of(1, "two", new byte[]{3}), "b", 2.5),
                Instant.ofEpochMilli(5), new RpcError("e"), BigInteger.TEN, Map.of(7, "seven"), Set.of("s")));
        for (int i = 0; i < 20_000; i++) {
            byte[] m = valid.clone();
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) m[2 + random.nextInt(m.length - 2)] = (byte) random.nextInt(256);
            if (random.nextInt(4) == 0) m = Arrays.copyOf(m, 2 + random.nextInt(m.length - 2));
            try {
                StructuredValues.decode(m);
            } catch (RpcError expected) {
                // refused: fine
            }
        }
    }
}
