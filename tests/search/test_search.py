"""``kbsite search`` on the bundled sample: what is found, in what order, and how it is shown."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbsite.build import BuildOptions, build_site
from kbsite.cli import main
from kbsite.model import Article
from kbsite.read.source import read_source
from kbsite.report import BuildReport
from kbsite.search.analysis import prefix_term, terms
from kbsite.search.index import index_document, order_key
from kbsite.search.ranking import rounded
from kbsite.search.searcher import Hit, index_dir_for_site, make_snippet, search

CYCLE = Path(__file__).parents[1] / "sites" / "cycle"
JSON_KEYS = ["id", "title", "date", "product", "score", "snippet", "highlights"]
ALL = 100
"""More than the sample holds: every hit."""


def hits(index_dir: Path, query: str) -> list[Hit]:
    return search(index_dir, query, limit=ALL).hits


def ids(index_dir: Path, query: str) -> list[str]:
    return [hit.id for hit in hits(index_dir, query)]


def field_terms(article: Article, *names: str) -> set[str]:
    document = index_document(article)
    return {term for name in names for term in terms(document[name])}


@pytest.mark.parametrize(
    "word",
    ["corruption", "relay", "driver", "exceeds", "external", "wrong", "comparisons", "unavailable"],
)
def test_a_word_in_the_title_ranks_above_the_body(
    sample_index: Path, content_articles: dict[str, Article], word: str
) -> None:
    (term,) = terms(word)
    in_title = {i for i, a in content_articles.items() if term in field_terms(a, "title")}
    only_in_body = {
        i
        for i, a in content_articles.items()
        if term in field_terms(a, "body")
        and term not in field_terms(a, "title", "headings", "keywords")
    }
    assert in_title and only_in_body
    found = ids(sample_index, word)
    assert set(found) >= in_title | only_in_body
    assert max(found.index(i) for i in in_title) < min(found.index(i) for i in only_in_body)


@pytest.mark.parametrize("query", ["Q200105", "200105", "q200105", "Q0200105"])
def test_a_bare_article_id_ranks_that_article_first(sample_index: Path, query: str) -> None:
    found = hits(sample_index, query)
    assert found[0].id == "Q200105"
    assert found[0].score == max(hit.score for hit in found)


def test_the_id_field_finds_only_that_article(sample_index: Path) -> None:
    assert ids(sample_index, "id:Q200105") == ["Q200105"]
    assert "Q999999" not in ids(sample_index, "Q999999")


@pytest.mark.parametrize("words", ["server mail", "mail server", "data types"])
def test_a_phrase_needs_its_words_together_in_order(
    sample_index: Path, content_articles: dict[str, Article], words: str
) -> None:
    as_phrase, as_words = set(ids(sample_index, f'"{words}"')), set(ids(sample_index, words))
    assert as_phrase < as_words
    wanted = f" {' '.join(terms(words))} "
    for article_id in as_words:
        document = index_document(content_articles[article_id])
        together = any(
            wanted in f" {' '.join(terms(document[name]))} "
            for name in ("title", "headings", "body", "product")
        )
        assert (article_id in as_phrase) == together, article_id


@pytest.mark.parametrize(
    ("query", "first", "second", "combine"),
    [
        ("driver database", "driver", "database", set.__and__),
        ("relay OR garbled", "relay", "garbled", set.__or__),
        ("harbor -desktop", "harbor", "desktop", set.__sub__),
        ("driver NOT odbc", "driver", "odbc", set.__sub__),
        ('mail -"mail client"', "mail", '"mail client"', set.__sub__),
        ("mail -(client OR queue)", "mail", "client OR queue", set.__sub__),
    ],
)
def test_and_or_not(
    sample_index: Path,
    query: str,
    first: str,
    second: str,
    combine: Callable[[set[str], set[str]], set[str]],
) -> None:
    one, other = set(ids(sample_index, first)), set(ids(sample_index, second))
    expected = combine(one, other)
    assert expected not in (set(), one, other)
    assert set(ids(sample_index, query)) == expected


@pytest.mark.parametrize(
    ("query", "forms"),
    [("memory*", ["memory"]), ("driv*", ["drive", "driver"]), ("configur*", ["configured"])],
)
def test_a_prefix_finds_every_form(
    sample_index: Path, content_articles: dict[str, Article], query: str, forms: list[str]
) -> None:
    found = set(ids(sample_index, query))
    for form in forms:
        assert set(ids(sample_index, form)) <= found
    start = prefix_term(query.rstrip("*"))
    expected = {
        i
        for i, a in content_articles.items()
        if any(t.startswith(start) for t in field_terms(a, "title", "headings", "keywords", "body"))
    }
    assert found == expected


@pytest.mark.parametrize(
    ("query", "belongs"),
    [
        ("product:desktop", lambda a: a.product == "Northwind Harbor Desktop"),
        ('product:"mail client"', lambda a: a.product == "Northwind Harbor Mail Client"),
        ("category:ldb", lambda a: a.category == "ldb"),
        ("type:prb", lambda a: a.title_prefix == "PRB"),
        ("type:FIX", lambda a: a.title_prefix == "FIX"),
        ("keyword:kbsql", lambda a: "kbsql" in a.keywords),
        ("keyword:kbdatabase", lambda a: "kbdatabase" in a.keywords),
        ("year:2001", lambda a: a.date.year == 2001),
        ("year:1999..2000", lambda a: 1999 <= a.date.year <= 2000),
        ("year:[1999 TO 2000]", lambda a: 1999 <= a.date.year <= 2000),
        ("year:<1999", lambda a: a.date.year < 1999),
        ("year:>=2002", lambda a: a.date.year >= 2002),
        ("date:2001-04", lambda a: (a.date.year, a.date.month) == (2001, 4)),
        (
            "date:2001-01-01..2001-06-30",
            lambda a: datetime.date(2001, 1, 1) <= a.date <= datetime.date(2001, 6, 30),
        ),
        ("category:hmail -year:2001", lambda a: a.category == "hmail" and a.date.year != 2001),
    ],
)
def test_filters_keep_exactly_the_matching_articles(
    sample_index: Path,
    content_articles: dict[str, Article],
    query: str,
    belongs: Callable[[Article], bool],
) -> None:
    expected = {i for i, a in content_articles.items() if belongs(a)}
    assert expected
    results = search(sample_index, query, limit=ALL)
    assert results.total == len(expected)
    assert {hit.id for hit in results.hits} == expected
    for hit in results.hits:
        article = content_articles[hit.id]
        assert hit.product == article.product
        assert hit.date == article.date.isoformat()


@pytest.mark.parametrize(
    ("words", "narrowing"),
    [
        ("driver", "product:desktop"),
        ("database", "year:2001"),
        ("characters", "type:prb"),
        ("(driver OR record)", "category:ldb"),
    ],
)
def test_a_filter_keeps_the_order(sample_index: Path, words: str, narrowing: str) -> None:
    kept = set(ids(sample_index, narrowing))
    filtered = [i for i in ids(sample_index, words) if i in kept]
    assert len(filtered) >= 2
    assert ids(sample_index, f"{words} {narrowing}") == filtered


@pytest.mark.parametrize(
    ("query", "literal"),
    [
        ("Hmsvc.exe", "Hmsvc.exe"),
        ("hmsvc", "Hmsvc"),
        ("HIMEM.SYS", "HIMEM.SYS"),
        ("himem", "HIMEM"),
        ("rs.MoveLast", "rs.MoveLast"),
        ("movelast", "MoveLast"),
        ("hd40sp2i.exe", "hd40sp2i.exe"),
        ("hd40sp2i", "hd40sp2i"),
        ("REG_SZ", "REG_SZ"),
        ("C:\\HARBOR\\QUEUE", "C:\\HARBOR\\QUEUE"),
        (
            "HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Services\\HarborMail\\Parameters",
            "HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Services\\HarborMail\\Parameters",
        ),
        ("CurrentControlSet", "CurrentControlSet"),
        ("0x0000004A", "0x0000004A"),
        ("0x4a", "0x0000004A"),
        ("1’234.50", "1’234.50"),
        ("1'234.50", "1’234.50"),
    ],
)
def test_technical_terms_are_found_as_typed_and_by_a_part(
    sample_index: Path, content_articles: dict[str, Article], query: str, literal: str
) -> None:
    """Every article holding the text is found, one of them first; parts may match elsewhere."""
    holding = {
        i
        for i, a in content_articles.items()
        if literal.lower() in read_source(a.source).text.lower()
    }
    assert holding
    found = ids(sample_index, query)
    assert found[0] in holding
    assert holding <= set(found)


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        ("memroy", "memory"),
        ("databse", "database"),
        ("relayng denied", "relaying denied"),
        ("title:garbeld", "title:garbled"),
        ("memory", None),
        ("garbled", None),
        ("xqzvw", None),
    ],
)
def test_a_word_no_article_holds_is_corrected(
    sample_index: Path, query: str, suggestion: str | None
) -> None:
    results = search(sample_index, query)
    assert results.showing == suggestion
    if suggestion is not None:
        assert results.hits
        assert results.instead is not None and '"' in results.instead


@pytest.mark.parametrize(
    "query", ["relay hosts", "memory leak", "Hmsvc.exe", "garbled subject", '"relay hosts"']
)
def test_snippet_marks_cover_matched_words(sample_index: Path, query: str) -> None:
    wanted = set(terms(query))
    found = hits(sample_index, query)
    assert found[0].snippet.marks
    for hit in found:
        text, marks = hit.snippet.text, hit.snippet.marks
        assert marks == sorted(marks)
        for (start, end), following in zip(marks, [*marks[1:], (len(text) + 1, 0)], strict=True):
            assert 0 <= start < end < following[0]
            assert set(terms(text[start:end])) & wanted, (hit.id, text[start:end])


def test_prefix_snippet_marks_words_with_that_start(sample_index: Path) -> None:
    marked = [
        hit.snippet.text[start:end].lower()
        for hit in hits(sample_index, "configur*")
        for start, end in hit.snippet.marks
    ]
    assert {"configure", "configured", "configuration"} <= set(marked)
    assert all(word.startswith("configur") for word in marked)


def test_make_snippet_windows_around_the_matches() -> None:
    text = " ".join(["filler"] * 60 + ["a", "memory", "leak", "here"] + ["padding"] * 60)
    snippet = make_snippet(text, {"memori", "leak"}, width=80)
    assert snippet is not None
    assert snippet.text.startswith("… ") and snippet.text.endswith(" …")
    assert [snippet.text[a:b] for a, b in snippet.marks] == ["memory", "leak"]
    assert len(snippet.text) <= 80 + 4


def test_make_snippet_without_a_match_is_the_opening() -> None:
    snippet = make_snippet("one  two\nthree " * 40, {"absent"}, width=30)
    assert snippet is not None
    assert snippet.marks == []
    assert snippet.text == "one two three one two three on …"


def test_hits_as_json(sample_index: Path) -> None:
    hit = hits(sample_index, "garbled")[0]
    data = hit.as_json()
    assert list(data) == JSON_KEYS
    assert data["id"] == "Q200105"
    assert data["title"] == "PRB: Accented Characters Are Garbled in Message Subject Lines"
    assert data["date"] == "2001-09-19"
    assert data["product"] == "Northwind Harbor Mail Client"
    assert data["highlights"] == [list(mark) for mark in hit.snippet.marks]
    json.dumps(data)


@pytest.mark.parametrize("query", ["harbor", "mail OR database", "year:2001", "s*"])
def test_results_are_deterministic_with_ties_in_archive_order(
    sample_index: Path, content_articles: dict[str, Article], query: str
) -> None:
    first, again = hits(sample_index, query), hits(sample_index, query)
    assert [(h.id, h.score) for h in first] == [(h.id, h.score) for h in again]
    keys = [(-rounded(h.score), order_key(content_articles[h.id])) for h in first]
    assert keys == sorted(keys)


def test_limit_and_total(sample_index: Path) -> None:
    results = search(sample_index, "harbor", limit=3)
    assert len(results.hits) == 3
    assert results.total == len(ids(sample_index, "harbor")) > 3


def test_the_site_marker_finds_an_index_kept_elsewhere(tmp_path: Path) -> None:
    site, elsewhere = tmp_path / "site", tmp_path / "indexes" / "kb"
    build_site(BuildOptions([CYCLE], site, jobs=1, index=elsewhere))
    assert index_dir_for_site(site) == elsewhere
    result = CliRunner().invoke(main, ["search", "--site", str(site), "--json", "cycle"])
    assert result.exit_code == 0, result.output
    assert {hit["id"] for hit in json.loads(result.stdout)} == {"Q300001", "Q300002", "Q300003"}


def test_the_default_index_is_in_the_sites_cache_folder(
    sample_site: tuple[Path, BuildReport],
) -> None:
    site = sample_site[0]
    assert index_dir_for_site(site) == site.parent / ".site.kbsite-cache" / "index"
    elsewhere = site.parent / "elsewhere"
    assert index_dir_for_site(elsewhere) == site.parent / ".elsewhere.kbsite-cache" / "index"


def test_cli_json(sample_site: tuple[Path, BuildReport], sample_index: Path) -> None:
    result = CliRunner().invoke(
        main, ["search", "--site", str(sample_site[0]), "--json", "-n", "3", "relay", "hosts"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [list(hit) for hit in data] == [JSON_KEYS] * 3
    assert data == [hit.as_json() for hit in search(sample_index, "relay hosts", 3).hits]


def test_cli_text_and_showing_results_for(sample_index: Path) -> None:
    result = CliRunner().invoke(main, ["search", "--index", str(sample_index), "garbled"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 articles match 'garbled':\n")
    assert " 1. Q200105  PRB: Accented Characters Are Garbled" in result.stdout
    result = CliRunner().invoke(main, ["search", "--index", str(sample_index), "memroy"])
    assert result.exit_code == 0
    showing = 'Showing results for: memory (search instead for: "memroy")\n'
    assert result.stdout.startswith("6 articles match 'memroy'")
    assert result.stdout.endswith(showing)
    result = CliRunner().invoke(main, ["search", "--index", str(sample_index), "--json", "memroy"])
    assert (result.exit_code, result.stderr) == (0, showing)
    assert json.loads(result.stdout)[0]["id"] == "Q90210"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (['"relay'], "ERROR unclosed quote (at column 1)\n"),
        (["relay", "hosts)"], "ERROR unmatched ')' (at column 12)\n"),
        (
            ["year:abc"],
            "ERROR year: expects a date like 2001 or 1999..2001, not 'abc' (at column 1)\n",
        ),
        (["--", "-relay"], "ERROR a query needs something to look for besides exclusions\n"),
        (["relay", "OR", "--", "-hosts"], "ERROR an exclusion cannot be one side of OR\n"),
    ],
)
def test_cli_malformed_query_is_one_line_and_exit_2(
    sample_index: Path, words: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["search", "--index", str(sample_index), *words])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == message


@pytest.mark.parametrize("option", ["--site", "--index"])
def test_cli_without_an_index_exits_1(tmp_path: Path, option: str) -> None:
    where = tmp_path / "nothing" / "here"
    result = CliRunner().invoke(main, ["search", option, str(where), "relay"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("ERROR ")
    assert "no search index here; build the site first (kbsite build) or give --index" in (
        result.stderr
    )
    assert result.stderr.count("\n") == 1


def test_an_excluded_word_excludes_even_when_it_comes_first(sample_index: Path) -> None:
    """whoosh-reloaded 2.7.5's AndNot kept Q200103 here: its excluded list starts earlier."""
    assert "Q200103" in ids(sample_index, "hosts")
    assert ids(sample_index, "relay -hosts") == []
    assert ids(sample_index, "relay NOT hosts") == []


