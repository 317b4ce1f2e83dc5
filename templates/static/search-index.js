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
   * scripts): waited for, not loaded twice. A tag is removed once it has run. */
  const pageTag = (path) => document.querySelector(`script[src$="search/${path}"]`);

  const pathOf = (kind, number) => (ONE_FILE.has(kind) ? `${kind}.js` : `${kind[0]}/${number}.js`);

  function load(kind, number) {
    const have = received[kind];
    if (have.has(number)) return Promise.resolve(have.get(number));
    const key = `${kind}/${number}`;
    if (!waiting.has(key)) {
      const path = pathOf(kind, number);
      waiting.set(key, new Promise((resolve, reject) => {
        const script = pageTag(path) || document.createElement("script");
        if (!script.src) {
          script.src = indexRoot() + path;
          script.async = true;
        }
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
        document.head.appendChild(script);
      }));
    }
    return waiting.get(key);
  }

  /** Each number of a text encoded as postings.py encodes them, in order. */
  function forEachNumber(text, take) {
    let value = 0;
    let shift = 0;
    for (let i = 0; i < text.length; i++) {
      const digit = DIGIT_VALUE[text.charCodeAt(i)];
      if (digit >= 32) {
        value += (digit - 32) * 2 ** shift;
        shift += 5;
      } else {
        take(value + digit * 2 ** shift);
        value = 0;
        shift = 0;
      }
    }
  }

  function decodeNumbers(text) {
    const values = [];
    forEachNumber(text, (value) => values.push(value));
    return values;
  }

  /** A term's postings in one field (postings.py: groups of documents by level, highest
   * first, separated by a zero, the only "A") as {docs, levels}, documents ascending;
   * `documents` is the index's count. Several groups are merged by putting each level
   * in its document's place, not by sorting. */
  function decodePostings(text, documents) {
    const single = !text.includes("A");
    const levelOf = single ? null : new Uint8Array(documents);
    const docs = [];
    const levels = [];
    let level = 0;
    let doc = -1;
    forEachNumber(text, (number) => {
      if (level === 0) {
        level = number;
        doc = -1;
      } else if (number === 0) {
        level = 0;
      } else {
        doc += number;
        if (single) {
          docs.push(doc);
          levels.push(level);
        } else {
          levelOf[doc] = level;
        }
      }
    });
    if (single) return { docs, levels };
    for (let d = 0; d < documents; d++) {
      if (levelOf[d] === 0) continue;
      docs.push(d);
      levels.push(levelOf[d]);
    }
    return { docs, levels };
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

  Object.assign(window.kbsiteSearch, {
    receive(kind, number, data) {
      received[kind].set(number, data);
      loadedFiles.push(pathOf(kind, number));
    },
    /** The index files this page has loaded (search.html's tag loads meta.js with the
     * scripts), relative to search/: for benchmarks and tests. */
    loadedFiles,
    load, decodeNumbers, decodePostings, shardOf, NONE, constant, andMaybe, difference, anyOf, allOf,
  });
})();
