"""The browser index: its postings codec, which an edit's patch decodes and encodes again;
its term shards."""

from __future__ import annotations

import datetime
from collections import defaultdict
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kbsite.output.write import SiteWriter
from kbsite.search import webindex
from kbsite.search.postings import (
    DIGITS,
    decode_groups,
    encode_groups,
    encode_number,
    impact_ordered,
    patch_postings,
)
from kbsite.search.ranking import LEVELS


def collected(pairs: list[tuple[int, int]]) -> bytearray:
    """Postings as ``WebIndexBuilder.add`` collects them, posting by posting."""
    out = bytearray()
    previous = -1
    for doc, level in pairs:
        encode_number(doc - previous - 1, out)
        out.append(DIGITS[level])
        previous = doc
    return out


def by_level(pairs: list[tuple[int, int]]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for doc, level in pairs:
        groups[level].append(doc)
    return dict(groups)


gaps = st.one_of(st.integers(0, 31), st.integers(0, 5_000_000))
postings = st.lists(st.tuples(gaps, st.integers(1, LEVELS)), max_size=300).map(
    lambda items: [
        (sum(gap + 1 for gap, _ in items[: n + 1]) - 1, level) for n, (_, level) in enumerate(items)
    ]
)


@given(postings.filter(bool))
def test_postings_are_grouped_by_level_and_decode_as_collected(
    pairs: list[tuple[int, int]],
) -> None:
    count, encoded = impact_ordered(collected(pairs))
    assert count == len(pairs)
    assert encoded == encode_groups(by_level(pairs))
    assert decode_groups(encoded) == by_level(pairs)
    levels = [DIGITS.index(group[0].encode()) for group in encoded.split("A")]
    assert levels == sorted(set(levels), reverse=True)


def test_a_common_term_takes_a_character_a_posting() -> None:
    pairs = [(doc, 1 + doc % 3) for doc in range(0, 30_000, 2)]
    _, encoded = impact_ordered(collected(pairs))
    assert len(encoded) < 1.01 * len(pairs) < len(collected(pairs)) / 1.9


@given(postings, st.integers(0, 6_000_000), st.one_of(st.none(), st.integers(1, LEVELS)))
def test_a_patched_document_is_replaced_in_place(
    pairs: list[tuple[int, int]], doc: int, level: int | None
) -> None:
    expected = [pair for pair in pairs if pair[0] != doc]
    if level is not None:
        expected = sorted([*expected, (doc, level)])
    count, encoded = patch_postings(encode_groups(by_level(pairs)), doc, level)
    assert (count, encoded) == (len(expected), encode_groups(by_level(expected)))


def test_a_document_already_there_is_replaced() -> None:
    pairs = [(0, 3), (4, 7), (9, 1)]
    assert patch_postings(encode_groups(by_level(pairs)), 4, 2) == (
        3,
        encode_groups(by_level([(0, 3), (4, 2), (9, 1)])),
    )
    assert patch_postings(encode_groups(by_level(pairs)), 4, None) == (
        2,
        encode_groups(by_level([(0, 3), (9, 1)])),
    )


class _Files:
    """A SiteWriter's ``write_text``, into a dict."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def write_text(self, path: str, text: str) -> None:
        self.files[path] = text


def _record(number: int) -> Any:
    return SimpleNamespace(
        id=f"Q{100000 + number}",
        title=f"Article {number}",
        date=datetime.date(2001, 1, 1),
        excerpt="",
        product="Lighthouse",
        category="lh",
        title_prefix=None,
    )


def test_a_common_term_has_a_term_shard_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webindex, "TERM_SHARD_CHARS", 2000)
    builder = webindex.WebIndexBuilder()
    for number in range(1200):
        words = (
            ["beacon", "harbor", f"w{number:03d}"] if number % 2 else ["beacon", f"w{number:03d}"]
        )
        builder.add(webindex.article_postings({"body": words}))
    files = _Files()
    builder.write([_record(n) for n in range(1200)], cast(SiteWriter, files))
    shards = {
        path: webindex._read_script_text(text)
        for path, text in files.files.items()
        if path.startswith("search/t/")
    }
    holding = {term: path for path, shard in shards.items() for term in shard}
    assert {term for term, path in holding.items() if path == holding["beacon"]} == {"beacon"}
    assert {term for term, path in holding.items() if path == holding["harbor"]} == {"harbor"}
    others = {path for path in shards if path not in {holding["beacon"], holding["harbor"]}}
    assert max(len(files.files[path]) for path in others) < 2000 + 2000 // webindex.OWN_SHARD_SHARE
    assert "runs" not in webindex._read_script_text(files.files["search/meta.js"])
    assert "runs" in webindex._read_script_text(files.files["search/facets.js"])
