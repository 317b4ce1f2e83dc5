"""How a match is scored: BM25 with its per-document part rounded to a small level.

``kbsite search`` (through whoosh) and the browser must rank alike. The browser
cannot hold every document's field lengths, so the index stores, for each posting,
the BM25 term-frequency factor already normalised by the document's length and
rounded to one of ``LEVELS`` steps; whoosh scores with the very same rounded value.
A match then scores ``boost * idf * level / LEVELS`` in both, and results sort on the
score rounded to six places, ties broken by archive order (``index.order_key``).
"""

from __future__ import annotations

import math
from typing import Any

from whoosh.scoring import WeightingModel, WeightLengthScorer, WeightScorer

K1 = 1.2
B = 0.75
LEVELS = 31
"""Levels fit one character of the browser index's number encoding."""
TYPICAL_LENGTH = {"title": 8.0, "headings": 6.7, "keywords": 28.0, "body": 316.0}
"""BM25's pivot: a field's length, in terms, in a typical KB article (the means over
the public archive). Fixed rather than averaged over each build, so an article's
index entries depend on that article alone: an edit rewrites only the entries of its
own terms, and the browser and whoosh score alike with no statistics shared."""


def rounded(value: float) -> float:
    """Six decimal places, computed the same way in Python and JavaScript."""
    return math.floor(value * 1e6 + 0.5) / 1e6


def idf(doc_frequency: int, doc_count: int) -> float:
    """whoosh's BM25 idf, rounded so JavaScript's Math.log gives the same value."""
    return rounded(math.log(doc_count / (doc_frequency + 1)) + 1)


def tf_level(weight: float, length: float, average_length: float) -> int:
    """BM25's saturated term frequency as a level from 1 to LEVELS."""
    norm = weight * (K1 + 1) / (weight + K1 * ((1 - B) + B * length / average_length))
    return max(1, min(LEVELS, math.floor(norm / (K1 + 1) * LEVELS + 0.5)))


def term_score(boost: float, term_idf: float, level: int) -> float:
    return boost * (term_idf * level / LEVELS)


class LevelWeighting(WeightingModel):  # type: ignore[misc]
    """whoosh scoring with the rounded levels above (no block skipping: ties must be exact)."""

    def scorer(self, searcher: Any, fieldname: str, text: bytes, qf: int = 1) -> Any:
        if not searcher.schema[fieldname].scorable:
            return WeightScorer.for_(searcher, fieldname, text)
        return _LevelScorer(searcher, fieldname, text)


class _LevelScorer(WeightLengthScorer):  # type: ignore[misc]
    def __init__(self, searcher: Any, fieldname: str, text: bytes) -> None:
        parent = searcher.get_parent()
        self.idf = idf(live_doc_frequency(parent, fieldname, text), parent.doc_count())
        self.average_length = TYPICAL_LENGTH.get(fieldname, 1.0)
        self.setup(searcher, fieldname, text)

    def _score(self, weight: float, length: float) -> float:
        return self.idf * tf_level(weight, length, self.average_length) / LEVELS

    def supports_block_quality(self) -> bool:
        return False


def live_doc_frequency(searcher: Any, fieldname: str, text: bytes) -> int:
    """How many documents not deleted hold the term.

    whoosh counts deleted documents too until it merges their segment, and the
    browser's index counts only live ones; an updated article leaves one behind.
    """
    reader = searcher.reader()
    if not reader.has_deletions():
        return int(reader.doc_frequency(fieldname, text))
    return sum(1 for _ in reader.postings(fieldname, text).all_ids())


def minimum_should_match(words: int) -> int:
    """Of ``words`` side by side (``query.Most``), how many an article must have: all of
    one or two, at least half of more."""
    return words if words <= 2 else -(-words // 2)


def coordinated(score: float, matched: int, words: int) -> float:
    """A score scaled by the share of the words an article has, so that all the words
    rank first and then most of them (computed the same way in JavaScript)."""
    return score * matched / words
