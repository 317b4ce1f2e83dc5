/* kbsite search in the browser: classic scripts (file:// pages refuse modules) sharing
 * window.kbsiteSearch, each a port test_search_js.py checks. This one: analysis.py. */
(function () {
  "use strict";

  const LETTERS = "A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff";
  const JOINERS = "._\\\\/@:'\u2019-";
  const TOKEN = new RegExp(`[0-9${LETTERS}]+(?:[${JOINERS}]{1,2}[0-9${LETTERS}]+)*`, "gu");
  const PIECE = new RegExp(`[${LETTERS}]+|[0-9]+`, "gu");
  const ONE_PIECE = new RegExp(`^(?:[${LETTERS}]+|[0-9]+)$`, "u");
  const ALL_DIGITS = /^[0-9]+$/;
  const HEX_NUMBER = /^0x0*([0-9a-f]+)$/;
  const BARE_HEX = /^(?=[a-f]*[0-9])(?=[0-9]*[a-f])0*([0-9a-f]{1,8})$/;
  const CODE = /^(?:0[xX])?([0-9a-fA-F]{1,8})[hH]?$/;
  const MAX_WHOLE = 64;
  const STOP_WORDS = new Set(("a an and are as at be by can for from have if in is it may not " +
    "of on or tbd that the this to us we when will with yet you your").split(" "));

  const stemCache = new Map();
  function stem(word) {
    let stemmed = stemCache.get(word);
    if (stemmed === undefined) {
      stemmed = window.kbsitePorterStem(word);
      stemCache.set(word, stemmed);
    }
    return stemmed;
  }

  function wordTerm(word) {
    return STOP_WORDS.has(word) ? null : stem(word);
  }

  function numberTerm(digits) {
    return digits.replace(/^0+/, "") || "0";
  }

  function wholeTerm(raw) {
    if (raw.length > MAX_WHOLE) return null;
    const whole = raw.toLowerCase().replace(/\u2019/g, "'");
    const hex = HEX_NUMBER.exec(whole);
    if (hex) return "0x" + hex[1];
    const bare = whole.length === 8 ? BARE_HEX.exec(whole) : null;
    return bare ? "0x" + bare[1] : whole;
  }

  /** [own term or null, [[part term, start, end], ...]] for one token. */
  function tokenTerms(raw) {
    const pieces = [...raw.matchAll(PIECE)];
    if (pieces.length === 1) {
      return [ALL_DIGITS.test(raw) ? raw : wordTerm(raw.toLowerCase()), []];
    }
    const parts = [];
    for (const piece of pieces) {
      const text = piece[0];
      const term = ALL_DIGITS.test(text) ? numberTerm(text) : wordTerm(text.toLowerCase());
      if (term !== null) parts.push([term, piece.index, piece.index + text.length]);
    }
    return [wholeTerm(raw), parts];
  }

  /** Every index term of text, with character offsets: [{text, start, end}]. */
  function analyze(text) {
    const found = [];
    for (const match of text.matchAll(TOKEN)) {
      const [whole, parts] = tokenTerms(match[0]);
      const start = match.index;
      if (whole !== null) found.push({ text: whole, start, end: start + match[0].length });
      for (const [term, a, b] of parts) found.push({ text: term, start: start + a, end: start + b });
    }
    return found;
  }

  function terms(text) {
    return analyze(text).map((t) => t.text);
  }

  /** What a query word asks for: terms, and compounds {whole, parts}. */
  function queryUnits(word) {
    const units = [];
    for (const match of word.matchAll(TOKEN)) {
      const [whole, parts] = tokenTerms(match[0]);
      if (!parts.length && ONE_PIECE.test(match[0])) {
        if (whole !== null) units.push(whole);
      } else if (whole !== null || parts.length) {
        units.push({ whole, parts: parts.map((p) => p[0]) });
      }
    }
    return units;
  }

  function codeTerm(word) {
    const match = CODE.exec(word);
    return match ? "0x" + (match[1].toLowerCase().replace(/^0+/, "") || "0") : null;
  }

  /** A number written after STOP or "error": that code in its 0x form, or the word as written. */
  function codeUnits(word) {
    const code = codeTerm(word);
    const [whole, parts] = tokenTerms(word);
    const written = whole !== null ? whole : parts.length ? parts[0][0] : null;
    if (code === null || written === null) return queryUnits(word);
    return [{ whole: code, parts: written === code ? [] : [written] }];
  }

  function prefixTerm(text) {
    const lowered = text.toLowerCase();
    if (!ONE_PIECE.test(lowered) || ALL_DIGITS.test(lowered)) return lowered;
    const stemmed = stem(lowered);
    let common = 0;
    while (common < Math.min(lowered.length, stemmed.length) && lowered[common] === stemmed[common]) {
      common += 1;
    }
    return lowered.slice(0, common);
  }

  window.kbsiteSearch = {
    LETTERS, STOP_WORDS, stem, analyze, terms, queryUnits, codeTerm, codeUnits, prefixTerm,
  };
})();
