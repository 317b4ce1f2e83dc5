"""The browser search (templates/static/search-*.js) against kbsite's Python search.

The search scripts port analysis.py, query.py and ranking.py; these tests run them in
headless Chromium on the built sample site and compare them with the Python side: token by
token, query tree by query tree and ranked list by ranked list. Then they drive the
search page and article pages as a reader would, from file:// and from a web server.
"""

from __future__ import annotations

import datetime
import functools
import http.server
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from click.testing import CliRunner

from kbsite.build import BuildOptions, build_site
from kbsite.cli import main
from kbsite.read.source import read_source
from kbsite.report import BuildReport
from kbsite.search import analysis, forms, synonyms
from kbsite.search.query import And, Most, Node, Not, Query, QueryError, Range, Text, parse_query
from kbsite.search.searcher import search

from ..conftest import CONTENT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

SAMPLE_ARTICLES = sorted(p for p in CONTENT.rglob("*") if p.suffix.upper() == ".TXT")

# ---------------------------------------------------------------- the tables

TRICKY_STRINGS = [
    *["Tdpipe.sys", r"HKEY_LOCAL_MACHINE\System\CurrentControlSet", "SP6a", "0x0000001E"],
    *["console.writeline", r"C:\WINNT\system32\drivers", "don’t", "don't", "naïve café"],
    *["Ελληνικά", "Привет, мир", "ΟΔΟΣ ΣΑΣ", "İstanbul", "ǅemal", "µs ªº", "Straße"],
    "alpha.beta.gamma.delta.epsilon.zeta.eta.theta.iota.kappa.lambda.mu.nu",  # 70 characters
    "b" * 61 + ".c1 " + "b" * 61 + ".c12",  # 64 and 65 characters: whole, then parts only
    " ".join(sorted(analysis.STOP_WORDS)).upper(),
    "abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghij.abcdefghi1.z",
    *["007 0042 000 0", "0x 0x0 0x000 0xABCDEF 0X41", "1.2.3 3.1 x86 Win32API 2nd 64bit"],
    *["e.g., i.e. etc.", "http://www.example.com/path/file.htm?x=1&y=2#top", "user@example.com"],
    *["MS-DOS a--b a---b -leading trailing- _init_ __init__", "O'Reilly rock’n’roll a'b'c"],
    *["Q315817 q315817 KB315817", "x@y:z/w\\v", "tab\there\nnew\u00a0line", "ﬁnding ẞ K"],
    *["The and OR not", "", "   ", "...", "a", "THE"],
]

QUERIES = [
    *["memory leak", '"access violation"', "excel OR word", "excel OR word OR access"],
    *["printer -driver", "printer NOT driver", "NOT driver printer", "(excel OR word) macro"],
    *["-(excel OR word) macro", '-"access violation" memory', "a AND b", "a and b"],
    *["title:leak", "TITLE:leak", "heading:setup", "headings:setup", "keyword:kbbug"],
    *["kw:kbbug", 'product:"harbor mail"', "product:exchange", "category:hmail", "type:prb"],
    *["id:Q200105", "title:(leak OR memory)", "product:(harbor OR lighthouse) database"],
    *["year:2001", "year:1999..2001", "year:[1999 TO 2001]", "year:[1999 to 2001] leak"],
    *["year:>=2000", "year:>2000", "year:<=1999", "year:<1999", "year:..2000", "year:2000.."],
    *["year:*..2000", "date:2001-05", "date:2001-5", "date:2001-01-01..2001-06-30"],
    *["date:2004-02", "date:2001-12", "date:>=2001-02-28", "-year:2001 leak"],
    *["leak*", "title:leak*", "a*", "Q200105", "q200105", "200105", "Q1234567", "1234"],
    *["Tdpipe.sys", r"HKEY_LOCAL_MACHINE\System", "foo:bar", "http://example.com/x"],
]

# Queries both parsers refuse, with the same message.
MALFORMED = [
    *["", "   ", '"unclosed', "leak (", "(leak", "leak)", "()", "OR leak", "leak OR"],
    *["leak OR OR memory", "-leak", "NOT leak", "-leak -memory", "title: leak", "title:"],
    *["-OR", "NOT", "leak NOT", "year:[1999 2001]", "(" * 21 + "leak" + ")" * 21],
    *["year:abc", "year:2001-05", "year:2001..1999", "date:2001-06..2001-05", '-"phrase"'],
    *["leak OR -memory", "(leak OR -memory) pool"],
]
# Impossible dates: both refuse; Python adds the reason from datetime.
MALFORMED_DATES = ["date:2001-13", "date:2001-02-30", "date:2001-00-01", "year:0000"]

