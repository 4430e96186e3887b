// The identifier tests urlpattern-polyfill makes with /[$_\p{ID_Start}]/u-style literals, which
// build.mjs replaces with these: a Unicode property escape fails to compile in a V8 without ICU,
// and a regexp literal that fails to compile would fail the whole prelude. With ICU the engine's
// own ID_Start / ID_Continue are used; without it, ASCII is exact and every non-ASCII code point
// is accepted as part of a name (an approximation, see docs/notes/webapis.md).
function identifierTest(extra, property, asciiRe) {
  let re; // compiled on first use, never while the snapshot is made
  return {
    test(s) {
      if (re === undefined) {
        try {
          re = new RegExp(`[$_${extra}${'\\'}p{${property}}]`, 'u');
        } catch {
          re = null;
        }
      }
      if (re !== null) return re.test(s);
      const c = s.codePointAt(0);
      return c >= 0x80 || asciiRe.test(s);
    },
  };
}
export const idStart = identifierTest('', 'ID_Start', /^[$_A-Za-z]/);
export const idContinue = identifierTest('\\u200C\\u200D', 'ID_Continue', /^[$_A-Za-z0-9]/);
