package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.worker.Limits;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.bulwark.sandbox.isolate.Sandboxes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine has ICU 77, as workerd's does: {@code Intl}, locale-aware formatting, normalization
 * and Unicode property escapes give the strings workerd gives. Each case is an expression the
 * worker evaluates at request time (a table in the bundle: eval is off). The expected strings are
 * Node 20's (V8 with ICU), character for character: V8 formats times with U+0020 before AM/PM.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IntlTest {
    private static final String WORKER = """
            // A Unicode property escape at module scope: the whole bundle failed to load without ICU.
            const LETTERS = /\\p{L}+/gu;
            const at = (y, mo, d, h, mi) => new Date(Date.UTC(y, mo - 1, d, h, mi));
            const cases = {
              monthYear: () => new Date(0).toLocaleDateString("en-US", {year: "numeric", month: "long", timeZone: "UTC"}),
              defaultTimeZone: () => new Intl.DateTimeFormat().resolvedOptions().timeZone,
              defaultLocale: () => new Intl.NumberFormat().resolvedOptions().locale,
              tokyo: () => new Intl.DateTimeFormat("en-US", {timeZone: "Asia/Tokyo", dateStyle: "medium", timeStyle: "short"})
                  .format(at(2024, 12, 31, 20, 30)),
              newYorkSummer: () => new Intl.DateTimeFormat("en-US", {timeZone: "America/New_York", hour: "2-digit",
                  minute: "2-digit", hourCycle: "h23", timeZoneName: "short"}).format(at(2024, 7, 1, 12, 0)),
              newYorkWinter: () => new Intl.DateTimeFormat("en-US", {timeZone: "America/New_York", hour: "2-digit",
                  minute: "2-digit", hourCycle: "h23", timeZoneName: "short"}).format(at(2024, 1, 1, 12, 0)),
              japaneseWords: () => [...new Intl.Segmenter("ja", {granularity: "word"}).segment("今日は良い天気です")]
                  .map((s) => s.segment).join("|"),
              germanDate: () => at(2024, 3, 5, 0, 0).toLocaleDateString("de-DE", {weekday: "long", day: "numeric",
                  month: "long", year: "numeric", timeZone: "UTC"}),
              euro: () => new Intl.NumberFormat("de-DE", {style: "currency", currency: "EUR"}).format(1234.5),
              grouping: () => (1234567.891).toLocaleString("en-US"),
              indian: () => new Intl.NumberFormat("en-IN").format(12345678),
              compact: () => new Intl.NumberFormat("en", {notation: "compact"}).format(1234567),
              percent: () => new Intl.NumberFormat("fr-FR", {style: "percent"}).format(0.25),
              collateGerman: () => ["z", "ä", "a"].sort(new Intl.Collator("de").compare).join(""),
              collateSwedish: () => ["z", "ä", "a"].sort(new Intl.Collator("sv").compare).join(""),
              localeCompare: () => String("a".localeCompare("B", "en", {sensitivity: "base"})),
              words: () => [...new Intl.Segmenter("en", {granularity: "word"}).segment("Hello, wide world!")]
                  .filter((s) => s.isWordLike).map((s) => s.segment).join("|"),
              graphemes: () => String([...new Intl.Segmenter("en", {granularity: "grapheme"}).segment("e\\u0301👨‍👩‍👧")].length),
              ordinal: () => new Intl.PluralRules("en-US", {type: "ordinal"}).select(22),
              arabicPlural: () => [0, 1, 2, 5, 11, 100].map((n) => new Intl.PluralRules("ar").select(n)).join(","),
              relative: () => new Intl.RelativeTimeFormat("en", {numeric: "auto"}).format(-1, "day"),
              relativeFr: () => new Intl.RelativeTimeFormat("fr").format(3, "hour"),
              list: () => new Intl.ListFormat("en", {type: "conjunction"}).format(["red", "green", "blue"]),
              listDe: () => new Intl.ListFormat("de", {type: "disjunction"}).format(["rot", "grün", "blau"]),
              region: () => new Intl.DisplayNames(["en"], {type: "region"}).of("JP"),
              language: () => new Intl.DisplayNames(["fr"], {type: "language"}).of("de"),
              currencyName: () => new Intl.DisplayNames(["en"], {type: "currency"}).of("JPY"),
              nfc: () => String("e\\u0301".normalize("NFC") === "\\u00e9"),
              nfkd: () => "\\ufb01".normalize("NFKD"),
              turkishLower: () => "I".toLocaleLowerCase("tr"),
              upperSharpS: () => "straße".toUpperCase(),
              letters: () => "héllo wörld 42 ünïcode".match(LETTERS).join("|"),
              greek: () => String(/^\\p{Script=Greek}+$/u.test("αβγ") && !/^\\p{Script=Greek}+$/u.test("abc")),
              emoji: () => String(/\\p{Extended_Pictographic}/u.test("ok 👍")),
              supportedZones: () => String(Intl.supportedValuesOf("timeZone").includes("Europe/Berlin")),
            };
            export default {
              fetch(request) {
                const name = new URL(request.url).searchParams.get("case");
                return new Response(cases[name]());
              }
            };""";

    private static String worker;

    @BeforeAll
    static void loadWorker() throws Exception {
        worker = load(bundle(WORKER), Limits.DEFAULTS);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("monthYear", "January 1970"),
                Arguments.of("defaultTimeZone", "UTC"),
                Arguments.of("defaultLocale", "en-US"),
                Arguments.of("tokyo", "Jan 1, 2025, 5:30 AM"),
                Arguments.of("newYorkSummer", "08:00 EDT"),
                Arguments.of("newYorkWinter", "07:00 EST"),
                Arguments.of("japaneseWords", "今日|は|良い|天気|です"),
                Arguments.of("germanDate", "Dienstag, 5. März 2024"),
                Arguments.of("euro", "1.234,50\u00a0€"),
                Arguments.of("grouping", "1,234,567.891"),
                Arguments.of("indian", "1,23,45,678"),
                Arguments.of("compact", "1.2M"),
                Arguments.of("percent", "25\u00a0%"),
                Arguments.of("collateGerman", "aäz"),
                Arguments.of("collateSwedish", "azä"),
                Arguments.of("localeCompare", "-1"),
                Arguments.of("words", "Hello|wide|world"),
                Arguments.of("graphemes", "2"),
                Arguments.of("ordinal", "two"),
                Arguments.of("arabicPlural", "zero,one,two,few,many,other"),
                Arguments.of("relative", "yesterday"),
                Arguments.of("relativeFr", "dans 3 heures"),
                Arguments.of("list", "red, green, and blue"),
                Arguments.of("listDe", "rot, grün oder blau"),
                Arguments.of("region", "Japan"),
                Arguments.of("language", "allemand"),
                Arguments.of("currencyName", "Japanese Yen"),
                Arguments.of("nfc", "true"),
                Arguments.of("nfkd", "fi"),
                Arguments.of("turkishLower", "ı"),
                Arguments.of("upperSharpS", "STRASSE"),
                Arguments.of("letters", "héllo|wörld|ünïcode"),
                Arguments.of("greek", "true"),
                Arguments.of("emoji", "true"),
                Arguments.of("supportedZones", "true"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void givesWhatWorkerdGives(String name, String expected) throws Exception {
        Recorder.Outcome out = fetch(worker, "http://intl.test/?case=" + URLEncoder.encode(name, StandardCharsets.UTF_8));
        assertThat(out.failure()).as("outcome %s", out).isNull();
        assertThat(out.body()).isEqualTo(expected);
    }
}