ENGINE_QUERIES = [
    *["leak", "memory leak", "harbor mail", "queue OR relay", "mail -relay", "drive NOT network"],
    *["(queue OR relay) server", "-(queue OR relay) server", "driver*", "mail*", "memor*"],
    *["title:database", "title:(mail OR desktop)", "headings:example", "keyword:kbbug"],
    *["kw:kbprb", "hnetio.sys", "Hnetio", "0x0000004A", "0x4a", "HKEY_LOCAL_MACHINE", "HDESK.INI"],
    *["MS-DOS", "Q200105", "200105", "Q90210", "café", "zürich", "error 3021", "550"],
    *["printer", "the", "setup OR the"],
    # filters and ranges: they narrow, adding nothing to the score
    *["product:desktop", 'product:"mail client"', "category:ldb", "category:hmail -relay"],
    *["type:prb", 'type:"err msg"', "year:2001", "year:1999..2000", "year:[1998 TO 1999] driver"],
    *["year:>=2002", "date:2001-04", "date:2001-01-01..2001-06-30", "date:<1999 harbor"],
    *["id:Q200105", "id:200105 OR leak", "harbor -year:2001", "product:desktop drive*"],
    *["category:ldb OR year:2001", "leak OR category:ldb", "harbor -(year:2001 OR leak)"],
    # as people type: article numbers, codes, questions, typos, short forms
    *["KB200105", "kb 200105", "http://support.microsoft.com/kb/200105", "kb 90210"],
    *["http://support.microsoft.com/support/kb/articles/q200/1/05.asp", "stop 4a", "stop 0x4A"],
    *["error 3021", "STOP 0000004A harbor", "harbor relay queue", "harbor relay xqzvwk"],
    *["how do i fix relaying denied on my computer", "why does harbor mail keep failing please"],
    *["memroy", "harbr mail sever", "relayng denied", "title:garbeld", "w2k", "nt4 harbor"],
    # side by side words that must all match, with filler, filters and exclusions around them
    *["how do i relay", "my harbor mail", "harbor mail -relay year:2001", "the relay -queue"],
]
FORGIVING_QUERIES = ["memroy", "harbr mail sever", "relayng denied", "garbled", "leak"]
PHRASE_QUERIES = ['"harbor mail"', '"mail server"', '"service pack"', '"relaying denied"']

# ---------------------------------------------------------------- pages and helpers


@contextmanager
def open_page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context; fails if the page threw an uncaught exception."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with open_page(browser) as tab:
        yield tab


@pytest.fixture(scope="module")
def site(sample_site: tuple[Path, BuildReport]) -> Path:
    return sample_site[0]


@pytest.fixture(scope="module")
def index_dir(sample_index: Path) -> Path:
    return sample_index


@pytest.fixture(scope="module")
def js(browser: Browser, site: Path) -> Iterator[Page]:
    """The sample site's empty search page, for calling window.kbsiteSearch."""
    with open_page(browser) as tab:
        tab.goto((site / "search.html").as_uri())
        tab.wait_for_function("() => Boolean(window.kbsiteSearch?.parseQuery)")
        yield tab


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the browser drops connections it no longer needs


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve the folder on 127.0.0.1 (a free port) while inside; yields its URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module", params=["file", "http"])
def base(request: pytest.FixtureRequest, site: Path) -> Iterator[str]:
    """The site's address, ending in '/': opened from disk, then from a web server."""
    if request.param == "file":
        yield site.as_uri() + "/"
    else:
        with serve(site) as url:
            yield url


# The status says "N articles found for “q”" (or "No articles found ...") once done.
SEARCH_DONE = """([q, errorsToo]) => {
  const status = document.getElementById("kb-status")?.textContent ?? "";
  return status.includes(`found for “${q}”`) || status.startsWith("Search failed") ||
    (errorsToo && status.startsWith("Cannot search"));
}"""


def wait_for_results(page: Page, q: str, errors_too: bool = False) -> str:
    """Wait until the page has searched for q; return the status text.

    A "Cannot search" status does not name the query: accept it only on a fresh page.
    """
    page.wait_for_function(SEARCH_DONE, arg=[q, errors_too])
    status = page.text_content("#kb-status") or ""
    assert not status.startswith("Search failed"), status
    return status


def wait_for_status(page: Page, status: str) -> None:
    page.wait_for_function(
        "s => document.getElementById('kb-status')?.textContent === s", arg=status
    )


def open_search(page: Page, base: str, q: str, **params: str | list[str]) -> str:
    page.goto(f"{base}search.html?{urlencode({'q': q, **params}, doseq=True)}")
    return wait_for_results(page, q, errors_too=True)


def result_ids(page: Page) -> list[str]:
    return page.locator("#kb-results li.result .result-id").all_text_contents()


