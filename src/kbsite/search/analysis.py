"""Text analysis: how article text and query words become index terms.

One definition, used by the whoosh index, by ``kbsite search`` and (ported line for
line to ``templates/static/search-analysis.js``) by the browser, so that both find the
same articles. Change one, change the other; ``tests/search/test_search_js.py`` compares
them.

A *token* is a run of word characters joined by one or two of ``. _ \\ / @ : ' -``:
``Tdpipe.sys``, ``HKEY_LOCAL_MACHINE\\System``, ``SP6a``, ``MS-DOS``.
A plain word (all letters) is lowercased, dropped if it is a stop word, and stemmed.
A number is kept as written. Any other token is a *compound*: it is indexed whole
(lowercased, so ``tdpipe.sys`` is findable as typed) and then by its parts (runs of
letters, stemmed, and runs of digits, without leading zeros), so ``tdpipe``, ``sys``,
``sp``, ``6``, ``0x41`` and ``41`` find it too.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator

from whoosh.analysis.filters import STOP_WORDS as WHOOSH_STOP_WORDS
from whoosh.lang.porter import stem as porter_stem

from kbsite.read.syntax import ID_DIGITS

LETTERS = (
    "A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff"
)
"""The letters kbsite indexes: ASCII, Latin-1, Latin Extended, Greek, Cyrillic.

Spelled out (not ``\\w``) because JavaScript's ``\\w`` differs from Python's.
"""
JOINERS = "._\\\\/@:'\u2019-"
TOKEN = re.compile(f"[0-9{LETTERS}]+(?:[{JOINERS}]{{1,2}}[0-9{LETTERS}]+)*")
PIECE = re.compile(f"[{LETTERS}]+|[0-9]+")
HEX_NUMBER = re.compile(r"0x0*([0-9a-f]+)")
BARE_HEX = re.compile(r"(?=[a-f]*[0-9])(?=[0-9]*[a-f])0*([0-9a-f]{1,8})")
"""Eight hex digits with both digits and letters, written without ``0x`` (``80040e4e``):
the same number as ``0x80040E4E``."""

ARTICLE_NUMBER = re.compile(f"[Qq]?({ID_DIGITS})")

MAX_WHOLE = 64
"""Longer compounds (paths, encoded blobs) are indexed by their parts only."""

STOP_WORDS: frozenset[str] = frozenset(WHOOSH_STOP_WORDS)
"""whoosh's default English stop list (``search-analysis.js`` holds a copy)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Token:
    text: str
    """The index term."""
    pos: int
    start: int
    end: int
    """Character offsets of what it came from in the analyzed text."""
    part: bool = False
    """True for a part of a compound (the compound itself comes just before)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Compound:
    """A query word that is a compound: matches its whole, or all of its parts."""

    whole: str | None
    parts: tuple[str, ...]


QueryUnit = str | Compound
"""What one token of a query word asks for: a term, or a compound."""


@functools.lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    return str(porter_stem(word))


def word_term(word: str) -> str | None:
    """The index term of a lowercased run of letters, or None for a stop word."""
    if word in STOP_WORDS:
        return None
    return stem(word)


def number_term(digits: str) -> str:
    return digits.lstrip("0") or "0"


def analyze(text: str) -> Iterator[Token]:
    """The index terms of ``text``, with positions and character offsets."""
    pos = 0
    for match in TOKEN.finditer(text):
        whole, parts = token_terms(match.group())
        start = match.start()
        if whole is not None:
            yield Token(whole, pos, start, match.end())
            pos += 1
        for term, piece_start, piece_end in parts:
            yield Token(term, pos, start + piece_start, start + piece_end, part=True)
            pos += 1


def token_terms(raw: str) -> tuple[str | None, list[tuple[str, int, int]]]:
    """A token's own term (None for a stop word) and, for a compound, its parts' terms."""
    pieces = list(PIECE.finditer(raw))
    if len(pieces) == 1:
        return (raw if raw.isdigit() else word_term(raw.lower())), []
    parts = []
    for piece in pieces:
        text = piece.group()
        term = number_term(text) if text.isdigit() else word_term(text.lower())
        if term is not None:
            parts.append((term, piece.start(), piece.end()))
    return whole_term(raw), parts


def whole_term(raw: str) -> str | None:
    """A compound's whole term: lowercased, curly apostrophes straightened, hex shortened."""
    if len(raw) > MAX_WHOLE:
        return None
    whole = raw.lower().replace("\u2019", "'")
    hex_number = HEX_NUMBER.fullmatch(whole)
    if hex_number:
        return "0x" + hex_number.group(1)
    if len(whole) == 8 and (bare := BARE_HEX.fullmatch(whole)):
        return "0x" + bare.group(1)
    return whole


def query_units(word: str) -> list[QueryUnit]:
    """What a query word asks for, token by token (stop words dropped)."""
    units: list[QueryUnit] = []
    for match in TOKEN.finditer(word):
        whole, parts = token_terms(match.group())
        if not parts and PIECE.fullmatch(match.group()):
            if whole is not None:
                units.append(whole)
        elif whole is not None or parts:
            units.append(Compound(whole, tuple(term for term, _, _ in parts)))
    return units


def code_units(word: str) -> list[QueryUnit]:
    """A number written after STOP or "error" (``3B``, ``0x0000003B``, ``3622``): that
    code in its ``0x`` form, or the word as written."""
    code = code_term(word)
    whole, parts = token_terms(word)
    written = whole if whole is not None else (parts[0][0] if parts else None)
    if code is None or written is None:
        return query_units(word)
    return [Compound(code, () if written == code else (written,))]


def code_term(word: str) -> str | None:
    """``3B``, ``0x3b``, ``0000003B``, ``3Bh`` -> ``0x3b``; None for what is not hex."""
    match = CODE.fullmatch(word)
    return "0x" + (match.group(1).lower().lstrip("0") or "0") if match else None


CODE = re.compile(r"(?:0[xX])?([0-9a-fA-F]{1,8})[hH]?")


def prefix_term(text: str) -> str:
    """What a prefix query looks for among index terms.

    Terms are stemmed, so ``memory*`` must look for ``memor`` (the stem of
    ``memory`` is ``memori``): the word and its stem's common beginning.
    """
    lowered = text.lower()
    if not PIECE.fullmatch(lowered) or lowered.isdigit():
        return lowered
    stemmed = stem(lowered)
    common = 0
    while common < min(len(lowered), len(stemmed)) and lowered[common] == stemmed[common]:
        common += 1
    return lowered[:common]


_TERMS_OF_TOKEN: dict[str, tuple[str, ...]] = {}
TOKEN_CACHE_SIZE = 250_000
"""Distinct tokens ``terms`` keeps the terms of, per process (some 40 MB), before it
starts afresh: every build process has one, and a whole archive has millions."""


def forget_tokens() -> None:
    """Empty this process's caches of token terms and stems (``terms``, ``stem``): a
    process done analyzing frees them for its next step to reuse."""
    _TERMS_OF_TOKEN.clear()
    stem.cache_clear()


def terms(text: str) -> list[str]:
    """``analyze``'s terms alone, fast: each distinct token is analyzed once per process."""
    found: list[str] = []
    cache = _TERMS_OF_TOKEN
    for raw in TOKEN.findall(text):
        token_terms_ = cache.get(raw)
        if token_terms_ is None:
            whole, parts = token_terms(raw)
            token_terms_ = ((whole,) if whole is not None else ()) + tuple(p[0] for p in parts)
            if len(cache) >= TOKEN_CACHE_SIZE:
                cache.clear()
            cache[raw] = token_terms_
        found.extend(token_terms_)
    return found
