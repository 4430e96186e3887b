package dev.bulwark.sandbox.isolate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The tokenizer that renames dynamic import() calls: what it renames, what it leaves, and that nothing moves. */
class ImportCallsTest {
    /** {@code expected} writes the renamed keyword as {@code IMPORT}. */
    static void renames(String source, String expected) {
        String out = ImportCalls.rewrite(source);
        assertThat(out).as(source).isEqualTo(expected.replace("IMPORT", ImportCalls.HELPER));
        assertThat(out.length()).isEqualTo(source.length());
    }

    static void leaves(String source) {
        assertThat(ImportCalls.rewrite(source)).as(source).isSameAs(source);
    }

    @Test
    void theHelperIsSixLatin1Characters() {
        assertThat(ImportCalls.HELPER).hasSize(6);
        assertThat(ImportCalls.HELPER.chars().allMatch(c -> c <= 0xff)).isTrue();
        assertThat(Character.isJavaIdentifierStart(ImportCalls.HELPER.charAt(0))).isTrue();
    }

    @Test
    void callsAreRenamed() {
        renames("const m = await import('./a.js');", "const m = await IMPORT('./a.js');");
        renames("import('a').then(f)", "IMPORT('a').then(f)");
        renames("x = import /* c */ ('a', { with: { type: 'json' } })", "x = IMPORT /* c */ ('a', { with: { type: 'json' } })");
        renames("x = import\n// c\n(`a`)", "x = IMPORT\n// c\n(`a`)");
        renames("f(import(a), import(b,),)", "f(IMPORT(a), IMPORT(b,),)");
        renames("return import(x)", "return IMPORT(x)");
        renames("a = b ? import('c') : import('d')", "a = b ? IMPORT('c') : IMPORT('d')");
        renames("import(import('a'))", "IMPORT(IMPORT('a'))");
    }

    @Test
    void declarationsAndImportMetaAreLeft() {
        leaves("import a from './a.js';\nimport * as b from 'b';\nimport {c} from 'c';\nimport 'd';\n");
        leaves("const u = import.meta.url; import . meta;");
        leaves("const s = 'no import here';");
        assertThat(ImportCalls.mayContain("import x from 'y'")).isFalse();
        assertThat(ImportCalls.mayContain("x = import /* */ (y)")).isTrue();
    }

    @Test
    void stringsCommentsTemplatesAndRegexesAreNotCode() {
        leaves("const s = \"import('a')\" + 'import(\\'b\\')';");
        leaves("// import('a')\n/* import('b') */");
        leaves("const t = `import('a') ${'x'} import('b')`;");
        leaves("const r = /import('a')/g;");
        leaves("const r = x.split(/[/]import(/);");
        leaves("if (x) /import(a)/.test(y);");
        leaves("const s = 'line\\\r\nimport(x)';");
        renames("const t = `a ${import('x')} b ${ `${import('y')}` }`;", "const t = `a ${IMPORT('x')} b ${ `${IMPORT('y')}` }`;");
        renames("const t = `${ {a: 1}.a }` + import('x');", "const t = `${ {a: 1}.a }` + IMPORT('x');");
        // a slash after a value is division: what follows is code
        renames("const q = a / 2; import('x') / 3;", "const q = a / 2; IMPORT('x') / 3;");
        renames("const q = (a) / 2 / import('x');", "const q = (a) / 2 / IMPORT('x');");
        renames("const q = a[0] / 2, r = /x/; import('y');", "const q = a[0] / 2, r = /x/; IMPORT('y');");
        renames("#!/usr/bin/env node import('a')\nimport('b')", "#!/usr/bin/env node import('a')\nIMPORT('b')");
    }

    @Test
    void propertiesAndPrivateNamesAreLeft() {
        leaves("obj.import('a'); obj?.import('b'); obj . import ('c'); obj\n.import('d');");
        leaves("class A { #import(x) {} m() { this.#import(1); } }");
        leaves("const o = { import: 1 }; const { import: i } = o;");
    }

