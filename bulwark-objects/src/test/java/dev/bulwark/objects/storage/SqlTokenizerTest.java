package dev.bulwark.objects.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SqlTokenizerTest {

    private static List<String> values(String sql) {
        return SqlTokenizer.tokenize(sql).stream().map(SqlToken::value).toList();
    }

    private static List<SqlToken.Kind> kinds(String sql) {
        return SqlTokenizer.tokenize(sql).stream().map(SqlToken::kind).toList();
    }

    @Test
    void quotesAreUnescapedAsSqliteReadsThem() {
        assertThat(values("SELECT \"a\"\"b\", `c``d`, [e]]f], 'g''h'"))
                .containsExactly("SELECT", "a\"b", ",", "c`d", ",", "e", "]", "f", "]", ",", "g'h");
        assertThat(kinds("\"x\" 'y' [z] `w`")).containsExactly(SqlToken.Kind.QUOTED, SqlToken.Kind.STRING,
                SqlToken.Kind.QUOTED, SqlToken.Kind.QUOTED);
    }

    @Test
    void commentsAndWhiteSpaceVanishButNotInsideStrings() {
        assertThat(values("a/* x ; y */b -- z ; w\nc '--' \"/*\"")).containsExactly("a", "b", "c", "--", "/*");
        assertThat(values("a\u000bb\fc")).containsExactly("a", "b", "c");
        assertThat(values("a /* unterminated ; ATTACH")).containsExactly("a");
        assertThat(values("a 'unterminated ; ATTACH")).containsExactly("a", "unterminated ; ATTACH");
    }

    @Test
    void parametersNumbersBlobsAndNonAsciiIdentifiers() {
        assertThat(kinds("? ?12 :n @n $n $a::b(c) 1.5e-3 .5 0x1F x'00ff' X'' é_table"))
                .containsExactly(SqlToken.Kind.PARAM, SqlToken.Kind.PARAM, SqlToken.Kind.PARAM, SqlToken.Kind.PARAM,
                        SqlToken.Kind.PARAM, SqlToken.Kind.PARAM, SqlToken.Kind.NUMBER, SqlToken.Kind.NUMBER,
                        SqlToken.Kind.NUMBER, SqlToken.Kind.BLOB, SqlToken.Kind.BLOB, SqlToken.Kind.WORD);
        assertThat(values("_bw_kv\u00a0x")).containsExactly("_bw_kv\u00a0x");
    }

    @Test
    void statementsSplitAtSemicolonsOutsideTriggerBodies() {
        List<List<SqlToken>> s = SqlTokenizer.statements(SqlTokenizer.tokenize(
                "SELECT ';'; ;CREATE TEMP TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; SELECT 2; END; SELECT 3"));
        assertThat(s).hasSize(3);
        assertThat(s.get(1).getFirst().value()).isEqualTo("CREATE");
        assertThat(s.get(1).getLast().value()).isEqualTo("END");
        assertThat(s.get(2).stream().map(SqlToken::value)).containsExactly("SELECT", "3");
    }

    @Test
    void keywordsCompareAsciiCaseInsensitively() {
        SqlToken t = SqlTokenizer.tokenize("aTtAcH").getFirst();
        assertThat(t.is("ATTACH")).isTrue();
        assertThat(SqlTokenizer.asciiStartsWithIgnoreCase("_BW_KV", "_bw_")).isTrue();
        assertThat(SqlTokenizer.asciiEqualsIgnoreCase("\u0130", "i")).isFalse();
    }
}
