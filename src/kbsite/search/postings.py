"""The browser index's postings as text: base-64 variable-length numbers, and the
encoding, decoding and patching of one term's postings (``webindex.py`` writes them).

A term's postings in one field are grouped by ranking level (``ranking.py``), highest
level first: a group is its level, then the gap to each of its documents from the
previous one plus one (the first counted from -1), and groups are separated by a zero.
Grouped so, a common term needs no level per posting and its gaps stay small: a
posting of a common term takes about one character. A zero is always a separator:
levels and gaps plus one are at least one, and a number of more than one character
never ends in a zero digit.
"""

from __future__ import annotations

import itertools
import operator
import re

DIGITS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SEPARATOR = "A"
"""A zero: the end of a level's group."""


def encode_number(value: int, out: bytearray) -> None:
    """Five bits a character, low bits first; values >= 32 in a character mean "more"."""
    while value >= 32:
        out.append(DIGITS[32 + (value & 31)])
        value >>= 5
    out.append(DIGITS[value])


_DIGIT_VALUES = bytes.maketrans(DIGITS, bytes(range(len(DIGITS))))
_VALUE_DIGITS = bytes.maketrans(bytes(range(len(DIGITS))), DIGITS)
_LONG_NUMBER = re.compile(rb"[\x20-\x3f]+[\x00-\x1f]")
"""Digits saying "more", then the last digit: a number of more than one character."""
_LEVEL = operator.itemgetter(0)
_DOC = operator.itemgetter(1)
_PLUS_ONE = (1).__add__
_MINUS_ONE = (-1).__add__


def decode_numbers(encoded: str | bytes | bytearray) -> list[int]:
    """The numbers of an encoded text. Most are one character (a common term's gaps are
    small; levels always are): those are decoded without a Python loop."""
    raw = encoded.encode("ascii") if isinstance(encoded, str) else bytes(encoded)
    values = raw.translate(_DIGIT_VALUES)
    numbers: list[int] = []
    done = 0
    for match in _LONG_NUMBER.finditer(values):
        start, end = match.span()
        numbers += values[done:start]
        value = shift = 0
        for digit in values[start : end - 1]:
            value += (digit - 32) << shift
            shift += 5
        numbers.append(value + (values[end - 1] << shift))
        done = end
    numbers += values[done:]
    return numbers


def _encode_group(level: int, docs: list[int]) -> str:
    steps = list(map(int.__sub__, docs, [-1, *docs[:-1]]))
    out = bytearray([DIGITS[level]])
    if max(steps) < 32:
        out += bytes(steps).translate(_VALUE_DIGITS)
    else:
        append = out.append
        for step in steps:
            if step < 32:
                append(DIGITS[step])
            else:
                encode_number(step, out)
    return out.decode("ascii")


def encode_groups(groups: dict[int, list[int]]) -> str:
    """A term's postings from its documents (ascending) by level."""
    levels = sorted((level for level, docs in groups.items() if docs), reverse=True)
    return SEPARATOR.join(_encode_group(level, groups[level]) for level in levels)


def _group_docs(text: str) -> list[int]:
    return list(map(_MINUS_ONE, itertools.accumulate(decode_numbers(text[1:]))))


def decode_groups(encoded: str) -> dict[int, list[int]]:
    """A term's documents (ascending) by level."""
    return {
        DIGITS.index(group[0].encode("ascii")): _group_docs(group)
        for group in (encoded.split(SEPARATOR) if encoded else [])
    }


def impact_ordered(interleaved: bytes | bytearray) -> tuple[int, str]:
    """A term's postings as ``WebIndexBuilder.add`` collects them (each document's gap
    from the previous one, then its level) grouped by level; and their count."""
    numbers = decode_numbers(interleaved)
    docs = list(map(_MINUS_ONE, itertools.accumulate(map(_PLUS_ONE, numbers[0::2]))))
    levels = numbers[1::2]
    if levels.count(levels[0]) == len(levels):
        return len(docs), _encode_group(levels[0], docs)
    # highest level first, each level's documents descending: reversed, they ascend
    by_level = itertools.groupby(sorted(zip(levels, docs, strict=True), reverse=True), _LEVEL)
    groups = [_encode_group(level, [*map(_DOC, reversed([*pairs]))]) for level, pairs in by_level]
    return len(docs), SEPARATOR.join(groups)


def patch_postings(encoded: str, doc: int, level: int | None) -> tuple[int, str]:
    """A term's postings with ``doc``'s replaced by ``level`` (None: removed); their count.

    Only the groups of ``doc``'s old and new level are encoded again: a common term's
    other groups are kept as they are."""
    groups = encoded.split(SEPARATOR) if encoded else []
    by_level = {DIGITS.index(group[0].encode("ascii")): group for group in groups}
    count = 0
    changed: dict[int, list[int]] = {}
    for group_level, group in by_level.items():
        docs = _group_docs(group)
        count += len(docs)
        if doc in docs and group_level != level:
            docs.remove(doc)
            changed[group_level] = docs
            count -= 1
    if level is not None:
        docs = _group_docs(by_level[level]) if level in by_level else []
        if doc not in docs:
            docs = sorted([*docs, doc])
            changed[level] = docs
            count += 1
    for group_level, docs in changed.items():
        if docs:
            by_level[group_level] = _encode_group(group_level, docs)
        else:
            by_level.pop(group_level, None)
    return count, SEPARATOR.join(by_level[key] for key in sorted(by_level, reverse=True))
