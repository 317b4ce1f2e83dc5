"""Text analysis: the terms an article is indexed by are the terms a query looks for."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbsite.read.source import find_sources, read_source
from kbsite.search.analysis import (
    MAX_WHOLE,
    PIECE,
    Compound,
    analyze,
    prefix_term,
    query_units,
    terms,
)

from ..conftest import CONTENT

LONG_PART = "a" * (MAX_WHOLE - 4)
"""With ``.sys`` a compound exactly MAX_WHOLE long; one more letter is too long."""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tdpipe.sys", ["tdpipe.sys", "tdpipe", "sy"]),
        (
            "HKEY_LOCAL_MACHINE\\System",
            ["hkey_local_machine\\system", "hkei", "local", "machin", "system"],
        ),
        ("SP6a", ["sp6a", "sp", "6"]),
        ("0x0000001E", ["0x1e", "0", "x", "1", "e"]),
        ("0x00000000", ["0x0", "0", "x", "0"]),
        ("console.writeline", ["console.writeline", "consol", "writelin"]),
        ("C:\\WINNT\\system32", ["c:\\winnt\\system32", "c", "winnt", "system", "32"]),
        ("MS-DOS 6.22", ["ms-dos", "ms", "do", "6.22", "6", "22"]),
        ("the printer is not working", ["printer", "work"]),
        ("Printing printers", ["print", "printer"]),
        ("café’s", ["café's", "café", "s"]),
        ("café's", ["café's", "café", "s"]),
        ("Zürich", ["zürich"]),
        ("007 and 0x41", ["007", "0x41", "0", "x", "41"]),
        ("a.the", ["a.the"]),
        ("foo---bar", ["foo", "bar"]),
        ("\\\\server\\share", ["server\\share", "server", "share"]),
        (f"{LONG_PART}.sys", [f"{LONG_PART}.sys", LONG_PART, "sy"]),
        (f"{LONG_PART}b.sys", [f"{LONG_PART}b", "sy"]),
        ("", []),
        ("... -- !!", []),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected
    assert [t.text for t in analyze(text)] == expected


def test_offsets_point_at_the_source_text() -> None:
    text = "See Tdpipe.sys from MS-DOS."
    found = [(text[t.start : t.end], t.text, t.pos, t.part) for t in analyze(text)]
    assert found == [
        ("See", "see", 0, False),
        ("Tdpipe.sys", "tdpipe.sys", 1, False),
        ("Tdpipe", "tdpipe", 2, True),
        ("sys", "sy", 3, True),
        ("MS-DOS", "ms-dos", 4, False),
        ("MS", "ms", 5, True),
        ("DOS", "do", 6, True),
    ]


CONTENT_FILES = find_sources([CONTENT])


@pytest.mark.parametrize("path", find_sources([CONTENT]), ids=lambda p: p.name)
def test_fast_terms_equal_analyze_on_every_sample_file(path: Path) -> None:
    """``terms`` caches per token; it must never drift from ``analyze``, offsets included."""
    text = read_source(path).text
    tokens = list(analyze(text))
    assert terms(text) == [t.text for t in tokens]
    assert [t.pos for t in tokens] == list(range(len(tokens)))
    for token in tokens:
        source = text[token.start : token.end]
        if token.part:
            assert PIECE.fullmatch(source)
        else:
            assert terms(source)[0] == token.text


@given(st.text(alphabet=st.sampled_from("aZ0é’'._\\/:@- x9\n"), max_size=40))
def test_fast_terms_equal_analyze_on_any_text(text: str) -> None:
    assert terms(text) == [t.text for t in analyze(text)]


@pytest.mark.parametrize(
    ("word", "units"),
    [
        ("memory", ["memori"]),
        ("printers,scanners", ["printer", "scanner"]),
        ("the", []),
        ("007", ["007"]),
        ("Tdpipe.sys", [Compound("tdpipe.sys", ("tdpipe", "sy"))]),
        ("SP6a", [Compound("sp6a", ("sp", "6"))]),
        ("0x0000004A", [Compound("0x4a", ("0", "x", "4"))]),
        ("Q315817", [Compound("q315817", ("q", "315817"))]),
        ("don’t", [Compound("don't", ("don", "t"))]),
        ("a.the", [Compound("a.the", ())]),
        (f"{LONG_PART}b.sys", [Compound(None, (f"{LONG_PART}b", "sy"))]),
    ],
)
def test_query_units(word: str, units: list[object]) -> None:
    assert query_units(word) == units


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("memory", "memor"),
        ("relay", "rela"),
        ("Leaks", "leak"),
        ("leak", "leak"),
        ("123", "123"),
        ("Tdpipe.sys", "tdpipe.sys"),
    ],
)
def test_prefix_term_is_the_common_start_of_word_and_stem(text: str, prefix: str) -> None:
    """``memory*`` must find ``memori`` (the stem of memory) and ``memory``'s other forms."""
    assert prefix_term(text) == prefix
