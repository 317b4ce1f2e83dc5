"""Search as people type: article numbers, codes, filler words, typos, short forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbsite.search import analysis, forms, spelling, synonyms
from kbsite.search.query import Most, Text, parse_query
from kbsite.search.searcher import search


@pytest.mark.parametrize(
    "query",
    [
        "Q200105",
        "q200105",
        "KB200105",
        "kb200105",
        "kb 200105",
        "KB:200105",
        "200105",
        "http://support.microsoft.com/kb/200105",
        "support.microsoft.com/kb/200105/en-us",
        "https://support.microsoft.com/default.aspx?scid=kb;en-us;200105",
        "http://support.microsoft.com/?kbid=200105",
        "http://support.microsoft.com/support/kb/articles/q200/1/05.asp",
    ],
)
def test_an_article_number_in_any_written_form_names_the_article(
    sample_index: Path, query: str
) -> None:
    assert parse_query(query).article_id == "Q200105"
    assert search(sample_index, query).hits[0].id == "Q200105"


@pytest.mark.parametrize("query", ["kb 200105 leak", "memory 200105", "kbx200105"])
def test_a_number_among_other_words_is_not_an_article_id(query: str) -> None:
    assert parse_query(query).article_id is None


@pytest.mark.parametrize(
    ("query", "units"),
    [
        ("stop 0x4A", [analysis.Compound("0x4a", ())]),
        ("stop 4a", [analysis.Compound("0x4a", ("4a",))]),
        ("STOP 0000004A", [analysis.Compound("0x4a", ())]),
        ("error 3021", [analysis.Compound("0x3021", ("3021",))]),
    ],
)
def test_a_number_after_stop_or_error_is_a_code(
    query: str, units: list[analysis.QueryUnit]
) -> None:
    root = parse_query(query).root
    assert isinstance(root, Most)
    code = root.children[1]
    assert isinstance(code, Text) and code.kind == "code"
    assert analysis.code_units(code.text) == units


@pytest.mark.parametrize("text", ["80040e4e", "0x80040E4E", "0x80040e4e", "80040E4E"])
def test_an_eight_digit_hex_number_is_one_term_with_or_without_0x(text: str) -> None:
    assert analysis.terms(text)[0] == "0x80040e4e"


def test_words_that_are_not_hex_numbers_keep_their_form() -> None:
    assert analysis.terms("deadbeef 12345678 win32api")[:2] == ["deadbeef", "12345678"]


def test_written_and_requires_every_word_side_by_side_does_not() -> None:
    assert isinstance(parse_query("harbor relay").root, Most)
    assert not isinstance(parse_query("harbor AND relay").root, Most)


def test_most_words_still_find_an_article(sample_index: Path) -> None:
    every = {hit.id for hit in search(sample_index, "harbor mail", 100).hits}
    more = search(sample_index, "harbor mail xqzvwk", 100)
    assert {hit.id for hit in more.hits} == every


def test_articles_with_all_the_words_rank_first(sample_index: Path) -> None:
    both = {hit.id for hit in search(sample_index, "harbor AND relay AND queue", 100).hits}
    ranked = [hit.id for hit in search(sample_index, "harbor relay queue", 100).hits]
    assert both and set(ranked[: len(both)]) == both
    assert len(ranked) > len(both)


def test_filler_words_never_block_a_result(sample_index: Path) -> None:
    plain = [hit.id for hit in search(sample_index, "relaying denied").hits]
    asked = [hit.id for hit in search(sample_index, "why do i get relaying denied please").hits]
    assert plain and asked[:3] == plain[:3]
    assert forms.is_filler("doesn\u2019t") and not forms.is_filler("relaying")


def test_a_rare_word_is_expanded_to_a_much_commoner_neighbour() -> None:
    candidates = {"server": 400, "sever": 2, "severe": 30}
    found = spelling.decide("sever", 2, candidates)
    assert found == spelling.Correction("sever", "server", expanded=True)
    assert spelling.decide("severe", 30, candidates) is None
    assert spelling.decide("sevr", 0, candidates) == spelling.Correction("sevr", "sever", False)


def test_neighbour_shards_cover_two_edits() -> None:
    assert spelling.neighbour_keys("misbehvior") == sorted(f"m{n}" for n in range(8, 13))
    assert spelling.neighbour_keys("word") == ["w3", "w4", "w5"]


@pytest.mark.parametrize(
    ("word", "long"),
    [
        ("w2k", "windows 2000"),
        ("nt4", "windows nt 4"),
        ("sp6a", "service pack 6a"),
        ("vb6", "visual basic 6"),
        ("ie55", "internet explorer 5.5"),
        ("wd97", "word 97"),
        ("leak", None),
    ],
)
def test_short_forms_stand_for_their_words(word: str, long: str | None) -> None:
    assert synonyms.expansion(word, synonyms.packaged_table()) == long


def test_the_table_is_short_form_equals_words() -> None:
    table = synonyms.parse_table("hm = harbor mail\n# a comment = no\n")
    assert table == (("hm", "harbor mail"),)
