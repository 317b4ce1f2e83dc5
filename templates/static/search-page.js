/* Browser search: search.html; on every page, "/" to the search box and ?q= marking its words. */
(function () {
  "use strict";

  const { analyze, terms, prefixTerm, QueryError, parseQuery, respelled, engine: newEngine } = window.kbsiteSearch;

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

  const PAGE = 10;
  const FACETS = [
    ["category", "Category", (d) => d.category],
    ["product", "Product", (d) => d.product],
    ["year", "Year", (d) => String(d.year || "")],
  ];

  /* The search page's elements and state, set by searchPage. */
  let form, input, sortSelect, status, list, filtersBox, more, suggestion;
  let engine = null;
  let generation = 0;
  let state = null;
  let typingEntry = false;
  let openExact = false;

  /** How long a new page with a query may stay blank waiting for its results, in ms. */
  const BLANK_AT_MOST = 300;

  /** The search first, so that the query's index files are on their way while the page
   * does the rest. A page opened with a query stays blank (search-pending, kbsite.css)
   * until its results are in, and is then laid out and drawn once: otherwise Chromium
   * lays out and draws the empty page first, and the query's files wait behind that
   * (15–20 ms of a 140 ms page at 57k). A search slower than BLANK_AT_MOST shows the
   * page while it searches. Focus is given when the page is shown: focus() before
   * would lay the page out. */
  function searchPage() {
    [form, input, sortSelect, status, list, filtersBox, more, suggestion] = [
      "kb-search-form", "kb-q", "kb-sort", "kb-status", "kb-results", "kb-filters", "kb-more", "kb-suggestion",
    ].map((id) => document.getElementById(id));
    state = readState();
    if (state.q.trim()) {
      document.documentElement.classList.add("search-pending");
      setTimeout(showPage, BLANK_AT_MOST);
    }
    run();
    listenToForm();
    listenToKeys();
  }

  /** Show a page kept blank by searchPage, its box focused unless the reader is elsewhere. */
  function showPage() {
    const root = document.documentElement;
    if (!root.classList.contains("search-pending")) return;
    root.classList.remove("search-pending");
    if (document.activeElement === document.body) input.focus({ preventScroll: true });
  }

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

  /** Put the state in the address: a new history entry, except while typing one query. */
  function remember(push) {
    const url = stateUrl();
    const replace = !push && typingEntry;
    typingEntry = !push;
    if (url === location.pathname + location.search) return;
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
  }

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

  function showNothing(message) {
    list.replaceChildren();
    filtersBox.replaceChildren();
    more.hidden = true;
    status.textContent = message;
    showPage();
  }

  async function run() {
    const mine = ++generation;
    const opening = openExact;
    openExact = false;
    input.value = state.q;
    sortSelect.value = state.sort;
    suggestion.hidden = true;
    if (!state.q.trim()) {
      showNothing("Type words to search the archive.");
      document.title = `Search · ${document.body.dataset.siteTitle || ""}`;
      return;
    }
    let parsed;
    try {
      parsed = parseQuery(state.q);
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      showNothing(`Cannot search: ${error.message}`);
      return;
    }
    status.textContent = "Searching…";
    try {
      await searchAndShow(parsed, mine, opening);
    } catch (error) {
      if (mine !== generation) return;
      status.textContent = error instanceof QueryError ? `Cannot search: ${error.message}` :
        `Search failed: ${error.message}`;
      showPage();
    }
  }

  /** Whether a result passes the filters but `except`. */
  function kept(d, except) {
    return FACETS.every(([key, , value]) =>
      key === except || !state.filters[key].length || state.filters[key].includes(value(d)));
  }

  /** Search, filter, sort and show, unless a newer run began. */
  async function searchAndShow(parsed, mine, opening) {
    const started = performance.now();
    engine = engine || await newEngine();
    let ranked = await engine.search(parsed);
    if (mine !== generation) return;
    const corrections = ranked.corrections;
    const matches = highlightTest(parsed.root);
    const filtering = FACETS.some(([key]) => state.filters[key].length);
    let facetData = filtering ? await facetsOf(ranked) : null;
    if (mine !== generation) return;
    if (facetData !== null) {
      const filtered = new Set(facetData.filter((d) => kept(d, null)).map((d) => d.doc));
      ranked = ranked.filter(([doc]) => filtered.has(doc));
    }
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
    renderResults(docs, shown, matches, parsed);
    showCorrections(corrections);
    status.dataset.milliseconds = String(Math.round(performance.now() - started));
    status.dataset.shown = String(Math.round(performance.now()));
    showPage();
    facetData = facetData || await facetsOf(ranked);
    if (mine !== generation) return;
    renderFilters(facetData);
    const count = ranked.length;
    status.textContent = count
      ? `${count.toLocaleString("en")} article${count === 1 ? "" : "s"} found for “${state.q}”` +
        (count > shown.length ? `, showing ${shown.length}` : "") + "."
      : `No articles found for “${state.q}”.`;
    more.hidden = count <= shown.length;
    document.title = `${state.q} · Search · ${document.body.dataset.siteTitle || ""}`;
  }

  /** The facets of each ranked document, for the filters; their file is loaded only
   * now, after the first results are shown unless a filter is on. */
  async function facetsOf(ranked) {
    await engine.facets();
    return ranked.map(([doc]) => ({ doc, ...engine.facetsOf(doc) }));
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

  function renderFilters(facetData) {
    const groups = FACETS.map(([key, label, value]) => {
      const counts = new Map();
      for (const d of facetData) {
        if (!kept(d, key)) continue;
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

  let typingTimer = null;

  /** Search as the query is typed, on Enter, on a new sort order, for more results. */
  function listenToForm() {
    input.addEventListener("input", () => {
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => {
        state.q = input.value;
        state.shown = PAGE;
        remember(false);
        run();
      }, 150);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(typingTimer);
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
  }

  /** Arrow keys, Escape, Back and Forward. */
  function listenToKeys() {
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
      searchPage();
      return;
    }
    const query = new URLSearchParams(location.search).get("q");
    if (query) markArticle(query);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
