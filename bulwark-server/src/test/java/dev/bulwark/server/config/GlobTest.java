package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Module-rule globs match as wrangler's do. */
class GlobTest {

    @ParameterizedTest(name = "{0} ~ {1} -> {2}")
    @CsvSource(textBlock = """
            **/*.js,         index.js,          true
            **/*.js,         a/b/c.js,          true
            **/*.js,         a/b/c.jsx,         false
            *.js,            index.js,          true
            *.js,            lib/index.js,      false
            lib/**,          lib/a/b.txt,       true
            lib/**/x.txt,    lib/x.txt,         true
            lib/**/x.txt,    lib/a/b/x.txt,     true
            lib/**/x.txt,    libx.txt,          false
            ./src/*.txt,     src/a.txt,         true
            file?.txt,       file1.txt,         true
            file?.txt,       file/.txt,         false
            **/*.wasm?module, a.wasm?module,    true
            **/*.{txt;md},   a/b.md,            true
            **/*.{txt;md},   a/b.html,          false
            a.b,             axb,               false
            a+b(c),          a+b(c),            true
            \\*.txt,         *.txt,             true
            \\*.txt,         a.txt,             false
            """)
    void matches(String glob, String path, boolean expected) {
        assertThat(Glob.of(glob.replace(';', ',')).matches(path)).isEqualTo(expected);
    }

    @Test
    void unpaired_braces_are_rejected() {
        assertThatThrownBy(() -> Glob.of("{a,b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Glob.of("a}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Glob.of("a\\")).isInstanceOf(IllegalArgumentException.class);
    }
}
