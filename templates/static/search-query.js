/* Browser search: the query language (query.py) and how people write queries (forms.py). */
(function () {
  "use strict";

  const { codeTerm } = window.kbsiteSearch;

  /* ---------- forms.py ---------- */

  const ARTICLE_NUMBER = /^[Qq]?(\d{5,8})$/;
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

  /* ---------- query.py ---------- */

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

  /** The query's lexemes; `state` holds what a field name or '-' leaves pending. */
  function lex(text) {
    const state = { text, lexemes: [], position: 0, field: null, negated: false, column: 0 };
    while (state.position < text.length) {
      LEXEME.lastIndex = state.position;
      const match = LEXEME.exec(text);
      const column = state.position + 1;
      const end = state.position + match[0].length;
      const pending = state.field !== null || state.negated;
      if (match[1] !== undefined) {
        if (pending) throw new QueryError("a field name or '-' must be followed by what to look for", column);
        state.position = end;
      } else if (match[4] !== undefined) {
        const close = text.indexOf('"', state.position + 1);
        if (close < 0) throw new QueryError("unclosed quote", column);
        push(state, "phrase", text.slice(state.position + 1, close), pending ? state.column : column);
        state.position = close + 1;
      } else if (match[2] !== undefined || match[3] !== undefined) {
        push(state, match[2] !== undefined ? "open" : "close", match[0], pending ? state.column : column);
        state.position = end;
      } else {
        lexWord(state, match[0], column, end);
      }
    }
    if (state.field !== null || state.negated) {
      throw new QueryError("the query ends before saying what to look for", text.length);
    }
    return state.lexemes;
  }

  /** A lexeme, taking the pending field and '-'. */
  function push(state, kind, text, column) {
    state.lexemes.push({ kind, text, column, field: state.field, negated: state.negated });
    state.field = null;
    state.negated = false;
  }

  /** '-', a field name, a range, an operator or a word. */
  function lexWord(state, word, column, end) {
    const text = state.text;
    const pending = state.field !== null || state.negated;
    state.position = end;
    if (word === "-" && (text[end] === "(" || text[end] === '"') && !pending) {
      state.negated = true;
      state.column = column;
      return;
    }
    if (!pending) state.column = column;
    if (word.startsWith("-") && word.length > 1 && !pending) {
      state.negated = true;
      word = word.slice(1);
      column += 1;
    }
    const fieldMatch = FIELD.exec(word);
    if (fieldMatch && state.field === null && fieldName(fieldMatch[1])) {
      state.field = fieldName(fieldMatch[1]);
      const rest = fieldMatch[2];
      if (RANGE_FIELDS.includes(state.field) && rest.startsWith("[")) {
        RANGE_TO.lastIndex = end - rest.length;
        const range = RANGE_TO.exec(text);
        if (range === null) throw new QueryError(`${state.field}: write a range as [1999 TO 2001]`, column);
        push(state, "range", `${range[1]}..${range[2]}`, state.column);
        state.position = RANGE_TO.lastIndex;
        return;
      }
      if (!rest) return;
      word = rest;
    }
    if (["OR", "AND", "NOT"].includes(word) && state.field === null) {
      if (state.negated) throw new QueryError(`'-' cannot apply to ${word}`, column);
      state.lexemes.push({ kind: word, text: word, column, field: null, negated: false });
    } else {
      push(state, "word", word, state.column);
    }
  }

  /** Recursive descent: OR binds loosest, then AND or words side by side. */
  class Parser {
    constructor(lexemes) {
      this.lexemes = lexemes;
      this.index = 0;
      this.depth = 0;
    }

    peek() {
      return this.index < this.lexemes.length ? this.lexemes[this.index] : null;
    }

    take() {
      return this.lexemes[this.index++];
    }

    parseOr(field) {
      const children = [this.parseAnd(field)];
      while (this.peek() !== null && this.peek().kind === "OR") {
        this.take();
        children.push(this.parseAnd(field));
      }
      return children.length === 1 ? children[0] : { type: "or", children };
    }

    parseAnd(field) {
      const children = [];
      let lexeme;
      let writtenAnd = false;
      while ((lexeme = this.peek()) !== null && lexeme.kind !== "OR" && lexeme.kind !== "close") {
        if (lexeme.kind === "AND") {
          this.take();
          writtenAnd = true;
          continue;
        }
        children.push(this.parseUnary(field));
        let after = this.peek();
        if (after !== null && after.kind === "OR") {
          const alternatives = [children.pop()];
          while ((after = this.peek()) !== null && after.kind === "OR") {
            this.take();
            const next = this.peek();
            if (next === null || ["OR", "close", "AND"].includes(next.kind)) {
              throw new QueryError("OR must stand between two things", after.column);
            }
            alternatives.push(this.parseUnary(field));
          }
          children.push({ type: "or", children: alternatives });
        }
      }
      if (!children.length) {
        const where = this.peek();
        throw new QueryError("expected a word here", where ? where.column : null);
      }
      if (children.length === 1) return children[0];
      return { type: writtenAnd ? "and" : "most", children };
    }

    parseUnary(field) {
      const lexeme = this.take();
      if (lexeme.kind === "NOT") {
        if (this.peek() === null) throw new QueryError("NOT must be followed by what to exclude", lexeme.column);
        return { type: "not", child: this.parseUnary(field) };
      }
      const node = this.atom(lexeme, field);
      return lexeme.negated ? { type: "not", child: node } : node;
    }

    atom(lexeme, outer) {
      const field = lexeme.field || outer;
      if (lexeme.kind === "open") {
        this.depth += 1;
        if (this.depth > 20) throw new QueryError("too many nested parentheses", lexeme.column);
        const next = this.peek();
        if (next === null || next.kind === "close") throw new QueryError("empty parentheses", lexeme.column);
        const node = this.parseOr(field);
        const closing = this.peek();
        if (closing === null || closing.kind !== "close") throw new QueryError("unclosed '('", lexeme.column);
        this.take();
        this.depth -= 1;
        return node;
      }
      if (lexeme.kind === "close") throw new QueryError("unmatched ')'", lexeme.column);
      if (lexeme.kind === "OR" || lexeme.kind === "AND") {
        throw new QueryError(`${lexeme.kind} must stand between two things`, lexeme.column);
      }
      return leaf(lexeme, field);
    }
  }

  function leaf(lexeme, field) {
    if (RANGE_FIELDS.includes(field)) return parseRange(field, lexeme.text, lexeme.column);
    if (lexeme.kind === "phrase") return { type: "text", text: lexeme.text, field, kind: "phrase" };
    if (lexeme.kind === "range") throw new QueryError(`${field}: takes no range`, lexeme.column);
    if (lexeme.kind === "code") return { type: "text", text: lexeme.text, field, kind: "code" };
    if (lexeme.text.endsWith("*") && lexeme.text.replace(/\*+$/, "").length >= 2) {
      return { type: "text", text: lexeme.text.replace(/\*+$/, ""), field, kind: "prefix" };
    }
    return { type: "text", text: lexeme.text, field, kind: "words" };
  }

  function checkPositive(node) {
    if (node.type === "not" ||
        ((node.type === "and" || node.type === "most") && node.children.every((c) => c.type === "not"))) {
      throw new QueryError("a query needs something to look for besides exclusions");
    }
    if (node.type === "or" && node.children.some((c) => c.type === "not")) {
      throw new QueryError("an exclusion cannot be one side of OR");
    }
    (node.children || []).filter((c) => c.type !== "not").forEach(checkPositive);
  }

  function parseQuery(text) {
    const stripped = text.trim();
    if (!stripped) throw new QueryError("the query is empty");
    const lexemes = readForms(lex(text));
    const parser = new Parser(lexemes);
    const root = parser.parseOr(null);
    if (parser.peek() !== null) throw new QueryError("unmatched ')'", parser.peek().column);
    checkPositive(root);
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

  Object.assign(window.kbsiteSearch, {
    QueryError, parseQuery, plainWords, withAlternatives, isFiller, ARTICLE_NUMBER, SCORED_FIELDS, FILTER_FIELDS,
    fillerWords: [...FILLER_WORDS],
  });
})();
