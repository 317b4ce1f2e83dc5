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

  function load(kind, number) {
    const have = received[kind];
    if (have.has(number)) return Promise.resolve(have.get(number));
    const key = `${kind}/${number}`;
    if (!waiting.has(key)) {
      const path = ONE_FILE.has(kind) ? `${kind}.js` : `${kind[0]}/${number}.js`;
      waiting.set(key, new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = indexRoot() + path;
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
      const digit = DIGIT_VALUE[text.charCodeAt(i)];
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

  /** A term's postings in one field (postings.py: groups of documents by level, highest
   * first, separated by a zero) as {docs, levels}, documents ascending. */
  function decodePostings(text) {
    const keys = [];
    let groups = 0;
    let level = 0;
    let doc = -1;
    for (const number of decodeNumbers(text)) {
      if (level === 0) {
        level = number;
        doc = -1;
        groups += 1;
      } else if (number === 0) {
        level = 0;
      } else {
        doc += number;
        keys.push(doc * 32 + level);
      }
    }
    const ordered = Float64Array.from(keys);
    if (groups > 1) ordered.sort();
    const docs = new Array(ordered.length);
    const levels = new Array(ordered.length);
    for (let i = 0; i < ordered.length; i++) {
      docs[i] = Math.floor(ordered[i] / 32);
      levels[i] = ordered[i] % 32;
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
    },
    /** The index files this page has loaded, relative to search/: for benchmarks and tests. */
    loadedFiles,
    load, decodeNumbers, decodePostings, shardOf, NONE, constant, andMaybe, difference, anyOf, allOf,
  });
})();
