"""The browser index's postings codec, which an edit's patch decodes and encodes again."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kbsite.search.postings import DIGITS, decode_postings, encode_number, patch_postings
from kbsite.search.ranking import LEVELS


def encoded_one_by_one(pairs: list[tuple[int, int]]) -> str:
    """The encoding as ``WebIndexBuilder.add`` writes it, posting by posting."""
    out = bytearray()
    previous = -1
    for doc, level in pairs:
        encode_number(doc - previous - 1, out)
        out.append(DIGITS[level])
        previous = doc
    return out.decode("ascii")


gaps = st.one_of(st.integers(0, 31), st.integers(0, 5_000_000))
postings = st.lists(st.tuples(gaps, st.integers(1, LEVELS)), max_size=300).map(
    lambda items: [
        (sum(gap + 1 for gap, _ in items[: n + 1]) - 1, level) for n, (_, level) in enumerate(items)
    ]
)


@given(postings)
def test_postings_decode_as_written(pairs: list[tuple[int, int]]) -> None:
    encoded = encoded_one_by_one(pairs)
    decoded = decode_postings(encoded)
    assert list(zip(decoded.docs, decoded.levels, strict=True)) == pairs
    for n in range(len(pairs) + 1):
        assert decoded.offset(n) == len(encoded_one_by_one(pairs[:n]))


@given(postings, st.integers(0, 6_000_000), st.one_of(st.none(), st.integers(1, LEVELS)))
def test_a_patched_document_is_replaced_in_place(
    pairs: list[tuple[int, int]], doc: int, level: int | None
) -> None:
    expected = [pair for pair in pairs if pair[0] != doc]
    if level is not None:
        expected = sorted([*expected, (doc, level)])
    count, encoded = patch_postings(encoded_one_by_one(pairs), doc, level)
    assert (count, encoded) == (len(expected), encoded_one_by_one(expected))


def test_a_document_already_there_is_replaced() -> None:
    pairs = [(0, 3), (4, 7), (9, 1)]
    assert patch_postings(encoded_one_by_one(pairs), 4, 2) == (
        3,
        encoded_one_by_one([(0, 3), (4, 2), (9, 1)]),
    )
    assert patch_postings(encoded_one_by_one(pairs), 4, None) == (
        2,
        encoded_one_by_one([(0, 3), (9, 1)]),
    )
