package dev.bulwark.server.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** .dev.vars is read as wrangler reads it (dotenv). */
class DevVarsTest {

    @Test
    void reads_assignments_comments_and_blank_lines() throws ConfigException {
        assertThat(DevVars.parse("""
                # a comment

                A=1
                  B = two words \s
                export C=3
                D=
                """)).containsExactly(
                Map.entry("A", "1"), Map.entry("B", "two words"), Map.entry("C", "3"), Map.entry("D", ""));
    }

    @Test
    void quotes_keep_what_is_inside_them() throws ConfigException {
        assertThat(DevVars.parse("""
                SINGLE='a # b \\n c'
                DOUBLE="line1\\nline2"
                BACK=`x "y" 'z'`
                ESCAPED="say \\"hi\\""
                TRAILING="v" # comment
                """)).containsExactly(
                Map.entry("SINGLE", "a # b \\n c"),
                Map.entry("DOUBLE", "line1\nline2"),
                Map.entry("BACK", "x \"y\" 'z'"),
                Map.entry("ESCAPED", "say \\\"hi\\\""),
                Map.entry("TRAILING", "v"));
    }

    @Test
    void an_unquoted_value_ends_at_a_hash_as_in_dotenv() throws ConfigException {
        assertThat(DevVars.parse("PASSWORD=abc#def\n")).containsExactly(Map.entry("PASSWORD", "abc"));
    }

    @Test
    void a_quoted_value_may_span_lines() throws ConfigException {
        assertThat(DevVars.parse("KEY=\"-----BEGIN-----\nabc\n-----END-----\"\nNEXT=1\n"))
                .containsExactly(Map.entry("KEY", "-----BEGIN-----\nabc\n-----END-----"), Map.entry("NEXT", "1"));
    }

    @Test
    void the_example_of_docs_configuration_md_reads_as_documented() throws ConfigException {
        assertThat(DevVars.parse("""
                # comments and blank lines are ignored
                API_TOKEN=tok-123
                export REGION=eu            # an optional "export " prefix is allowed
                PASSWORD="p@ss#word"        # quote values containing '#': unquoted values end at '#'
                GREETING='single quotes keep \\n as it is'
                PEM="-----BEGIN KEY-----
                quoted values may span lines; in double quotes \\n is a newline
                -----END KEY-----"
                """)).containsExactly(
                Map.entry("API_TOKEN", "tok-123"),
                Map.entry("REGION", "eu"),
                Map.entry("PASSWORD", "p@ss#word"),
                Map.entry("GREETING", "single quotes keep \\n as it is"),
                Map.entry("PEM", "-----BEGIN KEY-----\nquoted values may span lines; in double quotes \n is a newline\n-----END KEY-----"));
    }

    @Test
    void a_later_line_wins() throws ConfigException {
        assertThat(DevVars.parse("A=1\r\nA=2\r\n")).containsExactly(Map.entry("A", "2"));
    }

    @Test
    void errors_name_the_line_and_never_the_value() {
        assertThatThrownBy(() -> DevVars.parse("A=1\n\nB=\"unclosed secret-value\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage(".dev.vars:3: the quoted value of B is not closed");
        assertThatThrownBy(() -> DevVars.parse("=value\n"))
                .hasMessage(".dev.vars:1: expected KEY=VALUE");
        assertThatThrownBy(() -> DevVars.parse("A='x' secret-value\n"))
                .hasMessage(".dev.vars:1: unexpected text after the quoted value of A");
    }
}