@pytest.mark.parametrize("query", ["product:desktop", "year:2001", "id:Q200105", "type:bug"])
def test_filters_alone_score_nothing(sample_index: Path, query: str) -> None:
    found = hits(sample_index, query)
    assert found
    assert all(hit.score == 0.0 for hit in found)


def test_a_filter_adds_nothing_to_an_alternative(sample_index: Path) -> None:
    """``driver OR product:desktop`` ranks the driver articles exactly as ``driver`` does."""
    driver = {hit.id: hit.score for hit in hits(sample_index, "driver")}
    either = hits(sample_index, "driver OR product:desktop")
    assert {hit.id: hit.score for hit in either if hit.id in driver} == driver
    assert [hit.id for hit in either][: len(driver)] == sorted(driver, key=lambda i: -driver[i])


def test_a_huge_article_is_found_by_its_last_word_with_a_snippet_from_what_is_stored(
    tmp_path: Path,
) -> None:
    """A 5 MB article: every word is searchable, but only the first STORED_TEXT_LIMIT
    characters are kept for snippets, so a search that finds it stays quick."""
    from whoosh import index as whoosh_index

    from kbsite.read.load import load_article
    from kbsite.search.index import STORED_TEXT_LIMIT, update_index

    filler = "The Lighthouse ledger keeps every posting of the day in its journal.\r\n"
    text = (
        "DOCUMENT:Q390001  01-JAN-2002  [ldb]\r\nTITLE   :A Very Long Log\r\n"
        "PRODUCT :Northwind Lighthouse Database\r\n"
        "======================================================================\r\n"
        "SUMMARY\r\n=======\r\n\r\n" + filler * 70_000 + "The last word is zyxwquartz.\r\n"
    )
    source = tmp_path / "Q390001.TXT"
    source.write_text(text, encoding="utf-8", newline="")
    article = load_article(source).article
    assert article is not None
    index_dir = tmp_path / "index"
    update_index([article], index_dir)
    with whoosh_index.open_dir(str(index_dir)).searcher() as searcher:
        assert len(searcher.stored_fields(0)["body"]) <= STORED_TEXT_LIMIT
    found = hits(index_dir, "zyxwquartz")
    assert [hit.id for hit in found] == ["Q390001"]
    assert len(found[0].snippet.text) < 400