    @Test
    void methodsNamedImportAreLeft() {
        leaves("const o = { import() {}, b: 1 };");
        leaves("const o = { a: 1, import(x, y) { return x; } };");
        leaves("const o = { get import() { return 1; }, set import(v) {}, async import(a) {}, *import(a) {}, async *import(a) {} };");
        leaves("class A { import(x) {} static import() {} }");
        leaves("class A extends B { x = 1\n import(y) { return y; } }");
        leaves("class A { static async *import(a) {} get import() {} }");
        leaves("export default { import(request) { return 1; } };");
        leaves("x = class { import(a) {} };");
    }

    @Test
    void callsInsideMethodsAndClassesAreRenamed() {
        renames("const o = { import(a) { return import(a); } };", "const o = { import(a) { return IMPORT(a); } };");
        renames("class A { x = import('a'); static { import('b'); } m() { import('c') } }",
                "class A { x = IMPORT('a'); static { IMPORT('b'); } m() { IMPORT('c') } }");
        renames("const o = { a: import('x'), ...import('y'), [import('z')]: 1 };",
                "const o = { a: IMPORT('x'), ...IMPORT('y'), [IMPORT('z')]: 1 };");
        renames("switch (x) { case 1: { import('a') } default: import('b') }",
                "switch (x) { case 1: { IMPORT('a') } default: IMPORT('b') }");
        renames("{ import('a') }", "{ IMPORT('a') }");
        renames("label: { import('a'); }", "label: { IMPORT('a'); }");
        renames("if (a) { import('a') } else { import('b') }", "if (a) { IMPORT('a') } else { IMPORT('b') }");
        renames("const f = async () => { await import('a') }, g = () => import('b');",
                "const f = async () => { await IMPORT('a') }, g = () => IMPORT('b');");
    }

    @Test
    void whatIsNotAValidImportCallIsLeftForV8ToReport() {
        leaves("x = import()");
        leaves("x = import(a, b, c)");
        leaves("x = import(...args)");
        leaves("x = import(, a)");
        leaves("x = new import('a')");
        renames("x = import(a, b,)", "x = IMPORT(a, b,)");
        renames("x = import(f(a, b, c))", "x = IMPORT(f(a, b, c))");
        renames("x = import([...a].join(), {with: {...o}})", "x = IMPORT([...a].join(), {with: {...o}})");
    }

    @Test
    void escapedOrLongerNamesAreNotTheKeyword() {
        leaves("const reimport = 1; reimport(a); imports(b); import_(c); $import(d); \\u0069mport(e);");
        leaves("const \\u{69}x = 1; x(import_)");
    }

    @Test
    void realBundlesScanBalanced() throws Exception {
        // A 3 MB esbuild bundle (minified syntax, regexes, templates) and the prelude: every bracket
        // the tokenizer opened it closed, so strings, templates and regexes were told apart.
        for (java.nio.file.Path p : new java.nio.file.Path[] {ImportCallsMeasure.AGENTS, ImportCallsMeasure.PRELUDE,
                java.nio.file.Path.of("src", "main", "resources", "dev", "bulwark", "sandbox", "prelude", "node.js")}) {
            assertThat(ImportCalls.scansBalanced(java.nio.file.Files.readString(p))).as(p.toString()).isTrue();
        }
    }

    @Test
    void theSuffixIsAppendedOnlyWhenSomethingWasRenamed() {
        assertThat(ImportCalls.rewrite("x = import('a');", "\n;S")).isEqualTo("x = " + ImportCalls.HELPER + "('a');\n;S");
        String none = "x = obj.import('a');";
        assertThat(ImportCalls.rewrite(none, "\n;S")).isSameAs(none);
        String restored = "x = import();";
        assertThat(ImportCalls.rewrite(restored, "\n;S")).isSameAs(restored);
    }

    @Test
    void linesAndColumnsStay() {
        String source = "const a = 1;\nconst b = await import(\n  './b.js');\nthrow new Error('x');\n";
        String out = ImportCalls.rewrite(source);
        assertThat(out.split("\n", -1)).hasSameSizeAs(source.split("\n", -1));
        assertThat(out.indexOf("throw")).isEqualTo(source.indexOf("throw"));
    }
}
