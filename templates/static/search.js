/* kbsite search in the browser: the same analysis, query language and scores as
 * `kbsite search`, evaluated over the index shards in search/ (see webindex.py).
 *
 * The analysis, query parser and scoring below are ports of src/kbsite/analysis.py,
 * query.py and ranking.py; tests/test_search_js.py checks they agree. The index
 * arrives as script files (browsers refuse fetch() on file:// pages), each calling
 * kbsiteSearch.receive(kind, number, data).
 *
 * On every page: "/" focuses the search box, and ?q=... in an article's address
 * marks the query's words in the article. On search.html: the search itself.
 */
(function () {
  "use strict";

  /* ---------- analysis (analysis.py) ---------- */

  const LETTERS = "A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff";
  const JOINERS = "._\\\\/@:'\u2019-";
  const TOKEN = new RegExp(`[0-9${LETTERS}]+(?:[${JOINERS}]{1,2}[0-9${LETTERS}]+)*`, "gu");
  const PIECE = new RegExp(`[${LETTERS}]+|[0-9]+`, "gu");
  const ONE_PIECE = new RegExp(`^(?:[${LETTERS}]+|[0-9]+)$`, "u");
  const ALL_DIGITS = /^[0-9]+$/;
  const HEX_NUMBER = /^0x0*([0-9a-f]+)$/;
  const BARE_HEX = /^(?=[a-f]*[0-9])(?=[0-9]*[a-f])0*([0-9a-f]{1,8})$/;
  const CODE = /^(?:0[xX])?([0-9a-fA-F]{1,8})[hH]?$/;
  const ARTICLE_NUMBER = /^[Qq]?(\d{5,8})$/;
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

  /* ---------- how people write what they look for (forms.py) ---------- */

  const ID = "(\\d{5,8})";
  const ARTICLE_FORMS = [
    new RegExp(`^(?:q|kb|kbq)[:#]?${ID}$`, "i"),
    new RegExp("^(?:https?://)?(?:www\\.)?support\\.microsoft\\.com/" +
      "(?:(?:[a-z]{2}-[a-z]{2}/)?kb/|kb/|.*?[?&;=](?:kbid=|id=|kb;(?:[a-z]{2}-[a-z]{2};)?q?))" +
      `${ID}(?:[/?#&;].*)?$`, "i"),
  ];
  const OLD_ADDRESS = new RegExp("^(?:https?://)?(?:www\\.)?support\\.microsoft\\.com/support/kb/articles/" +
    "q(\\d{1,5})/(\\d{1,2})/(\\d{2})\\.aspx?$", "i");
  const KB_WORDS = new Set(["kb", "q", "article", "kbid"]);
  const NUMBER = new RegExp(`^#?${ID}$`);
  const CODE_WORDS = new Set(["stop", "error", "bugcheck", "code", "status", "exception", "hresult"]);
  const FILLER_WORDS = new Set(("how what why when where which who whom whose does do did doing done is am " +
    "are was were be been being has have had should would could can cannot can't cant won't wont don't dont " +
    "doesn't doesnt didn't didnt isn't isnt aren't wasn't i me my mine i'm im i've ive i'd we our you your he " +
    "she they them their it its it's someone somebody anyone anybody please help hi hello thanks thank tell " +
    "explain getting get got keep keeps kept happening happens happen happened way want need trying try fix " +
    "problem problems issue issues trouble").split(" "));

  function articleNumber(word) {
    const stripped = word.replace(/^[.,;()<>"']+|[.,;()<>"']+$/g, "");
    for (const form of ARTICLE_FORMS) {
      const match = form.exec(stripped);
      if (match) return parseInt(match[1], 10);
    }
    const old = OLD_ADDRESS.exec(stripped);
    return old ? parseInt(old[1] + old[2] + old[3], 10) : null;
  }

  function kbNumber(kbWord, number) {
    const match = NUMBER.exec(number);
    return KB_WORDS.has(kbWord.toLowerCase().replace(/[:#]+$/, "")) && match ? parseInt(match[1], 10) : null;
  }

  const isCodeWord = (word) => CODE_WORDS.has(word.toLowerCase().replace(/:+$/, ""));
  const isFiller = (word) => FILLER_WORDS.has(word.toLowerCase().replace(/\u2019/g, "'"));

  /** Article numbers in their written forms become Q315817; a number after STOP or "error" a code. */
  function readForms(lexemes) {
    const out = [];
    for (let lexeme of lexemes) {
      if (lexeme.kind !== "word" || (lexeme.field !== null && lexeme.field !== "id") || lexeme.negated) {
        out.push(lexeme);
        continue;
      }
      const last = out.length ? out[out.length - 1] : null;
      const before = last !== null && last.kind === "word" && !last.negated ? last : null;
      let number = articleNumber(lexeme.text);
      if (number === null && before !== null && before.field === lexeme.field) {
        number = kbNumber(before.text, lexeme.text);
        if (number !== null) lexeme = out.pop();
      }
      if (number !== null) lexeme = { ...lexeme, text: `Q${number}` };
      else if (before !== null && isCodeWord(before.text) && /[0-9]/.test(lexeme.text) &&
               codeTerm(lexeme.text) !== null) {
        lexeme = { ...lexeme, kind: "code" };
      }
      out.push(lexeme);
    }
    return out;
  }

  /* ---------- typo tolerance (spelling.py) ---------- */

  const RARE = 3;
  const NEIGHBOUR_FACTOR = 20;
  const EXPANSION_WEIGHT = 0.5;
  const LONGEST_KEY = 20;
  const WORD = new RegExp(`^[${LETTERS}]{3,}$`, "u");

  const maxEdits = (word) => (word.length < 4 ? 0 : word.length < 8 ? 1 : 2);

  function shardKey(word) {
    return (word[0] >= "a" && word[0] <= "z" ? word[0] : "0") + Math.min(word.length, LONGEST_KEY);
  }

  function neighbourKeys(word) {
    const edits = maxEdits(word);
    const keys = new Set();
    for (let n = Math.max(3, word.length - edits); n <= word.length + edits; n++) {
      keys.add(shardKey(word[0] + "x".repeat(n - 1)));
    }
    return [...keys].sort();
  }

  const wantsChecking = (word, frequency) => frequency <= RARE && maxEdits(word) > 0 && WORD.test(word);

  function editDistance(a, b, limit) {
    let previous2 = [];
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const current = [i, ...new Array(b.length).fill(0)];
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] !== b[j - 1] ? 1 : 0;
        current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          current[j] = Math.min(current[j], previous2[j - 2] + 1);
        }
      }
      if (Math.min(...current) > limit) return limit + 1;
      previous2 = previous;
      previous = current;
    }
    return previous[b.length];
  }

  /** spelling.decide: {word, replacement, expanded} or null. */
  function decide(word, frequency, candidates) {
    const edits = maxEdits(word);
    const known = Math.max(candidates[word] || 0, frequency);
    const limit = frequency ? 1 : edits;
    let best = null;
    for (const [candidate, count] of Object.entries(candidates)) {
      if (candidate === word || candidate[0] !== word[0] || Math.abs(candidate.length - word.length) > edits ||
          STOP_WORDS.has(candidate) || (frequency && count < NEIGHBOUR_FACTOR * Math.max(known, 1))) {
        continue;
      }
      const distance = editDistance(word, candidate, limit);
      if (distance > limit || stem(candidate) === stem(word)) continue;
      if (best === null || distance < best[0] || (distance === best[0] &&
          (count > best[1] || (count === best[1] && candidate < best[2])))) {
        best = [distance, count, candidate];
      }
    }
    return best ? { word, replacement: best[2], expanded: frequency > 0 } : null;
  }

  function respelled(text, corrections, quote) {
    for (const c of corrections) {
      const pattern = new RegExp(`(?<![\\w"-])${c.word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w"])`, "i");
      text = text.replace(pattern, () => (quote ? `"${c.word}"` : c.replacement));
    }
    return text;
  }

  /** synonyms.expansion: what a word stands for, by the first entry of the table that fits. */
  function expansion(word, table) {
    for (const [short, long] of table) {
      if (!short.includes("#")) {
        if (short === word) return long;
        continue;
      }
      const pattern = short.split("#").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("([0-9]+[a-z]?)");
      const match = new RegExp(`^${pattern}$`).exec(word);
      if (match) return long.replaceAll("#", match[1]);
    }
    return null;
  }

  /** query.plain_words: the words a query looks for in the scored fields, each once. */
  function plainWords(node, found = []) {
    if (node.type === "text") {
      const word = node.text.toLowerCase();
      if (node.kind === "words" && (node.field === null || node.field in SCORED_FIELDS) && !found.includes(word)) {
        found.push(word);
      }
    } else if (node.type === "and" || node.type === "most" || node.type === "or") {
      for (const child of node.children) plainWords(child, found);
    }
    return found;
  }

  /** query.with_alternatives. */
  function withAlternatives(node, found) {
    if (node.type === "text") {
      const extra = node.kind === "words" ? found.get(node.text.toLowerCase()) : undefined;
      return extra ? { ...node, alternatives: extra } : node;
    }
    if (node.type === "and" || node.type === "most" || node.type === "or") {
      return { ...node, children: node.children.map((c) => withAlternatives(c, found)) };
    }
    return node;
  }

  /* ---------- query language (query.py) ---------- */

  const SCORED_FIELDS = { title: 3.0, headings: 2.0, keywords: 2.0, body: 1.0 };
  const FILTER_FIELDS = ["product", "category", "type"];
  const FIELD_ALIASES = { keyword: "keywords", heading: "headings", kw: "keywords" };
  const RANGE_FIELDS = ["year", "date"];

  class QueryError extends Error {
    constructor(message, column) {
      super(column ? `${message} (at column ${column})` : message);
      this.column = column;
    }
  }

  function fieldName(name) {
    const lowered = FIELD_ALIASES[name.toLowerCase()] || name.toLowerCase();
    if (lowered in SCORED_FIELDS || FILTER_FIELDS.includes(lowered) || RANGE_FIELDS.includes(lowered) ||
        lowered === "id") {
      return lowered;
    }
    return null;
  }

  const LEXEME = /(\s+)|(\()|(\))|(")|([^\s()"]+)/y;
  const FIELD = /^([A-Za-z]+):([\s\S]*)$/;
  const COMPARE = /^(>=|<=|>|<)(.+)$/;
  const RANGE_TO = /\[\s*(\S*)\s+TO\s+(\S*)\s*\]/iy;

  function lex(text) {
    const lexemes = [];
    let position = 0;
    let pendingField = null;
    let pendingNegated = false;
    let pendingColumn = 0;
    const lexeme = (kind, value, column, field, negated) => ({ kind, text: value, column, field, negated });
    while (position < text.length) {
      LEXEME.lastIndex = position;
      const match = LEXEME.exec(text);
      let column = position + 1;
      const end = position + match[0].length;
      if (match[1] !== undefined) {
        if (pendingField !== null || pendingNegated) {
          throw new QueryError("a field name or '-' must be followed by what to look for", column);
        }
        position = end;
        continue;
      }
      const startColumn = pendingField !== null || pendingNegated ? pendingColumn : column;
      if (match[4] !== undefined) {
        const close = text.indexOf('"', position + 1);
        if (close < 0) throw new QueryError("unclosed quote", column);
        lexemes.push(lexeme("phrase", text.slice(position + 1, close), startColumn, pendingField, pendingNegated));
        pendingField = null;
        pendingNegated = false;
        position = close + 1;
        continue;
      }
      if (match[2] !== undefined || match[3] !== undefined) {
        lexemes.push(lexeme(match[2] !== undefined ? "open" : "close", match[0], startColumn, pendingField,
          pendingNegated));
        pendingField = null;
        pendingNegated = false;
        position = end;
        continue;
      }
      let word = match[0];
      if (word === "-" && (text[end] === "(" || text[end] === '"') && startColumn === column) {
        pendingNegated = true;
        pendingColumn = column;
        position = end;
        continue;
      }
      if (pendingField === null && !pendingNegated) pendingColumn = column;
      if (word.startsWith("-") && word.length > 1 && pendingField === null && !pendingNegated) {
        pendingNegated = true;
        word = word.slice(1);
        column += 1;
      }
      const fieldMatch = FIELD.exec(word);
      if (fieldMatch && pendingField === null && fieldName(fieldMatch[1])) {
        pendingField = fieldName(fieldMatch[1]);
        const rest = fieldMatch[2];
        if (RANGE_FIELDS.includes(pendingField) && rest.startsWith("[")) {
          RANGE_TO.lastIndex = end - rest.length;
          const range = RANGE_TO.exec(text);
          if (range === null) throw new QueryError(`${pendingField}: write a range as [1999 TO 2001]`, column);
          lexemes.push(lexeme("range", `${range[1]}..${range[2]}`, pendingColumn, pendingField, pendingNegated));
          pendingField = null;
          pendingNegated = false;
          position = RANGE_TO.lastIndex;
          continue;
        }
        if (!rest) {
          position = end;
          continue;
        }
        word = rest;
      }
      if (["OR", "AND", "NOT"].includes(word) && pendingField === null) {
        if (pendingNegated) throw new QueryError(`'-' cannot apply to ${word}`, column);
        lexemes.push(lexeme(word, word, column, null, false));
      } else {
        lexemes.push(lexeme("word", word, pendingColumn, pendingField, pendingNegated));
      }
      pendingField = null;
      pendingNegated = false;
      position = end;
    }
    if (pendingField !== null || pendingNegated) {
      throw new QueryError("the query ends before saying what to look for", text.length);
    }
    return lexemes;
  }

  function parseQuery(text) {
    const stripped = text.trim();
    if (!stripped) throw new QueryError("the query is empty");
    const lexemes = readForms(lex(text));
    let index = 0;
    let depth = 0;
    const peek = () => (index < lexemes.length ? lexemes[index] : null);
    const take = () => lexemes[index++];

    function parseOr(field) {
      const children = [parseAnd(field)];
      while (peek() !== null && peek().kind === "OR") {
        take();
        children.push(parseAnd(field));
      }
      return children.length === 1 ? children[0] : { type: "or", children };
    }

    function parseAnd(field) {
      const children = [];
      let lexeme;
      let writtenAnd = false;
      while ((lexeme = peek()) !== null && lexeme.kind !== "OR" && lexeme.kind !== "close") {
        if (lexeme.kind === "AND") {
          take();
          writtenAnd = true;
          continue;
        }
        children.push(parseUnary(field));
        let after = peek();
        if (after !== null && after.kind === "OR") {
          const alternatives = [children.pop()];
          while ((after = peek()) !== null && after.kind === "OR") {
            take();
            const next = peek();
            if (next === null || ["OR", "close", "AND"].includes(next.kind)) {
              throw new QueryError("OR must stand between two things", after.column);
            }
            alternatives.push(parseUnary(field));
          }
          children.push({ type: "or", children: alternatives });
        }
      }
      if (!children.length) {
        const where = peek();
        throw new QueryError("expected a word here", where ? where.column : null);
      }
      if (children.length === 1) return children[0];
      return { type: writtenAnd ? "and" : "most", children };
    }

    function parseUnary(field) {
      const lexeme = take();
      if (lexeme.kind === "NOT") {
        if (peek() === null) throw new QueryError("NOT must be followed by what to exclude", lexeme.column);
        return { type: "not", child: parseUnary(field) };
      }
      const node = atom(lexeme, field);
      return lexeme.negated ? { type: "not", child: node } : node;
    }

    function atom(lexeme, outer) {
      const field = lexeme.field || outer;
      if (lexeme.kind === "open") {
        depth += 1;
        if (depth > 20) throw new QueryError("too many nested parentheses", lexeme.column);
        const next = peek();
        if (next === null || next.kind === "close") throw new QueryError("empty parentheses", lexeme.column);
        const node = parseOr(field);
        const closing = peek();
        if (closing === null || closing.kind !== "close") throw new QueryError("unclosed '('", lexeme.column);
        take();
        depth -= 1;
        return node;
      }
      if (lexeme.kind === "close") throw new QueryError("unmatched ')'", lexeme.column);
      if (lexeme.kind === "OR" || lexeme.kind === "AND") {
        throw new QueryError(`${lexeme.kind} must stand between two things`, lexeme.column);
      }
      if (RANGE_FIELDS.includes(field)) return parseRange(field, lexeme.text, lexeme.column);
      if (lexeme.kind === "phrase") return { type: "text", text: lexeme.text, field, kind: "phrase" };
      if (lexeme.kind === "range") throw new QueryError(`${field}: takes no range`, lexeme.column);
      if (lexeme.kind === "code") return { type: "text", text: lexeme.text, field, kind: "code" };
      if (lexeme.text.endsWith("*") && lexeme.text.replace(/\*+$/, "").length >= 2) {
        return { type: "text", text: lexeme.text.replace(/\*+$/, ""), field, kind: "prefix" };
      }
      return { type: "text", text: lexeme.text, field, kind: "words" };
    }

    const root = parseOr(null);
    if (peek() !== null) throw new QueryError("unmatched ')'", peek().column);
    (function checkPositive(node) {
      if (node.type === "not" ||
          ((node.type === "and" || node.type === "most") && node.children.every((c) => c.type === "not"))) {
        throw new QueryError("a query needs something to look for besides exclusions");
      }
      if (node.type === "or" && node.children.some((c) => c.type === "not")) {
        throw new QueryError("an exclusion cannot be one side of OR");
      }
      (node.children || []).filter((c) => c.type !== "not").forEach(checkPositive);
    })(root);
    const only = lexemes.length === 1 && lexemes[0].kind === "word" && !lexemes[0].field ? lexemes[0] : null;
    const id = only ? ARTICLE_NUMBER.exec(only.text) : null;
    return { text, root, articleNumber: id ? parseInt(id[1], 10) : null };
  }

  /* Dates as day numbers counted like Python's date.toordinal(). */
  const EPOCH_ORDINAL = 719163;
  function ordinal(year, month, day) {
    const date = new Date(Date.UTC(2000, month - 1, day));
    date.setUTCFullYear(year);
    if (year < 1 || month < 1 || month > 12 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      return null;
    }
    return Math.round(date.getTime() / 86400000) + EPOCH_ORDINAL;
  }

  const DATE = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/;
  function dateSpan(field, text, column) {
    const match = DATE.exec(text);
    if (match === null || (field === "year" && match[2] !== undefined)) {
      const example = field === "year" ? "2001 or 1999..2001" : "2001, 2001-05 or 2001-05-31";
      throw new QueryError(`${field}: expects a date like ${example}, not '${text}'`, column);
    }
    const year = parseInt(match[1], 10);
    let span;
    if (match[3] !== undefined) {
      const day = ordinal(year, parseInt(match[2], 10), parseInt(match[3], 10));
      span = [day, day];
    } else if (match[2] !== undefined) {
      const month = parseInt(match[2], 10);
      const first = ordinal(year, month, 1);
      const following = month === 12 ? ordinal(year + 1, 1, 1) : ordinal(year, month + 1, 1);
      span = [first, following === null ? null : following - 1];
    } else {
      span = [ordinal(year, 1, 1), ordinal(year, 12, 31)];
    }
    if (span[0] === null || span[1] === null) throw new QueryError(`${field}: '${text}' is not a date`, column);
    return span;
  }

  function parseRange(field, text, column) {
    const compare = COMPARE.exec(text);
    if (compare) {
      const [low, high] = dateSpan(field, compare[2], column);
      if (compare[1] === ">=") return { type: "range", field, low, high: null };
      if (compare[1] === ">") return { type: "range", field, low: high + 1, high: null };
      if (compare[1] === "<=") return { type: "range", field, low: null, high };
      return { type: "range", field, low: null, high: low - 1 };
    }
    if (text.includes("..")) {
      const cut = text.indexOf("..");
      const first = text.slice(0, cut);
      const last = text.slice(cut + 2);
      const low = first === "" || first === "*" ? null : dateSpan(field, first, column)[0];
      const high = last === "" || last === "*" ? null : dateSpan(field, last, column)[1];
      if (low !== null && high !== null && low > high) {
        throw new QueryError(`${field}: the range ends before it starts`, column);
      }
      return { type: "range", field, low, high };
    }
    const [low, high] = dateSpan(field, text, column);
    return { type: "range", field, low, high };
  }

  /* ---------- the index: script files loaded on demand ---------- */

  const FIELD_CODES = { title: "t", headings: "h", keywords: "k", body: "b" };
  const PHRASE_FIELDS = ["title", "headings", "body", "product"];
  const DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const DIGIT_VALUE = new Map([...DIGITS].map((c, i) => [c, i]));

  const received = { meta: new Map(), terms: new Map(), docs: new Map(), sort: new Map(), vocab: new Map() };
  const waiting = new Map();
  let indexRoot = "search/";
  const loadedFiles = [];

  window.kbsiteSearch = {
    receive(kind, number, data) {
      received[kind].set(number, data);
    },
    /** The index files this page has loaded, relative to search/: for benchmarks and tests. */
    loadedFiles,
  };

  function load(kind, number) {
    const have = received[kind];
    if (have.has(number)) return Promise.resolve(have.get(number));
    const key = `${kind}/${number}`;
    if (!waiting.has(key)) {
      const path = kind === "meta" ? "meta.js" : kind === "sort" ? "sort.js" : `${kind[0]}/${number}.js`;
      waiting.set(key, new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = indexRoot + path;
        script.async = true;
        script.onload = () => {
          waiting.delete(key);
          script.remove();
          loadedFiles.push(path);
          if (have.has(number)) resolve(have.get(number));
          else reject(new Error(`${path} did not load its data`));
        };
        script.onerror = () => {
          waiting.delete(key);
          script.remove();
          reject(new Error(`could not load the search index file ${path}`));
        };
        document.head.appendChild(script);
      }));
    }
    return waiting.get(key);
  }

  function decodeNumbers(text) {
    const values = [];
    let value = 0;
    let shift = 0;
    for (let i = 0; i < text.length; i++) {
      const digit = DIGIT_VALUE.get(text[i]);
      if (digit >= 32) {
        value += (digit - 32) * 2 ** shift;
        shift += 5;
      } else {
        values.push(value + digit * 2 ** shift);
        value = 0;
        shift = 0;
      }
    }
    return values;
  }

  function shardOf(meta, term) {
    const bounds = meta.termShards;
    let low = 0;
    let high = bounds.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (bounds[middle] <= term) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  function rounded(value) {
    return Math.floor(value * 1e6 + 0.5) / 1e6;
  }

  class Engine {
    constructor(meta) {
      this.meta = meta;
      this.postingCache = new Map();
    }

    async entry(term) {
      const shard = await load("terms", shardOf(this.meta, term));
      return Object.prototype.hasOwnProperty.call(shard, term) ? shard[term] : null;
    }

    async entriesWithPrefix(prefix) {
      const first = shardOf(this.meta, prefix);
      let last = first;
      const bounds = this.meta.termShards;
      while (last + 1 < bounds.length && bounds[last + 1].startsWith(prefix)) last += 1;
      const shards = await Promise.all(
        Array.from({ length: last - first + 1 }, (_, i) => load("terms", first + i)));
      const found = [];
      for (const shard of shards) {
        for (const term of Object.keys(shard)) if (term.startsWith(prefix)) found.push(shard[term]);
      }
      return found;
    }

    /** doc -> score for one term in one field: boost * idf * level / LEVELS. */
    postings(entry, field, boost) {
      const code = FIELD_CODES[field];
      if (entry === null || !(code in entry)) return NONE;
      const [df, encoded] = entry[code];
      const idf = rounded(Math.log(this.meta.docCount / (df + 1)) + 1);
      const numbers = decodeNumbers(encoded);
      const docs = new Array(numbers.length / 2);
      const scores = new Array(numbers.length / 2);
      let doc = -1;
      for (let i = 0; i < numbers.length; i += 2) {
        doc += numbers[i] + 1;
        docs[i / 2] = doc;
        scores[i / 2] = boost * (idf * numbers[i + 1] / this.meta.levels);
      }
      return { docs, scores };
    }

    async termQuery(term, fields) {
      const entry = await this.entry(term);
      return anyOf(Object.entries(fields).map(([field, boost]) => this.postings(entry, field, boost)));
    }

    async unitQuery(unit, fields) {
      if (typeof unit === "string") return this.termQuery(unit, fields);
      const alternatives = [];
      if (unit.whole !== null) alternatives.push(await this.termQuery(unit.whole, fields));
      if (unit.parts.length) {
        alternatives.push(allOf(await Promise.all(unit.parts.map((p) => this.unitQuery(p, fields)))));
      }
      return anyOf(alternatives);
    }

    async evaluate(node) {
      if (node.type === "text") return this.text(node);
      if (node.type === "range") return this.range(node);
      if (node.type === "or") {
        const parts = (await Promise.all(node.children.map((c) => this.evaluate(c)))).filter((m) => m !== null);
        return parts.length ? anyOf(parts) : null;
      }
      if (node.type === "and" || node.type === "most") {
        const wanted = node.children.filter((c) => c.type !== "not");
        const unwanted = node.children.filter((c) => c.type === "not").map((c) => c.child);
        const positive = (await Promise.all(wanted.map((c) => this.evaluate(c)))).filter((m) => m !== null);
        if (!positive.length) return null;
        let result = allOf(positive);
        for (const excluded of await Promise.all(unwanted.map((c) => this.evaluate(c)))) {
          if (excluded !== null) result = difference(result, excluded);
        }
        return result;
      }
      throw new QueryError("a query needs something to look for besides exclusions");
    }

    async text(node) {
      if (node.field === "id") {
        const match = ARTICLE_NUMBER.exec(node.text.trim());
        if (match === null) throw new QueryError(`id: expects an article id like Q315817, not '${node.text}'`);
        const doc = await this.docOfNumber(parseInt(match[1], 10));
        return constant(doc === null ? [] : [doc], 0);
      }
      if (FILTER_FIELDS.includes(node.field)) return this.facetText(node);
      const fields = node.field ? { [node.field]: SCORED_FIELDS[node.field] } : SCORED_FIELDS;
      if (node.kind === "prefix") {
        const prefix = prefixTerm(node.text);
        if (!prefix) return null;
        const entries = await this.entriesWithPrefix(prefix);
        const perField = Object.entries(fields).map(([field, boost]) => {
          const found = new Set();
          const code = FIELD_CODES[field];
          for (const entry of entries) {
            if (!(code in entry)) continue;
            const numbers = decodeNumbers(entry[code][1]);
            let doc = -1;
            for (let i = 0; i < numbers.length; i += 2) {
              doc += numbers[i] + 1;
              found.add(doc);
            }
          }
          return constant([...found].sort((a, b) => a - b), boost);
        });
        return anyOf(perField);
      }
      if (node.kind === "phrase") {
        const phraseTerms = terms(node.text);
        if (!phraseTerms.length) return null;
        if (phraseTerms.length === 1) return this.termQuery(phraseTerms[0], fields);
        const entries = await Promise.all(phraseTerms.map((t) => this.entry(t)));
        return anyOf(Object.entries(fields).map(([field, boost]) =>
          allOf(entries.map((entry) => this.postings(entry, field, boost)))));
      }
      const units = node.kind === "code" ? codeUnits(node.text) : queryUnits(node.text);
      if (!units.length) return null;
      let result = allOf(await Promise.all(units.map((u) => this.unitQuery(u, fields))));
      for (const [text, weight] of node.alternatives || []) {
        const weighted = Object.fromEntries(Object.entries(fields).map(([f, boost]) => [f, boost * weight]));
        const alternative = await Promise.all(queryUnits(text).map((u) => this.unitQuery(u, weighted)));
        result = anyOf([result, allOf(alternative)]);
      }
      return result;
    }

    /** product:, category:, type: match the facet's name, as whoosh matches the field. */
    facetText(node) {
      const names = this.meta[{ product: "products", category: "categories", type: "types" }[node.field]];
      const slot = { category: 1, product: 2, type: 3 }[node.field];
      let test;
      if (node.kind === "prefix") {
        const prefix = prefixTerm(node.text);
        if (!prefix) return null;
        test = (nameTerms) => nameTerms.some((t) => t.startsWith(prefix));
      } else if (node.kind === "phrase") {
        const wanted = terms(node.text);
        if (!wanted.length) return null;
        test = PHRASE_FIELDS.includes(node.field)
          ? (nameTerms) => nameTerms.some((_, i) => wanted.every((w, j) => nameTerms[i + j] === w))
          : (nameTerms) => wanted.every((w) => nameTerms.includes(w));
      } else {
        const units = queryUnits(node.text);
        if (!units.length) return null;
        const has = (nameTerms, unit) => typeof unit === "string" ? nameTerms.includes(unit)
          : (unit.whole !== null && nameTerms.includes(unit.whole)) ||
            (unit.parts.length > 0 && unit.parts.every((p) => has(nameTerms, p)));
        test = (nameTerms) => units.every((u) => has(nameTerms, u));
      }
      const matching = new Set(names.map((name, i) => (test(terms(name)) ? i : -1)).filter((i) => i >= 0));
      const docs = [];
      const runs = this.meta.runs;
      for (let r = 0; r < runs.length; r++) {
        if (!matching.has(runs[r][slot])) continue;
        const end = r + 1 < runs.length ? runs[r + 1][0] : this.meta.documents;
        for (let doc = runs[r][0]; doc < end; doc++) docs.push(doc);
      }
      return constant(docs, 0);
    }

    async sortKeys() {
      if (!this.sortData) {
        const data = await load("sort", 0);
        this.sortData = { dates: decodeNumbers(data.dates), numbers: decodeNumbers(data.numbers) };
      }
      return this.sortData;
    }

    /** The document of an article number, from its id's term (field "i"): no sort.js. */
    async docOfNumber(number) {
      const entry = await this.entry(`q${number}`);
      return entry !== null && "i" in entry ? decodeNumbers(entry.i[1])[0] : null;
    }

    async range(node) {
      const { dates } = await this.sortKeys();
      const docs = [];
      for (let doc = 0; doc < dates.length; doc++) {
        const day = dates[doc];
        if (day === 0) continue;
        if ((node.low === null || day >= node.low) && (node.high === null || day <= node.high)) docs.push(doc);
      }
      return constant(docs, 0);
    }

    /** Words side by side (query.Most), coordinated as searcher.rank_most does. */
    async most(node) {
      const soft = [];
      let optional = [];
      const required = [];
      const excluded = [];
      for (const child of node.children) {
        if (child.type === "not") excluded.push(child.child);
        else if (child.type !== "text" || (child.kind !== "words" && child.kind !== "code")) required.push(child);
        else if (child.field !== null && !(child.field in SCORED_FIELDS)) required.push(child);
        else if (isFiller(child.text)) optional.push(child);
        else soft.push(child);
      }
      const present = async (nodes) =>
        (await Promise.all(nodes.map((c) => this.evaluate(c)))).filter((m) => m !== null && m.docs.length);
      let slots = await present(soft);
      if (!slots.length && !required.length) {
        slots = await present(optional);
        optional = [];
      }
      const extra = (await Promise.all(optional.map((c) => this.evaluate(c)))).filter((m) => m !== null);
      const scoring = slots.length || extra.length ? anyOf([...slots, ...extra]) : null;
      const musts = (await Promise.all(required.map((c) => this.evaluate(c)))).filter((m) => m !== null);
      const must = musts.length ? allOf(musts) : null;
      if (must === null && scoring === null) return NONE;
      let result = must === null ? scoring : scoring === null ? must : andMaybe(must, scoring);
      for (const excludedMatch of await Promise.all(excluded.map((c) => this.evaluate(c)))) {
        if (excludedMatch !== null) result = difference(result, excludedMatch);
      }
      if (!slots.length) return result;
      const least = slots.length <= 2 ? slots.length : Math.ceil(slots.length / 2);
      const sets = slots.map((m) => new Set(m.docs));
      const docs = [];
      const scores = [];
      result.docs.forEach((doc, i) => {
        const matched = sets.reduce((count, set) => count + (set.has(doc) ? 1 : 0), 0);
        if (matched < least) return;
        docs.push(doc);
        scores.push(result.scores[i] * matched / slots.length);
      });
      return { docs, scores };
    }

    /** searcher.find_corrections: the typo corrections of a query's words. */
    async corrections(root) {
      const found = [];
      for (const word of plainWords(root)) {
        if (maxEdits(word) === 0 || !WORD.test(word)) continue;
        const units = queryUnits(word);
        if (units.length !== 1 || typeof units[0] !== "string") continue;
        const entry = await this.entry(units[0]);
        const frequency = entry === null ? 0 : Math.max(0, ...Object.values(FIELD_CODES)
          .filter((code) => code in entry).map((code) => entry[code][0]));
        if (!wantsChecking(word, frequency)) continue;
        const shards = await Promise.all(neighbourKeys(word).map((key) => load("vocab", key)));
        const correction = decide(word, frequency, Object.assign({}, ...shards));
        if (correction !== null) found.push(correction);
      }
      return found;
    }

    /** Ranked [doc, score] pairs, best first, equal scores in archive order; the typo
     * corrections made are the array's `corrections`. */
    async search(parsed) {
      const corrections = await this.corrections(parsed.root);
      const also = new Map(corrections.map((c) => [c.word, [[c.replacement, c.expanded ? EXPANSION_WEIGHT : 1.0]]]));
      for (const word of plainWords(parsed.root)) {
        const long = expansion(word, this.meta.synonyms || []);
        if (long !== null) also.set(word, [...(also.get(word) || []), [long, 1.0]]);
      }
      const root = withAlternatives(parsed.root, also);
      const found = (root.type === "most" ? await this.most(root) : await this.evaluate(root)) || NONE;
      let ranked = found.docs.map((doc, i) => [doc, found.scores[i], rounded(found.scores[i])]);
      ranked.sort((a, b) => b[2] - a[2] || a[0] - b[0]);
      if (parsed.articleNumber !== null) {
        const exact = await this.docOfNumber(parsed.articleNumber);
        if (exact !== null) {
          const top = ranked.length ? ranked[0][1] : 0;
          ranked = [[exact, top, rounded(top)], ...ranked.filter((r) => r[0] !== exact)];
        }
      }
      const result = ranked.map(([doc, score]) => [doc, score]);
      result.corrections = corrections;
      return result;
    }

    runOf(doc) {
      const runs = this.meta.runs;
      let low = 0;
      let high = runs.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (runs[middle][0] <= doc) low = middle;
        else high = middle - 1;
      }
      return runs[low];
    }

    async documents(docs) {
      const per = this.meta.docsPerShard;
      const shards = [...new Set(docs.map((d) => Math.floor(d / per)))];
      await Promise.all(shards.map((s) => load("docs", s)));
      return docs.map((doc) => {
        const [id, title, date, excerpt] = received.docs.get(Math.floor(doc / per))[doc % per];
        const run = this.runOf(doc);
        return {
          doc, id, title, date, excerpt,
          category: this.meta.categories[run[1]],
          product: this.meta.products[run[2]],
          type: this.meta.types[run[3]],
          year: run[4],
        };
      });
    }
  }

  /* Matches: {docs, scores}, documents ascending. Scores add up in the order whoosh's
   * matchers add them: alternatives left to right, then the parts of an AND. */
  const NONE = { docs: [], scores: [] };

  function constant(docs, score) {
    return { docs, scores: docs.map(() => score) };
  }

  function union(a, b) {
    const docs = [];
    const scores = [];
    let i = 0;
    let j = 0;
    while (i < a.docs.length || j < b.docs.length) {
      if (j >= b.docs.length || (i < a.docs.length && a.docs[i] < b.docs[j])) {
        docs.push(a.docs[i]);
        scores.push(a.scores[i++]);
      } else if (i >= a.docs.length || b.docs[j] < a.docs[i]) {
        docs.push(b.docs[j]);
        scores.push(b.scores[j++]);
      } else {
        docs.push(a.docs[i]);
        scores.push(a.scores[i++] + b.scores[j++]);
      }
    }
    return { docs, scores };
  }

  function intersection(a, b) {
    const docs = [];
    const scores = [];
    let i = 0;
    let j = 0;
    while (i < a.docs.length && j < b.docs.length) {
      if (a.docs[i] < b.docs[j]) i++;
      else if (b.docs[j] < a.docs[i]) j++;
      else {
        docs.push(a.docs[i]);
        scores.push(a.scores[i++] + b.scores[j++]);
      }
    }
    return { docs, scores };
  }

  /** a's documents, with b's score added where b matches too (whoosh's AndMaybe). */
  function andMaybe(a, b) {
    const scores = [];
    let j = 0;
    for (let i = 0; i < a.docs.length; i++) {
      while (j < b.docs.length && b.docs[j] < a.docs[i]) j++;
      scores.push(j < b.docs.length && b.docs[j] === a.docs[i] ? a.scores[i] + b.scores[j] : a.scores[i]);
    }
    return { docs: a.docs, scores };
  }

  function difference(a, b) {
    const docs = [];
    const scores = [];
    let j = 0;
    for (let i = 0; i < a.docs.length; i++) {
      while (j < b.docs.length && b.docs[j] < a.docs[i]) j++;
      if (j < b.docs.length && b.docs[j] === a.docs[i]) continue;
      docs.push(a.docs[i]);
      scores.push(a.scores[i]);
    }
    return { docs, scores };
  }

  function anyOf(list) {
    const present = list.filter((m) => m !== null);
    return present.length ? present.reduce(union) : NONE;
  }

  function allOf(list) {
    const present = list.filter((m) => m !== null);
    return present.length ? present.reduce(intersection) : NONE;
  }

  /** The index terms a query looks for, to mark them in titles, excerpts and articles. */
  function highlightTest(root) {
    const exact = new Set();
    const prefixes = [];
    (function collect(node) {
      if (node.type === "text") {
        if (node.kind === "prefix") {
          const prefix = prefixTerm(node.text);
          if (prefix) prefixes.push(prefix);
        } else {
          for (const term of terms(node.text)) exact.add(term);
        }
      } else if (node.type === "and" || node.type === "most" || node.type === "or") {
        node.children.forEach(collect);
      }
    })(root);
    return (term) => exact.has(term) || prefixes.some((p) => term.startsWith(p));
  }

  /** Append text to parent, with the matching words wrapped in <mark>. Text is never parsed as HTML. */
  function appendMarked(parent, text, matches) {
    let position = 0;
    for (const token of analyze(text)) {
      if (!matches(token.text) || token.start < position) continue;
      parent.append(text.slice(position, token.start));
      const mark = document.createElement("mark");
      mark.textContent = text.slice(token.start, token.end);
      parent.append(mark);
      position = token.end;
    }
    parent.append(text.slice(position));
  }

  /* ---------- the search page ---------- */

  const PAGE = 10;
  const FACETS = [
    ["category", "Category", (d) => d.category],
    ["product", "Product", (d) => d.product],
    ["year", "Year", (d) => String(d.year || "")],
  ];

  function searchPage(root) {
    const form = document.getElementById("kb-search-form");
    const input = document.getElementById("kb-q");
    const sortSelect = document.getElementById("kb-sort");
    const status = document.getElementById("kb-status");
    const list = document.getElementById("kb-results");
    const filtersBox = document.getElementById("kb-filters");
    const more = document.getElementById("kb-more");
    const suggestion = document.getElementById("kb-suggestion");
    let engine = null;
    let generation = 0;
    let state = readState();

    function readState() {
      const params = new URLSearchParams(location.search);
      return {
        q: params.get("q") || "",
        sort: params.get("sort") || "relevance",
        filters: Object.fromEntries(FACETS.map(([key]) => [key, params.getAll(key)])),
        shown: PAGE,
      };
    }

    function stateUrl() {
      const params = new URLSearchParams();
      if (state.q) params.set("q", state.q);
      if (state.sort !== "relevance") params.set("sort", state.sort);
      for (const [key] of FACETS) for (const value of state.filters[key]) params.append(key, value);
      const query = params.toString();
      return location.pathname + (query ? "?" + query : "");
    }

    let typingEntry = false;

    /** Put the state in the address: a new history entry, except while typing one query. */
    function remember(push) {
      const url = stateUrl();
      const replace = !push && typingEntry;
      typingEntry = !push;
      if (url === location.pathname + location.search) return;
      if (replace) history.replaceState(null, "", url);
      else history.pushState(null, "", url);
    }

    let openExact = false;

    function queryLink(q) {
      const link = document.createElement("a");
      link.href = "?q=" + encodeURIComponent(q);
      link.textContent = q;
      link.addEventListener("click", (event) => {
        event.preventDefault();
        state.q = q;
        state.shown = PAGE;
        remember(true);
        run();
      });
      return link;
    }

    /** "Showing results for ... — search instead for ..." or "Did you mean ...?" */
    function showCorrections(corrections) {
      const corrected = corrections.filter((c) => !c.expanded);
      const expanded = corrections.filter((c) => c.expanded);
      if (corrected.length) {
        const shown = document.createElement("strong");
        shown.textContent = respelled(state.q, corrected, false);
        suggestion.replaceChildren("Showing results for ", shown, " — search instead for ",
          queryLink(respelled(state.q, corrected, true)));
      } else if (expanded.length) {
        suggestion.replaceChildren("Did you mean ", queryLink(respelled(state.q, expanded, false)), "?");
      }
      suggestion.hidden = !corrections.length;
    }

    async function run() {
      const mine = ++generation;
      const opening = openExact;
      openExact = false;
      input.value = state.q;
      sortSelect.value = state.sort;
      suggestion.hidden = true;
      if (!state.q.trim()) {
        list.replaceChildren();
        filtersBox.replaceChildren();
        more.hidden = true;
        status.textContent = "Type words to search the archive.";
        document.title = `Search · ${document.body.dataset.siteTitle || ""}`;
        return;
      }
      let parsed;
      try {
        parsed = parseQuery(state.q);
      } catch (error) {
        if (!(error instanceof QueryError)) throw error;
        list.replaceChildren();
        filtersBox.replaceChildren();
        more.hidden = true;
        status.textContent = `Cannot search: ${error.message}`;
        return;
      }
      status.textContent = "Searching…";
      const started = performance.now();
      try {
        engine = engine || new Engine(await load("meta", 0));
        let ranked = await engine.search(parsed);
        if (mine !== generation) return;
        const corrections = ranked.corrections;
        const matches = highlightTest(parsed.root);
        const facetData = ranked.map(([doc]) => {
          const run = engine.runOf(doc);
          return { doc, category: engine.meta.categories[run[1]], product: engine.meta.products[run[2]],
            year: run[4] };
        });
        const keep = (d, except) => FACETS.every(([key, , value]) =>
          key === except || !state.filters[key].length || state.filters[key].includes(value(d)));
        const filtered = new Set(facetData.filter((d) => keep(d, null)).map((d) => d.doc));
        ranked = ranked.filter(([doc]) => filtered.has(doc));
        if (state.sort !== "relevance") {
          const keys = await engine.sortKeys();
          if (mine !== generation) return;
          const byDate = (a, b) => keys.dates[b[0]] - keys.dates[a[0]] || keys.numbers[a[0]] - keys.numbers[b[0]];
          const byNumber = (a, b) => keys.numbers[a[0]] - keys.numbers[b[0]];
          ranked.sort(state.sort === "date" ? byDate : byNumber);
        }
        const shown = ranked.slice(0, state.shown);
        const docs = await engine.documents(shown.map(([doc]) => doc));
        if (mine !== generation) return;
        if (opening && docs.length && docs[0].id === `Q${parsed.articleNumber}`) {
          location.href = `kb/${docs[0].id}.html`;
          return;
        }
        renderFilters(facetData, keep);
        renderResults(docs, shown, matches, parsed);
        showCorrections(corrections);
        const elapsed = Math.round(performance.now() - started);
        const count = ranked.length;
        status.textContent = count
          ? `${count.toLocaleString("en")} article${count === 1 ? "" : "s"} found for “${state.q}”` +
            (count > shown.length ? `, showing ${shown.length}` : "") + "."
          : `No articles found for “${state.q}”.`;
        status.dataset.milliseconds = String(elapsed);
        more.hidden = count <= shown.length;
        document.title = `${state.q} · Search · ${document.body.dataset.siteTitle || ""}`;
      } catch (error) {
        if (mine !== generation) return;
        status.textContent = error instanceof QueryError ? `Cannot search: ${error.message}` :
          `Search failed: ${error.message}`;
      }
    }

    function renderResults(docs, shown, matches, parsed) {
      const items = docs.map((d, i) => {
        const item = document.createElement("li");
        item.className = "result";
        const heading = document.createElement("h2");
        const link = document.createElement("a");
        link.href = `kb/${d.id}.html?q=${encodeURIComponent(parsed.text)}`;
        link.className = "result-link";
        appendMarked(link, d.title, matches);
        heading.append(link);
        const details = document.createElement("p");
        details.className = "result-meta";
        for (const [label, value] of [["id", d.id], ["date", d.date], ["product", d.product]]) {
          if (!value) continue;
          const span = document.createElement("span");
          span.className = `result-${label}`;
          span.textContent = value;
          details.append(span);
        }
        const snippet = document.createElement("p");
        snippet.className = "result-snippet";
        appendMarked(snippet, d.excerpt, matches);
        item.dataset.score = shown[i][1].toFixed(4);
        item.append(heading, details, snippet);
        return item;
      });
      list.replaceChildren(...items);
    }

    function renderFilters(facetData, keep) {
      const groups = FACETS.map(([key, label, value]) => {
        const counts = new Map();
        for (const d of facetData) {
          if (!keep(d, key)) continue;
          const name = value(d);
          if (name) counts.set(name, (counts.get(name) || 0) + 1);
        }
        for (const selected of state.filters[key]) if (!counts.has(selected)) counts.set(selected, 0);
        if (!counts.size) return null;
        const fieldset = document.createElement("fieldset");
        const legend = document.createElement("legend");
        legend.textContent = label;
        fieldset.append(legend);
        const entries = [...counts.entries()].sort((a, b) =>
          key === "year" ? b[0].localeCompare(a[0]) : b[1] - a[1] || a[0].localeCompare(b[0]));
        for (const [name, count] of entries.slice(0, 40)) {
          const row = document.createElement("label");
          const box = document.createElement("input");
          box.type = "checkbox";
          box.name = key;
          box.value = name;
          box.checked = state.filters[key].includes(name);
          box.addEventListener("change", () => {
            const values = new Set(state.filters[key]);
            if (box.checked) values.add(name);
            else values.delete(name);
            state.filters[key] = [...values];
            state.shown = PAGE;
            remember(true);
            run();
          });
          const text = document.createElement("span");
          text.textContent = name;
          const number = document.createElement("span");
          number.className = "count";
          number.textContent = count.toLocaleString("en");
          row.append(box, text, number);
          fieldset.append(row);
        }
        return fieldset;
      }).filter((g) => g !== null);
      filtersBox.replaceChildren(...groups);
    }

    let typing = null;
    input.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        state.q = input.value;
        state.shown = PAGE;
        remember(false);
        run();
      }, 150);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(typing);
      state.q = input.value;
      state.shown = PAGE;
      openExact = true;
      remember(true);
      run();
    });
    sortSelect.addEventListener("change", () => {
      state.sort = sortSelect.value;
      remember(true);
      run();
    });
    more.addEventListener("click", () => {
      state.shown += PAGE;
      const focusIndex = list.children.length;
      run().then(() => {
        const next = list.children[focusIndex];
        if (next) next.querySelector("a").focus();
      });
    });
    list.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      const links = [...list.querySelectorAll("a.result-link")];
      const at = links.indexOf(document.activeElement);
      if (at < 0) return;
      event.preventDefault();
      const next = links[at + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) next.focus();
      else if (event.key === "ArrowUp") input.focus();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        const first = list.querySelector("a.result-link");
        if (first) {
          event.preventDefault();
          first.focus();
        }
      } else if (event.key === "Escape") {
        input.value = "";
        input.dispatchEvent(new Event("input"));
      }
    });
    window.addEventListener("popstate", () => {
      typingEntry = false;
      state = readState();
      run();
    });
    input.focus();
    run();
  }

  /* ---------- article pages: mark the words that were searched for ---------- */

  function markArticle(query) {
    let parsed;
    try {
      parsed = parseQuery(query);
    } catch (error) {
      return;
    }
    const matches = highlightTest(parsed.root);
    const main = document.getElementById("content");
    if (!main) return;
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    let first = null;
    for (const node of nodes) {
      if (!analyze(node.data).some((t) => matches(t.text))) continue;
      const fragment = document.createDocumentFragment();
      appendMarked(fragment, node.data, matches);
      first = first || fragment.querySelector("mark");
      node.replaceWith(fragment);
    }
    if (first) first.scrollIntoView({ block: "center" });
  }

  function start() {
    const script = document.querySelector("script[data-kbsite-root]");
    const root = script ? script.dataset.kbsiteRoot : "";
    indexRoot = root + "search/";
    document.addEventListener("keydown", (event) => {
      const target = event.target;
      const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
        target instanceof HTMLSelectElement || (target && target.isContentEditable);
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        const box = document.getElementById("kb-q") || document.getElementById("site-search-q");
        if (box) {
          event.preventDefault();
          box.focus();
          box.select();
        }
      }
    });
    if (document.getElementById("kb-results")) {
      searchPage(root);
      return;
    }
    const query = new URLSearchParams(location.search).get("q");
    if (query) markArticle(query);
  }

  window.kbsiteSearch.parseQuery = parseQuery;
  window.kbsiteSearch.analyze = analyze;
  window.kbsiteSearch.terms = terms;
  window.kbsiteSearch.queryUnits = queryUnits;
  window.kbsiteSearch.prefixTerm = prefixTerm;
  window.kbsiteSearch.fillerWords = [...FILLER_WORDS];
  window.kbsiteSearch.expansion = expansion;
  window.kbsiteSearch.engine = async () => new Engine(await load("meta", 0));

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
