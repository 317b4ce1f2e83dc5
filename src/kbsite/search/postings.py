"""The browser index's postings as text: base-64 variable-length numbers, and the
decoding and patching of one term's postings (``webindex.py`` writes them).
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import re

DIGITS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def encode_number(value: int, out: bytearray) -> None:
    """Five bits a character, low bits first; values >= 32 in a character mean "more"."""
    while value >= 32:
        out.append(DIGITS[32 + (value & 31)])
        value >>= 5
    out.append(DIGITS[value])


def patch_postings(encoded: str, doc: int, level: int | None) -> tuple[int, str]:
    """A term's postings with ``doc``'s replaced by ``level`` (None: removed); their count.

    Only ``doc``'s posting and the next one's gap change: the rest of the text is kept as
    it is, so a common term's tens of thousands of postings are decoded (to find the
    place) but never encoded again."""
    postings = decode_postings(encoded)
    docs = postings.docs
    at = bisect.bisect_left(docs, doc)
    present = at < len(docs) and docs[at] == doc
    after = at + 1 if present else at
    previous = docs[at - 1] if at else -1
    middle = bytearray()
    if level is not None:
        encode_number(doc - previous - 1, middle)
        middle.append(DIGITS[level])
        previous = doc
    if after < len(docs):
        encode_number(docs[after] - previous - 1, middle)
        middle.append(DIGITS[postings.levels[after]])
        after += 1
    text = (
        encoded[: postings.offset(at)] + middle.decode("ascii") + encoded[postings.offset(after) :]
    )
    return len(docs) - present + (level is not None), text


@dataclasses.dataclass(slots=True)
class DecodedPostings:
    """A term's postings as ``WebIndexBuilder.add`` encodes them, decoded."""

    docs: list[int]
    levels: list[int]
    long_numbers: list[int]
    """Where each number of more than one character is, counted in numbers."""
    extra_characters: list[int]
    """Before each of those, how many characters beyond one a number the text holds."""

    def offset(self, posting: int) -> int:
        """Where a posting (or, past the last, the end) starts in the text."""
        number = 2 * posting
        return number + self.extra_characters[bisect.bisect_left(self.long_numbers, number)]


def posting_count(encoded: bytearray) -> int:
    """How many postings an encoded term holds: each is two numbers, and every number
    ends in a digit below 32."""
    return len(encoded.translate(None, DIGITS[32:])) // 2


_DIGIT_VALUES = bytes.maketrans(DIGITS, bytes(range(len(DIGITS))))
_LONG_NUMBER = re.compile(rb"[\x20-\x3f]+[\x00-\x1f]")
"""Digits saying "more", then the last digit: a number of more than one character."""
_PLUS_ONE = (1).__add__
_MINUS_ONE = (-1).__add__


def decode_postings(encoded: str) -> DecodedPostings:
    """The documents and levels of a term's postings.

    Most numbers are one character (a common term's gaps are small; levels always are):
    those become numbers without a Python loop, only the longer ones one by one."""
    values = encoded.encode("ascii").translate(_DIGIT_VALUES)
    numbers: list[int] = []
    long_numbers: list[int] = []
    extra = [0]
    done = 0
    for match in _LONG_NUMBER.finditer(values):
        start, end = match.span()
        numbers += values[done:start]
        value = shift = 0
        for digit in values[start : end - 1]:
            value += (digit - 32) << shift
            shift += 5
        long_numbers.append(len(numbers))
        extra.append(extra[-1] + end - start - 1)
        numbers.append(value + (values[end - 1] << shift))
        done = end
    numbers += values[done:]
    docs = list(map(_MINUS_ONE, itertools.accumulate(map(_PLUS_ONE, numbers[0::2]))))
    return DecodedPostings(docs, numbers[1::2], long_numbers, extra)
