/**
 * kbsitePorterStem(word): whoosh's Porter stemmer (whoosh.lang.porter.stem), ported
 * line for line.
 *
 * It must stay identical to whoosh's stemmer, quirks included: the browser search stems
 * the query with it and looks the stems up in an index stemmed by whoosh, and it must
 * find what `kbsite search` finds. tests/test_porter_js.py compares the two word for word.
 *
 * Where Python's regular expressions differ from JavaScript's, Python's meaning is kept:
 * - every pattern has the "u" flag, so a character class matches a code point;
 * - Python's "." (any code point but "\n") is written [^\n];
 * - Python's "$" also matches just before a final "\n": it is written (?=\n?$);
 * - re.match() anchors at the start, so "(at|bl|iz)$" becomes "^(at|bl|iz)$".
 *
 * A classic script (no modules, so it works from file:// pages): it defines the one
 * global kbsitePorterStem.
 */
var kbsitePorterStem = (function () {
  "use strict";

  const ANY = "[^\\n]";
  const END = "(?=\\n?$)";

  function pattern(source) {
    return new RegExp(source, "u");
  }

  const STEP2_SUFFIXES = {
    ational: "ate",
    tional: "tion",
    enci: "ence",
    anci: "ance",
    izer: "ize",
    bli: "ble",
    alli: "al",
    entli: "ent",
    eli: "e",
    ousli: "ous",
    ization: "ize",
    ation: "ate",
    ator: "ate",
    alism: "al",
    iveness: "ive",
    fulness: "ful",
    ousness: "ous",
    aliti: "al",
    iviti: "ive",
    biliti: "ble",
    logi: "log",
  };

  const STEP3_SUFFIXES = {
    icate: "ic",
    ative: "",
    alize: "al",
    iciti: "ic",
    ical: "ic",
    ful: "",
    ness: "",
  };

  const VOWEL = "[aeiouy]";
  const CONS_SEQ = "[^aeiouy]+";
  const VOWEL_SEQ = "[aeiou]+";

  // m > 0
  const mgr0 = pattern(`^(${CONS_SEQ})?${VOWEL_SEQ}${CONS_SEQ}`);
  // m == 1
  const meq1 = pattern(`^(${CONS_SEQ})?${VOWEL_SEQ}${CONS_SEQ}(${VOWEL_SEQ})?${END}`);
  // m > 1
  const mgr1 = pattern(`^(${CONS_SEQ})?${VOWEL_SEQ}${CONS_SEQ}${VOWEL_SEQ}${CONS_SEQ}`);
  // vowel in stem
  const sV = pattern(`^(${CONS_SEQ})?${VOWEL}`);
  const cV = pattern(`^${CONS_SEQ}${VOWEL}[^aeiouwxy]${END}`);

  const edIng = pattern(`^(${ANY}*)(ed|ing)${END}`);
  const atBlIz = pattern(`^(at|bl|iz)${END}`);
  const step1b = pattern(`^([^aeiouylsz])\\1${END}`);
  const step2 = pattern(
    `^(${ANY}+?)(ational|tional|enci|anci|izer|bli|alli|entli|eli|ousli|ization|ation|ator` +
      `|alism|iveness|fulness|ousness|aliti|iviti|biliti|logi)${END}`
  );
  const step3 = pattern(`^(${ANY}+?)(icate|ative|alize|iciti|ical|ful|ness)${END}`);
  const step4a = pattern(
    `^(${ANY}+?)(al|ance|ence|er|ic|able|ible|ant|ement|ment|ent|ou|ism|ate|iti|ous|ive|ize)${END}`
  );
  const step4b = pattern(`^(${ANY}+?)(s|t)(ion)${END}`);
  const step5 = pattern(`^(${ANY}+?)e${END}`);

  // Python counts and slices code points; a JavaScript string holds UTF-16 code units.
  function codePointCount(text) {
    return Array.from(text).length;
  }

  function withoutLastCodePoint(text) {
    return Array.from(text).slice(0, -1).join("");
  }

  return function kbsitePorterStem(word) {
    let w = word;
    let m;
    let stem;

    if (codePointCount(w) < 3) {
      return w;
    }

    const firstIsY = w[0] === "y";
    if (firstIsY) {
      w = "Y" + w.slice(1);
    }

    // Step 1a
    if (w.endsWith("s")) {
      if (w.endsWith("sses")) {
        w = w.slice(0, -2);
      } else if (w.endsWith("ies")) {
        w = w.slice(0, -2);
      } else if (w[w.length - 2] !== "s") {
        w = w.slice(0, -1);
      }
    }

    // Step 1b
    if (w.endsWith("eed")) {
      if (mgr0.test(w.slice(0, -3))) {
        w = w.slice(0, -1);
      }
    } else {
      m = edIng.exec(w);
      if (m) {
        stem = m[1];
        if (sV.test(stem)) {
          w = stem;
          if (atBlIz.test(w)) {
            w += "e";
          } else if (step1b.test(w)) {
            w = withoutLastCodePoint(w);
          } else if (cV.test(w)) {
            w += "e";
          }
        }
      }
    }

    // Step 1c
    if (w.endsWith("y")) {
      stem = w.slice(0, -1);
      if (sV.test(stem)) {
        w = stem + "i";
      }
    }

    // Step 2
    m = step2.exec(w);
    if (m) {
      stem = m[1];
      if (mgr0.test(stem)) {
        w = stem + STEP2_SUFFIXES[m[2]];
      }
    }

    // Step 3
    m = step3.exec(w);
    if (m) {
      stem = m[1];
      if (mgr0.test(stem)) {
        w = stem + STEP3_SUFFIXES[m[2]];
      }
    }

    // Step 4
    m = step4a.exec(w);
    if (m) {
      stem = m[1];
      if (mgr1.test(stem)) {
        w = stem;
      }
    } else {
      m = step4b.exec(w);
      if (m) {
        stem = m[1] + m[2];
        if (mgr1.test(stem)) {
          w = stem;
        }
      }
    }

    // Step 5
    m = step5.exec(w);
    if (m) {
      stem = m[1];
      if (mgr1.test(stem) || (meq1.test(stem) && !cV.test(stem))) {
        w = stem;
      }
    }

    if (w.endsWith("ll") && mgr1.test(w)) {
      w = w.slice(0, -1);
    }

    if (firstIsY) {
      w = "y" + w.slice(1);
    }

    return w;
  };
})();