def result_texts(page: Page, name: str) -> list[str]:
    return page.locator(f"#kb-results li.result .result-{name}").all_text_contents()


def url_params(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def status_count(status: str) -> int:
    """The number of articles found, from the status."""
    first = status.split()[0]
    return 0 if first == "No" else int(first.replace(",", ""))


def shown_count(status: str) -> int:
    """How many results are listed, from the status: "..., showing 10." or all found."""
    showing = re.search(r"showing ([\d,]+)", status)
    return int(showing.group(1).replace(",", "")) if showing else status_count(status)


def cli_ids(index_dir: Path, q: str, limit: int) -> list[str]:
    """The ids `kbsite search --json` lists for q."""
    result = CliRunner().invoke(
        main, ["search", "--index", str(index_dir), "-n", str(limit), "--json", q]
    )
    assert result.exit_code == 0, result.output
    return [hit["id"] for hit in json.loads(result.stdout)]


def assert_lists_like_cli(page: Page, status: str, index_dir: Path, q: str) -> None:
    """The page lists as many results as its status says, the ones `kbsite search` lists."""
    shown = shown_count(status)
    assert result_ids(page) == cli_ids(index_dir, q, limit=max(shown, 1))
    assert len(result_ids(page)) == shown


def active_element(page: Page) -> str:
    """The focused element's id, or "link:" and its text for a result link."""
    return page.evaluate(
        """() => { const e = document.activeElement;
          return e.classList.contains("result-link") ? "link:" + e.textContent : e.id; }"""
    )


# ---------------------------------------------------------------- Python as JSON


def ordinal(day: datetime.date | None) -> int | None:
    return day.toordinal() if day is not None else None


def tree_json(node: Node) -> dict[str, Any]:
    """A parsed query node in the browser's shape."""
    if isinstance(node, Text):
        return {"type": "text", "text": node.text, "field": node.field, "kind": node.kind}
    if isinstance(node, Range):
        low, high = ordinal(node.low), ordinal(node.high)
        return {"type": "range", "field": node.field, "low": low, "high": high}
    if isinstance(node, Not):
        return {"type": "not", "child": tree_json(node.child)}
    kind = "and" if isinstance(node, And) else "most" if isinstance(node, Most) else "or"
    return {"type": kind, "children": [tree_json(child) for child in node.children]}


def query_json(query: Query) -> dict[str, Any]:
    number = int(query.article_id[1:]) if query.article_id else None
    return {"text": query.text, "root": tree_json(query.root), "articleNumber": number}


def unit_json(unit: analysis.QueryUnit) -> str | dict[str, Any]:
    if isinstance(unit, str):
        return unit
    return {"whole": unit.whole, "parts": list(unit.parts)}


def tokens_json(text: str) -> list[dict[str, Any]]:
    return [{"text": t.text, "start": t.start, "end": t.end} for t in analysis.analyze(text)]


def python_error(q: str, index_dir: Path | None = None) -> str:
    """Python's QueryError message for q (from parsing, or from searching if index_dir)."""
    with pytest.raises(QueryError) as error:
        if index_dir is None:
            parse_query(q)
        else:
            search(index_dir, q)
    return str(error.value)


def js_error(js: Page, q: str) -> dict[str, str] | None:
    return js.evaluate(
        """q => { try { kbsiteSearch.parseQuery(q); return null; }
                  catch (e) { return {name: e.constructor.name, message: e.message}; } }""",
        q,
    )


# ---------------------------------------------------------------- 1. analysis


def sample_texts() -> list[str]:
    return [read_source(path).text for path in SAMPLE_ARTICLES]


def test_the_sample_is_what_these_tests_expect() -> None:
    texts = sample_texts()
    assert len(texts) == 35
    # JavaScript offsets count UTF-16 units, Python's code points: equal in the BMP only.
    assert all(ord(c) < 0x10000 for text in texts + TRICKY_STRINGS for c in text)


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_analyze_tricky_strings(js: Page, text: str) -> None:
    assert js.evaluate("t => kbsiteSearch.analyze(t)", text) == tokens_json(text)
    assert js.evaluate("t => kbsiteSearch.terms(t)", text) == analysis.terms(text)


@pytest.mark.parametrize("path", SAMPLE_ARTICLES, ids=lambda p: p.stem)
def test_analyze_each_sample_article(js: Page, path: Path) -> None:
    text = read_source(path).text
    assert js.evaluate("t => kbsiteSearch.analyze(t)", text) == tokens_json(text)


def query_words() -> list[str]:
    """The tricky strings, each of their words and every distinct word of the sample."""
    words = set(TRICKY_STRINGS)
    for text in TRICKY_STRINGS + sample_texts():
        words.update(text.split())
    return sorted(words)


def test_query_units_and_prefix_terms(js: Page) -> None:
    words = query_words()
    got = js.evaluate(
        "ws => ws.map(w => [kbsiteSearch.queryUnits(w), kbsiteSearch.prefixTerm(w)])", words
    )
    expected = [
        [[unit_json(u) for u in analysis.query_units(w)], analysis.prefix_term(w)] for w in words
    ]
    differing = [
        f"{w!r}: browser {g}, Python {e}"
        for w, g, e in zip(words, got, expected, strict=True)
        if g != e
    ]
    assert not differing, f"{len(differing)} of {len(words)} words differ:\n" + "\n".join(
        differing[:20]
    )
    assert len(words) > 2000


# ---------------------------------------------------------------- 2. query language


@pytest.mark.parametrize("q", QUERIES)
def test_parse_query(js: Page, q: str) -> None:
    assert js.evaluate("q => kbsiteSearch.parseQuery(q)", q) == query_json(parse_query(q))


@pytest.mark.parametrize("q", MALFORMED)
def test_malformed_query(js: Page, q: str) -> None:
    assert js_error(js, q) == {"name": "QueryError", "message": python_error(q)}


@pytest.mark.parametrize("q", MALFORMED_DATES)
def test_impossible_date(js: Page, q: str) -> None:
    error = js_error(js, q)
    assert error is not None
    assert error["name"] == "QueryError"
    # "date: '2001-13' is not a date (month must be in 1..12) (at column 1)" in Python.
    assert error["message"].split(" (")[0] == python_error(q).split(" (")[0]


# ---------------------------------------------------------------- 3. ranking


def js_ranked(js: Page, q: str) -> list[tuple[str, float]]:
    """The browser's ranked (id, score) pairs for q."""
    ranked = js.evaluate(
        """async q => {
          const engine = await kbsiteSearch.engine();
          const ranked = await engine.search(kbsiteSearch.parseQuery(q));
          const docs = await engine.documents(ranked.map(([doc]) => doc));
          return ranked.map(([, score], i) => [docs[i].id, score]);
        }""",
        q,
    )
    return [(doc_id, score) for doc_id, score in ranked]


def python_ranked(index_dir: Path, q: str) -> list[tuple[str, float]]:
    return [(hit.id, hit.score) for hit in search(index_dir, q, limit=1000).hits]


def test_engine_queries_find_articles(index_dir: Path) -> None:
    """The table is worth comparing: most of its queries find something."""
    found = [q for q in ENGINE_QUERIES if python_ranked(index_dir, q)]
    assert len(found) >= len(ENGINE_QUERIES) - 3


@pytest.mark.parametrize("q", ENGINE_QUERIES)
def test_engine_ranks_like_python(js: Page, index_dir: Path, q: str) -> None:
    got, expected = js_ranked(js, q), python_ranked(index_dir, q)
    assert [doc_id for doc_id, _ in got] == [doc_id for doc_id, _ in expected]
    for (doc_id, js_score), (_, py_score) in zip(got, expected, strict=True):
        assert js_score == pytest.approx(py_score, abs=1e-6), doc_id


@pytest.mark.parametrize("q", FORGIVING_QUERIES)
def test_engine_corrects_like_python(js: Page, index_dir: Path, q: str) -> None:
    corrections = js.evaluate(
        """async q => {
          const engine = await kbsiteSearch.engine();
          return (await engine.search(kbsiteSearch.parseQuery(q))).corrections;
        }""",
        q,
    )
    results = search(index_dir, q)
    got = {c["word"]: (c["replacement"], c["expanded"]) for c in corrections}
    showing = {w: r for w, (r, expanded) in got.items() if not expanded}
    assert bool(showing) == (results.showing is not None)
    assert bool(len(got) - len(showing)) == (results.suggestion is not None)
    for word, replacement in showing.items():
        assert results.showing is not None and replacement in results.showing, word


def test_filler_words_and_stop_words_are_the_same_lists(js: Page) -> None:
    assert sorted(js.evaluate("() => kbsiteSearch.fillerWords")) == sorted(forms.FILLER_WORDS)


def test_short_forms_expand_alike(js: Page) -> None:
    words = ["w2k", "nt4", "nt351", "sp6a", "vb6", "vb", "ie55", "ie5", "wd97", "leak", "#"]
    table = [list(entry) for entry in synonyms.packaged_table()]
    got = js.evaluate("([ws, t]) => ws.map(w => kbsiteSearch.expansion(w, t))", [words, table])
    assert got == [synonyms.expansion(w, synonyms.packaged_table()) for w in words]


@pytest.mark.parametrize("q", PHRASE_QUERIES)
def test_engine_phrase_finds_at_least_the_phrase(js: Page, index_dir: Path, q: str) -> None:
    """The browser looks for a phrase's words, not their order: more hits, same relative order."""
    got = [doc_id for doc_id, _ in js_ranked(js, q)]
    expected = [doc_id for doc_id, _ in python_ranked(index_dir, q)]
    assert expected
    assert set(expected) <= set(got)
    assert [doc_id for doc_id in got if doc_id in expected] == expected


# ---------------------------------------------------------------- 4. the search page

UI_QUERIES = ["leak", "harbor", "mail -relay", "driver*", "year:2001 mail", "Q200105"]


@pytest.mark.parametrize("q", UI_QUERIES)
def test_page_lists_what_the_cli_lists(page: Page, base: str, index_dir: Path, q: str) -> None:
    status = open_search(page, base, q)
    assert status_count(status) == search(index_dir, q).total
    assert_lists_like_cli(page, status, index_dir, q)
    assert page.input_value("#kb-q") == q


def test_status_is_announced(page: Page, base: str, index_dir: Path) -> None:
    status = page.locator("#kb-status")
    open_search(page, base, "harbor")
    assert status.get_attribute("role") == "status"
    assert status.get_attribute("aria-live") == "polite"
    total, shown = search(index_dir, "harbor").total, len(result_ids(page))
    assert 0 < shown < total
    assert status.text_content() == f"{total} articles found for “harbor”, showing {shown}."
    open_search(page, base, "guestbook")
    assert status.text_content() == "1 article found for “guestbook”."
    open_search(page, base, "xqzvwk")
    assert status.text_content() == "No articles found for “xqzvwk”."


def test_page_says_what_it_corrected(page: Page, base: str, index_dir: Path) -> None:
    suggestion = page.locator("#kb-suggestion")
    open_search(page, base, "memroy")
    assert suggestion.text_content() == 'Showing results for memory — search instead for "memroy"'
    assert result_ids(page) == [hit.id for hit in search(index_dir, "memroy").hits]
    suggestion.locator("a").click()
    page.wait_for_function("() => document.getElementById('kb-q').value === '\"memroy\"'")
    page.wait_for_function("() => document.getElementById('kb-suggestion').hidden")
    open_search(page, base, "guestbook")
    assert suggestion.is_hidden()


def test_results_update_as_you_type(page: Page, base: str, index_dir: Path) -> None:
    open_search(page, base, "leak")
    page.fill("#kb-q", "relay")
    assert_lists_like_cli(page, wait_for_results(page, "relay"), index_dir, "relay")
    assert url_params(page)["q"] == ["relay"]
    page.fill("#kb-q", "")
    page.keyboard.type("relay hosts", delay=20)
    status = wait_for_results(page, "relay hosts")
    assert_lists_like_cli(page, status, index_dir, "relay hosts")
    assert url_params(page)["q"] == ["relay hosts"]


def filter_boxes(page: Page, facet: str) -> dict[str, int]:
    """The filter checkboxes of a facet: value -> the count shown beside it."""
    return dict(
        page.eval_on_selector_all(
            f"#kb-filters input[name={facet}]",
            "boxes => boxes.map(b => [b.value, Number(b.parentElement.querySelector('.count')"
            ".textContent.replace(/,/g, ''))])",
        )
    )


def tick(page: Page, facet: str, value: str, on: bool = True) -> str:
    """Tick (or untick) a filter and wait for the new results; returns the status."""
    page.locator(f"#kb-filters input[name={facet}][value='{value}']").set_checked(on)
    return wait_for_results(page, page.input_value("#kb-q"))


def test_product_filter_counts(page: Page, base: str) -> None:
    open_search(page, base, "harbor")
    counts = filter_boxes(page, "product")
    assert len(counts) >= 3
    for product, count in counts.items():
        status = tick(page, "product", product)
        assert status_count(status) == count
        assert set(result_texts(page, "product")) == {product}
        assert len(result_ids(page)) == shown_count(status)
        assert url_params(page)["product"] == [product]
        tick(page, "product", product, on=False)


@pytest.mark.parametrize("facet", ["category", "year"])
def test_other_filter_counts(page: Page, base: str, index_dir: Path, facet: str) -> None:
    open_search(page, base, "harbor")
    counts = filter_boxes(page, facet)
    assert len(counts) >= 3
    for value, count in counts.items():
        status = tick(page, facet, value)
        assert status_count(status) == count
        assert_lists_like_cli(page, status, index_dir, f"harbor {facet}:{value}")
        tick(page, facet, value, on=False)


def test_two_products_are_either(page: Page, base: str) -> None:
    open_search(page, base, "harbor")
    counts = filter_boxes(page, "product")
    first, second = sorted(counts, key=counts.__getitem__)[:2]
    tick(page, "product", first)
    status = tick(page, "product", second)
    assert status_count(status) == counts[first] + counts[second]
    assert set(result_texts(page, "product")) == {first, second}
    assert sorted(url_params(page)["product"]) == sorted([first, second])


def test_filters_from_the_address(page: Page, base: str, index_dir: Path) -> None:
    status = open_search(page, base, "harbor", category="hdesk", year=["1998", "1999"])
    same = "harbor category:hdesk year:1998..1999"
    assert status_count(status) == search(index_dir, same).total
    assert_lists_like_cli(page, status, index_dir, same)
    assert page.is_checked("#kb-filters input[name=category][value=hdesk]")


def test_sort_by_date_and_number(page: Page, base: str, index_dir: Path) -> None:
    hits = search(index_dir, "mail", limit=1000).hits
    by_number = sorted(hits, key=lambda hit: int(hit.id[1:]))
    newest = sorted(by_number, key=lambda hit: hit.date or "", reverse=True)  # stable
    status = open_search(page, base, "mail")
    shown = shown_count(status)
    assert 0 < shown < len(hits)
    page.select_option("#kb-sort", "date")
    wait_for_results(page, "mail")
    assert result_ids(page) == [hit.id for hit in newest][:shown]
    dates = result_texts(page, "date")
    assert dates == sorted(dates, reverse=True)
    assert url_params(page)["sort"] == ["date"]
    page.select_option("#kb-sort", "id")
    wait_for_results(page, "mail")
    assert result_ids(page) == [hit.id for hit in by_number][:shown]


def test_back_undoes_a_filter(page: Page, base: str) -> None:
    status = open_search(page, base, "harbor")
    before = result_ids(page)
    filtered_status = tick(page, "category", "hdesk")
    filtered = result_ids(page)
    assert filtered != before
    page.go_back()
    wait_for_status(page, status)
    assert result_ids(page) == before
    assert not page.is_checked("#kb-filters input[name=category][value=hdesk]")
    page.go_forward()
    wait_for_status(page, filtered_status)
    assert result_ids(page) == filtered


def test_back_returns_to_the_previous_query(page: Page, base: str) -> None:
    page.clock.install()
    status = open_search(page, base, "harbor")
    before = result_ids(page)
    # Typing searches 150 ms after the last key: stop the clock so that only Enter searches.
    page.clock.pause_at(page.evaluate("() => Date.now()") + 1)
    page.fill("#kb-q", "relay")
    page.press("#kb-q", "Enter")
    wait_for_results(page, "relay")
    assert url_params(page)["q"] == ["relay"]
    page.go_back()
    wait_for_status(page, status)
    assert result_ids(page) == before
    assert page.input_value("#kb-q") == "harbor"


def test_back_after_search_as_you_type_returns_to_the_previous_query(page: Page, base: str) -> None:
    """Typing makes one history entry for the new query, however many keys it took."""
    status = open_search(page, base, "harbor")
    before = result_ids(page)
    page.fill("#kb-q", "rel")
    wait_for_results(page, "rel")
    page.fill("#kb-q", "relay")
    wait_for_results(page, "relay")
    page.go_back()
    wait_for_status(page, status)
    assert result_ids(page) == before
    assert page.input_value("#kb-q") == "harbor"


def test_arrow_keys_move_between_input_and_results(page: Page, base: str) -> None:
    open_search(page, base, "relay")
    links = page.locator("#kb-results a.result-link").all_text_contents()
    assert len(links) >= 2
    page.focus("#kb-q")
    page.keyboard.press("ArrowDown")
    assert active_element(page) == "link:" + links[0]
    page.keyboard.press("ArrowDown")
    assert active_element(page) == "link:" + links[1]
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert active_element(page) == "kb-q"


def test_more_results(page: Page, base: str, index_dir: Path) -> None:
    status = open_search(page, base, "harbor")
    total, shown = status_count(status), shown_count(status)
    per_page = shown
    assert shown < total
    while shown < total:
        page.click("#kb-more")
        status = wait_for_results(page, "harbor")
        assert shown_count(status) == min(total, shown + per_page)
        assert_lists_like_cli(page, status, index_dir, "harbor")
        first_new = page.locator("#kb-results a.result-link").nth(shown).inner_text()
        assert active_element(page) == "link:" + first_new
        shown = shown_count(status)
    assert status == f"{total} articles found for “harbor”."
    assert page.is_hidden("#kb-more")


def test_result_links_carry_the_query(page: Page, base: str) -> None:
    open_search(page, base, "relay hosts")
    href = page.get_attribute("#kb-results a.result-link", "href")
    assert href == f"kb/{result_ids(page)[0]}.html?q=relay%20hosts"


def test_slash_focuses_the_search_box(page: Page, base: str) -> None:
    page.goto(f"{base}kb/Q200105.html")
    page.keyboard.press("/")
    assert active_element(page) == "site-search-q"
    assert page.input_value("#site-search-q") == ""
    open_search(page, base, "relay")
    page.focus("#kb-results a.result-link")
    page.keyboard.press("/")
    assert active_element(page) == "kb-q"
    assert page.input_value("#kb-q") == "relay"


def test_a_query_loads_part_of_the_index(page: Page, base: str, site: Path) -> None:
    files = {f.relative_to(site / "search").as_posix() for f in (site / "search").rglob("*.js")}
    open_search(page, base, "leak")
    loaded = page.evaluate("() => kbsiteSearch.loadedFiles")
    assert "meta.js" in loaded
    assert len(set(loaded)) == len(loaded)
    assert set(loaded) < files


# Whether the query's term files were asked for before the page's first frame.
FIRST_FRAME_OR_TERMS = """
window.kbFirst = [];
requestAnimationFrame(() => kbFirst.push("frame"));
new MutationObserver((records) => {
  for (const record of records) for (const node of record.addedNodes)
    if (node.tagName === "SCRIPT" && /search\\/t\\//.test(node.src)) kbFirst.push("terms");
}).observe(document, { childList: true, subtree: true });
"""


def test_the_query_files_are_asked_for_before_the_page_is_drawn(page: Page, base: str) -> None:
    """search.html's scripts block its rendering until they have run and meta.js has
    started the query: its files load while the page is first laid out, not after."""
    page.add_init_script(FIRST_FRAME_OR_TERMS)
    open_search(page, base, "relay hosts")
    order = page.evaluate("() => kbFirst")
    assert "frame" in order
    assert order[0] == "terms", order


# Each frame the page draws: whether its body is shown, and how many results it lists.
FRAMES = """
window.kbFrames = [];
(function watch() {
  requestAnimationFrame(() => {
    const shown = document.body && getComputedStyle(document.body).display !== "none";
    kbFrames.push([shown, document.querySelectorAll("#kb-results li.result").length]);
    if (kbFrames.length < 120) watch();
  });
})();
"""


def test_a_page_opened_with_a_query_is_drawn_with_its_results(page: Page, base: str) -> None:
    """It is not drawn empty first (its first layout would hold up the query's files)."""
    page.add_init_script(FRAMES)
    open_search(page, base, "relay hosts")
    page.wait_for_function("() => kbFrames.some(([shown]) => shown)")
    frames = page.evaluate("() => kbFrames")
    first_shown = next(results for shown, results in frames if shown)
    assert first_shown > 0, frames
    assert active_element(page) == "kb-q"
    page.goto(f"{base}search.html")
    assert page.is_visible("#kb-q")
    assert active_element(page) == "kb-q"


def test_a_slow_search_shows_the_page_while_it_searches(page: Page, base: str) -> None:
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/search/t/**", hold)
    page.goto(f"{base}search.html?q=relay", wait_until="domcontentloaded")
    page.wait_for_selector("#kb-q", state="visible")
    assert page.text_content("#kb-status") == "Searching…"
    assert active_element(page) == "kb-q"
    assert held, "the query's term files were not asked for"
    for route in held:
        route.continue_()
    page.unroute("**/search/t/**")
    wait_for_results(page, "relay")


def test_header_search_opens_the_search_page(page: Page, base: str, index_dir: Path) -> None:
    page.goto(f"{base}kb/Q200105.html")
    page.fill("#site-search-q", "relay hosts")
    page.press("#site-search-q", "Enter")
    page.wait_for_url("**/search.html?q=relay+hosts")
    status = wait_for_results(page, "relay hosts")
    assert_lists_like_cli(page, status, index_dir, "relay hosts")


# ---------------------------------------------------------------- 5. escaping

HOSTILE_TITLE = (
    'PRB: xssprobe <script>window.kbPwned=1</script> <img src=x onerror="kbPwned=2"> {{ x }}'
)
HOSTILE_SYMPTOM = (
    "The xssprobe text <script>window.kbPwned=3</script> and <b>bold</b> and {{ x }} stay."
)
HOSTILE_ARTICLE = f"""\
DOCUMENT:Q299001  01-MAR-2002  [hbasic]
TITLE   :{HOSTILE_TITLE}
PRODUCT :Northwind <i>Harbor</i> BASIC
PROD/VER:WINDOWS:2000
OPER/SYS:
KEYWORDS:kbprb

======================================================================

SYMPTOMS
========

{HOSTILE_SYMPTOM}

Additional query words: xssprobe
======================================================================
Keywords          : kbprb
"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-article site whose title, product and text look like HTML."""
    base = tmp_path_factory.mktemp("hostile")
    (base / "in").mkdir()
    (base / "in" / "Q299001.TXT").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    report = build_site(BuildOptions([base / "in"], base / "site", jobs=1, index=base / "ix"))
    assert report.errors == 0, report.problems
    return base / "site"


NO_SCRIPT_RAN = "() => window.kbPwned === undefined"


def test_markup_in_results_stays_text(page: Page, hostile_site: Path) -> None:
    open_search(page, hostile_site.as_uri() + "/", "xssprobe")
    assert result_ids(page) == ["Q299001"]
    assert page.locator("#kb-results script, #kb-results img, #kb-results b").count() == 0
    assert page.text_content("#kb-results a.result-link") == HOSTILE_TITLE
    assert page.text_content("#kb-results .result-snippet") == HOSTILE_SYMPTOM
    assert page.text_content("#kb-results .result-product") == "Northwind <i>Harbor</i> BASIC"
    assert page.locator("#kb-results mark").all_text_contents() == ["xssprobe", "xssprobe"]
    assert page.evaluate(NO_SCRIPT_RAN)


def test_markup_in_a_marked_article_stays_text(page: Page, hostile_site: Path) -> None:
    page.goto((hostile_site / "kb" / "Q299001.html").as_uri() + "?q=xssprobe script")
    assert page.locator("#content mark").count() >= 3
    assert page.locator("#content script, #content img, #content b").count() == 0
    assert HOSTILE_SYMPTOM in " ".join((page.text_content("#content") or "").split())
    assert page.evaluate(NO_SCRIPT_RAN)


def test_sample_article_with_markup(page: Page, base: str) -> None:
    open_search(page, base, "guestbook")
    assert "Q200122" in result_ids(page)
    assert page.locator("#kb-results script").count() == 0
    page.goto(f"{base}kb/Q200122.html?q=script")
    assert page.locator("#content mark").count() >= 3
    assert page.locator("#content script").count() == 0
    content = page.text_content("#content") or ""
    assert "<script>alert(1)</script>" in content
    assert "{{ x }}" in content


# ---------------------------------------------------------------- 6. marked words

HIGHLIGHTS = [
    ("Q200105", "accented characters", {"accent", "charact"}),
    ("Q200113", "hnetio.sys leak", {"hnetio.sys", "hnetio", "sy", "leak"}),
    ("Q200113", "hnetio leak", {"hnetio", "leak"}),
    ("Q200107", "relay -smtp", {"relai"}),
    ("Q200101", "queue OR outbound", {"queue", "outbound"}),
]


def content_text_nodes(page: Page) -> list[str]:
    return page.evaluate(
        """() => { const walker = document.createTreeWalker(
                     document.getElementById("content"), NodeFilter.SHOW_TEXT);
                   const found = [];
                   while (walker.nextNode()) found.push(walker.currentNode.data);
                   return found; }"""
    )


def marked_words(text: str, wanted: set[str]) -> list[str]:
    """The words of text to mark: tokens whose term is wanted, no mark inside another."""
    marked, position = [], 0
    for token in analysis.analyze(text):
        if token.text in wanted and token.start >= position:
            marked.append(text[token.start : token.end])
            position = token.end
    return marked


@pytest.mark.parametrize(("article", "q", "wanted"), HIGHLIGHTS)
def test_article_marks_the_words_searched_for(
    page: Page, base: str, article: str, q: str, wanted: set[str]
) -> None:
    assert wanted <= set(analysis.terms(q))
    page.goto(f"{base}kb/{article}.html")
    expected = [word for text in content_text_nodes(page) for word in marked_words(text, wanted)]
    assert page.locator("mark").count() == 0
    page.goto(f"{base}kb/{article}.html?{urlencode({'q': q})}")
    marks = page.locator("#content mark").all_text_contents()
    assert len(expected) >= 2
    assert marks == expected
    assert all(set(analysis.terms(mark)) & wanted for mark in marks)
    assert page.locator("mark").count() == len(marks)


# ---------------------------------------------------------------- 7. malformed queries

PAGE_ERRORS = ['"unclosed', "(leak", "-leak", "leak OR", "year:2001..1999", "id:abc"]


@pytest.mark.parametrize("q", PAGE_ERRORS)
def test_page_explains_a_malformed_query(page: Page, base: str, index_dir: Path, q: str) -> None:
    status = open_search(page, base, q)
    assert status == f"Cannot search: {python_error(q, index_dir)}"
    assert result_ids(page) == []
    assert page.locator("#kb-filters input").count() == 0
    page.fill("#kb-q", "leak")
    wait_for_results(page, "leak")
    assert result_ids(page)
