package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SqlTextsTest {
    @Test
    void aTextKeepsItsNumberAndTheNumberNamesThatVeryText() {
        SqlTexts texts = new SqlTexts();
        int a = texts.id("SELECT 1");
        int b = texts.id("SELECT 2");
        assertThat(a).isNotEqualTo(b).isNotNegative();
        assertThat(texts.id(new String("SELECT 1"))).isEqualTo(a);
        assertThat(texts.text(a)).isEqualTo("SELECT 1");
        assertThat(texts.text(b)).isEqualTo("SELECT 2");
    }

    @Test
    void aNumberTheTableNeverGaveIsRefused() {
        SqlTexts texts = new SqlTexts();
        texts.id("SELECT 1");
        assertThatThrownBy(() -> texts.text(1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sql.exec: unknown statement");
        assertThatThrownBy(() -> texts.text(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SqlTexts().text(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theTableIsBoundedInCountAndLength() {
        SqlTexts texts = new SqlTexts();
        assertThat(texts.id("x".repeat(SqlTexts.MAX_CHARS + 1))).isEqualTo(-1);
        assertThat(texts.id("x".repeat(SqlTexts.MAX_CHARS))).isZero();
        for (int i = 1; i < SqlTexts.MAX_TEXTS; i++) assertThat(texts.id("SELECT " + i)).isEqualTo(i);
        assertThat(texts.id("SELECT 'one too many'")).isEqualTo(-1);
        // Texts it numbered keep their numbers when it is full.
        assertThat(texts.id("SELECT 7")).isEqualTo(7);
    }
}
