/* Browser search: a query evaluated and ranked (searcher.py, ranking.py); spelling.py; synonyms.py. */
(function () {
  "use strict";

  const {
    LETTERS, STOP_WORDS, stem, terms, queryUnits, codeUnits, prefixTerm,
    QueryError, ARTICLE_NUMBER, SCORED_FIELDS, FILTER_FIELDS, isFiller, plainWords, withAlternatives,
    load, decodeNumbers, decodePostings, shardOf, NONE, firstOf, constant, andMaybe, difference, anyOf, allOf,
  } = window.kbsiteSearch;

  const FIELD_CODES = { title: "t", headings: "h", keywords: "k", body: "b" };
  const PHRASE_FIELDS = ["title", "headings", "body", "product"];

  function rounded(value) {
    return Math.floor(value * 1e6 + 0.5) / 1e6;
  }

  /** The positions of a match's scores, best first by their rounded value, equal ones
   * in archive order (a match's documents ascend, so by position). Sorted as numbers,
   * without a comparator called some n log n times, by one key a position: its score in
   * millionths (as `rounded` rounds; ordered as the rounded scores are) below the best,
   * times the count, plus the position; by the comparator if such keys grow too large. */
  function rankOrder(scores) {
    const count = scores.length;
    const millionths = new Float64Array(count);
    let best = 0;
    let worst = Infinity;
    for (let i = 0; i < count; i++) {
      const m = Math.floor(scores[i] * 1e6 + 0.5);
      millionths[i] = m;
      best = Math.max(best, m);
      worst = Math.min(worst, m);
    }
    if (!count || best >= 2 ** 40 || (best - worst + 1) * count >= 2 ** 52) {
      const order = Int32Array.from(scores, (_, i) => i);
      return order.sort((a, b) => millionths[b] - millionths[a] || a - b);
    }
    const keys = new Float64Array(count);
    for (let i = 0; i < count; i++) keys[i] = (best - millionths[i]) * count + i;
    keys.sort();
    const order = new Int32Array(count);
    for (let i = 0; i < count; i++) order[i] = keys[i] % count;
    return order;
  }

  /* ---------- spelling.py ---------- */

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

  /** A table's entries as [short, long, the pattern of a short form with a version
   * number or null], made once a table. */
  const tableEntries = new WeakMap();

  function entriesOf(table) {
    if (!tableEntries.has(table)) {
      tableEntries.set(table, table.map(([short, long]) => {
        if (!short.includes("#")) return [short, long, null];
        const pattern = short.split("#").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("([0-9]+[a-z]?)");
        return [short, long, new RegExp(`^${pattern}$`)];
      }));
    }
    return tableEntries.get(table);
  }

  /** synonyms.expansion: what a word stands for, by the first entry of the table that fits. */
  function expansion(word, table) {
    for (const [short, long, pattern] of entriesOf(table)) {
      if (pattern === null) {
        if (short === word) return long;
        continue;
      }
      const match = pattern.exec(word);
      if (match) return long.replaceAll("#", match[1]);
    }
    return null;
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

    /** doc -> score for one term in one field: boost * idf * level / LEVELS, computed
     * once a level (a level is below 256: decodePostings). */
    postings(entry, field, boost) {
      const code = FIELD_CODES[field];
      if (entry === null || !(code in entry)) return NONE;
      const [df, encoded] = entry[code];
      const idf = rounded(Math.log(this.meta.docCount / (df + 1)) + 1);
      const { docs, levels } = decodePostings(encoded, this.meta.documents);
      const scoreOf = new Float64Array(256);
      for (let level = 1; level < 256; level++) scoreOf[level] = boost * (idf * level / this.meta.levels);
      const scores = new Float64Array(docs.length);
      for (let i = 0; i < docs.length; i++) scores[i] = scoreOf[levels[i]];
      return { docs, scores };
    }

    async termQuery(term, fields) {
      const entry = await this.entry(term);
      const present = Object.entries(fields).filter(([field]) => entry !== null && FIELD_CODES[field] in entry);
      return anyOf(present.map(([field, boost]) => this.postings(entry, field, boost)));
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
            for (const doc of decodePostings(entry[code][1], this.meta.documents).docs) found.add(doc);
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

    /** Facet names and runs (webindex.py's facets.js): loaded when first needed, which a
     * first page of results is not. */
    async facets() {
      if (!this.facetData) this.facetData = await load("facets", 0);
      return this.facetData;
    }

    /** product:, category:, type: match the facet's name, as whoosh matches the field. */
    async facetText(node) {
      const facets = await this.facets();
      const names = facets[{ product: "products", category: "categories", type: "types" }[node.field]];
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
      const runs = facets.runs;
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
      return entry !== null && "i" in entry ? decodePostings(entry.i[1], this.meta.documents).docs[0] : null;
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
      const musts = (await Promise.all(required.map((c) => this.evaluate(c)))).filter((m) => m !== null);
      const must = musts.length ? allOf(musts) : null;
      const least = slots.length <= 2 ? slots.length : Math.ceil(slots.length / 2);
      const everySlot = slots.length > 0 && least === slots.length;
      let result;
      if (everySlot) {
        result = this.allSlots(slots, extra, must);
      } else {
        const scoring = slots.length || extra.length ? anyOf([...slots, ...extra]) : null;
        if (must === null && scoring === null) return NONE;
        result = must === null ? scoring : scoring === null ? must : andMaybe(must, scoring);
      }
      for (const excludedMatch of await Promise.all(excluded.map((c) => this.evaluate(c)))) {
        if (excludedMatch !== null) result = difference(result, excludedMatch);
      }
      if (!slots.length || everySlot) return result;
      const matched = new Uint8Array(result.docs.length);
      for (const slot of slots) {
        let j = 0;
        for (let i = 0; i < result.docs.length && j < slot.docs.length; i++) {
          while (j < slot.docs.length && slot.docs[j] < result.docs[i]) j++;
          if (slot.docs[j] === result.docs[i]) matched[i] += 1;
        }
      }
      const docs = new Int32Array(result.docs.length);
      const scores = new Float64Array(result.docs.length);
      let count = 0;
      for (let i = 0; i < result.docs.length; i++) {
        if (matched[i] < least) continue;
        docs[count] = result.docs[i];
        scores[count++] = result.scores[i] * matched[i] / slots.length;
      }
      return firstOf(docs, scores, count);
    }

    /** most()'s match when every slot must match: the slots' intersection, not their
     * union counted over, for the same scores added in the same order (the slots, each
     * filler word, then the required parts before them). A page's first query runs before
     * its loops are compiled, where the union's extra pass over every document of either
     * word is most of the search. */
    allSlots(slots, extra, must) {
      let result = allOf(slots);
      for (const optional of extra) if (optional.docs.length) result = andMaybe(result, optional);
      return must === null ? result : allOf([must, result]);
    }

    /** searcher.find_corrections: the typo corrections of a query's words. */
    async corrections(root) {
      const checked = await Promise.all(plainWords(root).map(async (word) => {
        if (maxEdits(word) === 0 || !WORD.test(word)) return null;
        const units = queryUnits(word);
        if (units.length !== 1 || typeof units[0] !== "string") return null;
        const entry = await this.entry(units[0]);
        const frequency = entry === null ? 0 : Math.max(0, ...Object.values(FIELD_CODES)
          .filter((code) => code in entry).map((code) => entry[code][0]));
        if (!wantsChecking(word, frequency)) return null;
        const shards = await Promise.all(neighbourKeys(word).map((key) => load("vocab", key)));
        return decide(word, frequency, Object.assign({}, ...shards));
      }));
      return checked.filter((correction) => correction !== null);
    }

    /** Start loading, all at once, the term shards a query's text will look up. */
    prefetch(root, articleNumber) {
      const wanted = new Set(articleNumber === null ? [] : [`q${articleNumber}`]);
      const add = (unit) => {
        if (typeof unit === "string") {
          wanted.add(unit);
        } else {
          if (unit.whole !== null) wanted.add(unit.whole);
          unit.parts.forEach(add);
        }
      };
      const visit = (node) => {
        if (node.type === "text" && node.kind !== "prefix" && !FILTER_FIELDS.includes(node.field)) {
          const units = node.kind === "code" ? codeUnits(node.text) : node.kind === "phrase" ? terms(node.text)
            : queryUnits(node.text);
          units.forEach(add);
          for (const [text] of node.alternatives || []) queryUnits(text).forEach(add);
        }
        for (const child of node.children || []) visit(child);
        if (node.child) visit(node.child);
      };
      visit(root);
      for (const term of wanted) load("terms", shardOf(this.meta, term)).catch(() => null);
    }

    /** Ranked [doc, score] pairs, best first, equal scores in archive order; the typo
     * corrections made are the array's `corrections`. */
    async search(parsed) {
      const expanded = new Map();
      for (const word of plainWords(parsed.root)) {
        const long = expansion(word, this.meta.synonyms || []);
        if (long !== null) expanded.set(word, [[long, 1.0]]);
      }
      this.prefetch(withAlternatives(parsed.root, expanded), parsed.articleNumber);
      const corrections = await this.corrections(parsed.root);
      const also = new Map(corrections.map((c) => [c.word, [[c.replacement, c.expanded ? EXPANSION_WEIGHT : 1.0]]]));
      for (const [word, alternatives] of expanded) also.set(word, [...(also.get(word) || []), ...alternatives]);
      const root = withAlternatives(parsed.root, also);
      const found = (root.type === "most" ? await this.most(root) : await this.evaluate(root)) || NONE;
      const { docs, scores } = found;
      let result = Array.from(rankOrder(scores), (i) => [docs[i], scores[i]]);
      if (parsed.articleNumber !== null) {
        const exact = await this.docOfNumber(parsed.articleNumber);
        if (exact !== null) {
          const top = result.length ? result[0][1] : 0;
          result = [[exact, top], ...result.filter((r) => r[0] !== exact)];
        }
      }
      result.corrections = corrections;
      return result;
    }

    /** A document's category, product, type and year (call facets() first). */
    facetsOf(doc) {
      const { runs, categories, products, types } = this.facetData;
      let low = 0;
      let high = runs.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (runs[middle][0] <= doc) low = middle;
        else high = middle - 1;
      }
      const run = runs[low];
      return { category: categories[run[1]], product: products[run[2]], type: types[run[3]], year: run[4] };
    }

    async documents(docs) {
      const per = this.meta.docsPerShard;
      const numbers = [...new Set(docs.map((d) => Math.floor(d / per)))];
      const shards = new Map(await Promise.all(numbers.map(async (s) => [s, await load("docs", s)])));
      return docs.map((doc) => {
        const [id, title, date, excerpt, product] = shards.get(Math.floor(doc / per))[doc % per];
        return { doc, id, title, date, excerpt, product };
      });
    }
  }

  Object.assign(window.kbsiteSearch, {
    expansion, respelled,
    engine: async () => new Engine(await load("meta", 0)),
  });
})();
