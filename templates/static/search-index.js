/* Browser search: the index's script files (webindex.py); matches combined as whoosh's. */
(function () {
  "use strict";

  const DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const DIGIT_VALUE = new Int8Array(128);
  for (let i = 0; i < DIGITS.length; i++) DIGIT_VALUE[DIGITS.charCodeAt(i)] = i;
  const ONE_FILE = new Set(["meta", "facets", "sort"]);

  const received = {
    meta: new Map(), facets: new Map(), terms: new Map(), docs: new Map(), sort: new Map(), vocab: new Map(),
  };
  const waiting = new Map();
  const loadedFiles = [];

  /** search/ from this page: the scripts' tag gives the site's top. */
  function indexRoot() {
    const script = document.querySelector("script[data-kbsite-root]");
    return (script ? script.dataset.kbsiteRoot : "") + "search/";
  }

  /** The page's own tag for an index file not yet run (search.html's meta.js, after the
   * scripts): waited for where it is, not loaded twice. Moving it would end its
   * render-blocking, and the page would be laid out before the query's files are asked
   * for. A tag is removed once it has run. */
  const pageTag = (path) => document.querySelector(`script[src$="search/${path}"]`);

  const pathOf = (kind, number) => (ONE_FILE.has(kind) ? `${kind}.js` : `${kind[0]}/${number}.js`);

  function load(kind, number) {
    const have = received[kind];
    if (have.has(number)) return Promise.resolve(have.get(number));
    const key = `${kind}/${number}`;
    if (!waiting.has(key)) {
      const path = pathOf(kind, number);
      waiting.set(key, new Promise((resolve, reject) => {
        const tag = pageTag(path);
        const script = tag || document.createElement("script");
        script.onload = () => {
          waiting.delete(key);
          script.remove();
          if (have.has(number)) resolve(have.get(number));
          else reject(new Error(`${path} did not load its data`));
        };
        script.onerror = () => {
          waiting.delete(key);
          script.remove();
          reject(new Error(`could not load the search index file ${path}`));
        };
        if (!tag) {
          script.src = indexRoot() + path;
          script.async = true;
          document.head.appendChild(script);
        }
      }));
    }
    return waiting.get(key);
  }

  /** A text's numbers, decoded before they are counted (the text's length bounds
   * them): kept for the next text, grown to the longest. */
  let decoded = new Float64Array(0);

  /** The numbers of a text encoded as postings.py encodes them, in order, into
   * `decoded`: how many. */
  function decodeInto(text) {
    if (decoded.length < text.length) decoded = new Float64Array(text.length);
    let count = 0;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < text.length; i++) {
      const digit = DIGIT_VALUE[text.charCodeAt(i)];
      if (digit >= 32) {
        value += (digit - 32) * scale;
        scale *= 32;
      } else {
        decoded[count++] = value + digit * scale;
        value = 0;
        scale = 1;
      }
    }
    return count;
  }

  function decodeNumbers(text) {
    const count = decodeInto(text);
    return decoded.slice(0, count);
  }

  /** Per document, a level gathered out of order by decodePostings, zeroed again after
   * use; grown to the highest document seen. */
  let levelOf = new Uint8Array(0);

  function growScratch(documents) {
    if (levelOf.length < documents) levelOf = new Uint8Array(documents);
  }

  /** The first `count` of `docs` (all below `span`, each with its `flags` set), ascending
   * and each once, in a new array: sorted when few, else by a walk over the flags. */
  function ascending(docs, count, span, flags) {
    if (count * 8 < span) {
      const sorted = docs.slice(0, count).sort();
      let kept = 0;
      for (let i = 0; i < count; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[kept++] = sorted[i];
      return sorted.subarray(0, kept);
    }
    const walked = new Int32Array(count);
    let kept = 0;
    for (let doc = 0; doc < span; doc++) if (flags[doc] !== 0) walked[kept++] = doc;
    return walked.subarray(0, kept);
  }

  /** A term's postings in one field (postings.py: groups of documents by level, highest
   * first, separated by a zero, the only "A") as {docs, levels} (an Int32Array and a
   * Uint8Array), documents ascending; `documents` is the index's count. Several groups
   * are merged by each level put in its document's place, the last group's winning. */
  function decodePostings(text, documents) {
    const numbers = decodeInto(text);
    const docs = new Int32Array(numbers);
    const levels = new Uint8Array(numbers);
    let count = 0;
    let groups = 0;
    let level = 0;
    let doc = -1;
    for (let i = 0; i < numbers; i++) {
      const number = decoded[i];
      if (level === 0) {
        level = number;
        doc = -1;
        groups += 1;
      } else if (number === 0) {
        level = 0;
      } else {
        doc += number;
        docs[count] = doc;
        levels[count++] = level;
      }
    }
    if (groups <= 1) return { docs: docs.subarray(0, count), levels: levels.subarray(0, count) };
    growScratch(documents);
    for (let i = 0; i < count; i++) levelOf[docs[i]] = levels[i];
    const placed = ascending(docs, count, documents, levelOf);
    const placedLevels = new Uint8Array(placed.length);
    for (let i = 0; i < placed.length; i++) {
      placedLevels[i] = levelOf[placed[i]];
      levelOf[placed[i]] = 0;
    }
    return { docs: placed, levels: placedLevels };
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

  /* Matches: {docs, scores}, an Int32Array of documents ascending and a Float64Array.
   * Scores add up in the order whoosh's matchers add them: alternatives left to right,
   * then the parts of an AND. */
  const NONE = { docs: new Int32Array(0), scores: new Float64Array(0) };

  function constant(docs, score) {
    return { docs: Int32Array.from(docs), scores: new Float64Array(docs.length).fill(score) };
  }

  /** The first `count` of docs and scores, as a match. */
  const firstOf = (docs, scores, count) => ({ docs: docs.subarray(0, count), scores: scores.subarray(0, count) });

  /** Two matches merged, a document in both scored a's score plus b's. */
  function union(a, b) {
    const docsA = a.docs;
    const docsB = b.docs;
    const scoresA = a.scores;
    const scoresB = b.scores;
    const docs = new Int32Array(docsA.length + docsB.length);
    const scores = new Float64Array(docs.length);
    let n = 0;
    let i = 0;
    let j = 0;
    while (i < docsA.length && j < docsB.length) {
      const x = docsA[i];
      const y = docsB[j];
      if (x < y) {
        docs[n] = x;
        scores[n++] = scoresA[i++];
      } else if (y < x) {
        docs[n] = y;
        scores[n++] = scoresB[j++];
      } else {
        docs[n] = x;
        scores[n++] = scoresA[i++] + scoresB[j++];
      }
    }
    for (; i < docsA.length; i++, n++) {
      docs[n] = docsA[i];
      scores[n] = scoresA[i];
    }
    for (; j < docsB.length; j++, n++) {
      docs[n] = docsB[j];
      scores[n] = scoresB[j];
    }
    return firstOf(docs, scores, n);
  }

  /** Matches of any of a list, each document's scores added in the list's order, as
   * whoosh's unions, left to right, add them: merged two at a time, the first with the
   * second, the result with the third. One pass each; a new page's first query runs
   * before the engine is compiled, where fewer and simpler loops count most. */
  function anyOf(list) {
    const present = list.filter((m) => m !== null && m.docs.length);
    return present.length ? present.reduce(union) : NONE;
  }

  function intersection(a, b) {
    const count = Math.min(a.docs.length, b.docs.length);
    const docs = new Int32Array(count);
    const scores = new Float64Array(count);
    let n = 0;
    let i = 0;
    let j = 0;
    while (i < a.docs.length && j < b.docs.length) {
      const x = a.docs[i];
      const y = b.docs[j];
      if (x < y) i++;
      else if (y < x) j++;
      else {
        docs[n] = x;
        scores[n++] = a.scores[i++] + b.scores[j++];
      }
    }
    return firstOf(docs, scores, n);
  }

  /** a's documents, with b's score added where b matches too (whoosh's AndMaybe). */
  function andMaybe(a, b) {
    const scores = new Float64Array(a.docs.length);
    let j = 0;
    for (let i = 0; i < a.docs.length; i++) {
      while (j < b.docs.length && b.docs[j] < a.docs[i]) j++;
      scores[i] = j < b.docs.length && b.docs[j] === a.docs[i] ? a.scores[i] + b.scores[j] : a.scores[i];
    }
    return { docs: a.docs, scores };
  }

  function difference(a, b) {
    const docs = new Int32Array(a.docs.length);
    const scores = new Float64Array(a.docs.length);
    let n = 0;
    let j = 0;
    for (let i = 0; i < a.docs.length; i++) {
      while (j < b.docs.length && b.docs[j] < a.docs[i]) j++;
      if (j < b.docs.length && b.docs[j] === a.docs[i]) continue;
      docs[n] = a.docs[i];
      scores[n++] = a.scores[i];
    }
    return firstOf(docs, scores, n);
  }

  function allOf(list) {
    const present = list.filter((m) => m !== null);
    return present.length ? present.reduce(intersection) : NONE;
  }

  Object.assign(window.kbsiteSearch, {
    receive(kind, number, data) {
      received[kind].set(number, data);
      loadedFiles.push(pathOf(kind, number));
    },
    /** The index files this page has loaded (search.html's tag loads meta.js with the
     * scripts), relative to search/: for benchmarks and tests. */
    loadedFiles,
    load, decodeNumbers, decodePostings, shardOf, NONE, firstOf, constant, andMaybe, difference, anyOf, allOf,
  });
})();
