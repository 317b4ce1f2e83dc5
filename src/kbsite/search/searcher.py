"""``kbsite search``: run a parsed query on the whoosh index and make ranked hits.

The query tree from ``query.py`` is turned into whoosh queries here; the browser's
``search.js`` evaluates the same tree over its own copy of the postings, with the
same scores (``ranking.py``), so both list the same articles.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh.matching import WrappingMatcher
from whoosh.searching import Searcher

from kbsite.output.write import read_site_marker
from kbsite.search import analysis, ranking
from kbsite.search.index import default_index_dir
from kbsite.search.integrity import open_checked
from kbsite.search.query import (
    FILTER_FIELDS,
    ID_FIELD,
    SCORED_FIELDS,
    And,
    Node,
    Not,
    Or,
    Query,
    QueryError,
    Range,
    Text,
    parse_query,
)
from kbsite.search.spelling import Speller

PHRASE_FIELDS = ("title", "headings", "body", "product")
"""Fields indexed with positions; a phrase in any other field is its words."""
SNIPPET_WIDTH = 220


@dataclasses.dataclass(slots=True)
class Snippet:
    text: str
    marks: list[tuple[int, int]]
    """Character ranges of ``text`` that matched the query."""


@dataclasses.dataclass(slots=True)
class Hit:
    id: str
    title: str
    date: str | None
    product: str
    score: float
    snippet: Snippet

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "product": self.product,
            "score": round(self.score, 4),
            "snippet": self.snippet.text,
            "highlights": [list(mark) for mark in self.snippet.marks],
        }


@dataclasses.dataclass(slots=True)
class SearchResults:
    query: Query
    total: int
    hits: list[Hit]
    suggestion: str | None = None
    """A respelled query when some word is in no article ("did you mean")."""


class Unscored(wq.WrappingQuery):  # type: ignore[misc]
    """Matches what its child matches and adds nothing to the score: a filter.

    (whoosh's ConstantScoreQuery reads a score of 0 as "none given" and scores 1.)
    """

    def matcher(self, searcher: Searcher, context: Any = None) -> Any:
        return WrappingMatcher(self.child.matcher(searcher, context), boost=0.0)


def search(index_dir: Path, text: str, limit: int = 10) -> SearchResults:
    """Parse ``text`` and return the best ``limit`` hits; raises QueryError, IndexError_."""
    parsed = parse_query(text)
    ix = open_checked(index_dir)
    with ix.searcher(weighting=ranking.LevelWeighting()) as searcher:
        whoosh_query = to_whoosh(parsed.root)
        ranked = rank(searcher, whoosh_query) if whoosh_query is not None else []
        if parsed.article_id is not None:
            exact = searcher.document_number(id=parsed.article_id)
            if exact is not None:
                ranked = [(ranked[0][0] if ranked else 0.0, exact)] + [
                    pair for pair in ranked if pair[1] != exact
                ]
        terms = _highlight_terms(searcher, whoosh_query)
        hits = [_hit(searcher, docnum, score, terms) for score, docnum in ranked[:limit]]
        suggestion = None
        if len(ranked) < 3:
            suggestion = Speller(index_dir).respell(parsed)
        return SearchResults(parsed, len(ranked), hits, suggestion)


def rank(searcher: Searcher, whoosh_query: wq.Query) -> list[tuple[float, int]]:
    """Every match as (score, docnum), best first; equal scores in archive order (``order_key``)."""
    results = searcher.search(whoosh_query, limit=None)
    order = searcher.reader().column_reader("order")  # order_key as UTF-8 bytes
    keyed = [
        (-ranking.rounded(score), order[docnum], score, docnum) for score, docnum in results.top_n
    ]
    keyed.sort()
    return [(score, docnum) for _, _, score, docnum in keyed]


def to_whoosh(node: Node) -> wq.Query | None:
    """The whoosh query for a parsed query node; None when it asks for nothing (stop words)."""
    if isinstance(node, Text):
        return _text_query(node)
    if isinstance(node, Range):
        return Unscored(wq.DateRange("date", _datetime(node.low), _datetime(node.high, end=True)))
    if isinstance(node, Or):
        alternatives = [q for q in map(to_whoosh, node.children) if q is not None]
        return wq.Or(alternatives) if alternatives else None
    if isinstance(node, Not):
        raise QueryError("a query needs something to look for besides exclusions")
    if isinstance(node, And):
        wanted = [q for c in node.children if not isinstance(c, Not) if (q := to_whoosh(c))]
        unwanted = [
            q for c in node.children if isinstance(c, Not) if (q := to_whoosh(c.child)) is not None
        ]
        if not wanted:
            return None
        positive = wanted[0] if len(wanted) == 1 else wq.And(wanted)
        if unwanted:
            # not wq.AndNot: whoosh-reloaded 2.7.5's AndNotMatcher misses an exclusion
            # when the excluded list starts before the wanted one
            return wq.And([positive, Unscored(wq.Not(wq.Or(unwanted)))])
        return positive
    raise TypeError(node)


def _text_query(node: Text) -> wq.Query | None:
    if node.field == ID_FIELD:
        match = analysis.ARTICLE_NUMBER.fullmatch(node.text.strip())
        if match is None:
            raise QueryError(f"id: expects an article id like Q315817, not {node.text!r}")
        return Unscored(wq.Term("id", f"Q{int(match.group(1))}"))
    fields = {node.field: SCORED_FIELDS.get(node.field, 1.0)} if node.field else SCORED_FIELDS
    filtering = node.field in FILTER_FIELDS
    if node.kind == "prefix":
        prefix = analysis.prefix_term(node.text)
        if not prefix:
            return None
        query: wq.Query | None = _any_of(
            wq.ConstantScoreQuery(wq.Prefix(name, prefix), boost) for name, boost in fields.items()
        )
    elif node.kind == "phrase":
        query = _phrase_query(node.text, fields)
    else:
        query = _all_of(_unit_query(unit, fields) for unit in analysis.query_units(node.text))
    if query is not None and filtering:
        return Unscored(query)
    return query


def _phrase_query(text: str, fields: dict[str, float]) -> wq.Query | None:
    terms = analysis.terms(text)
    if not terms:
        return None
    if len(terms) == 1:
        return _any_of(wq.Term(name, terms[0], boost=boost) for name, boost in fields.items())
    return _any_of(
        wq.Phrase(name, terms, boost=boost)
        if name in PHRASE_FIELDS
        else wq.And([wq.Term(name, term, boost=boost) for term in terms])
        for name, boost in fields.items()
    )


def _unit_query(unit: analysis.QueryUnit, fields: dict[str, float]) -> wq.Query | None:
    if isinstance(unit, str):
        return _any_of(wq.Term(name, unit, boost=boost) for name, boost in fields.items())
    whole = (
        _any_of(wq.Term(name, unit.whole, boost=boost) for name, boost in fields.items())
        if unit.whole is not None
        else None
    )
    parts = _all_of(_unit_query(part, fields) for part in unit.parts)
    return _any_of(q for q in (whole, parts) if q is not None)


def _any_of(queries: Iterable[wq.Query | None]) -> wq.Query | None:
    return _combine(wq.Or, queries)


def _all_of(queries: Iterable[wq.Query | None]) -> wq.Query | None:
    return _combine(wq.And, queries)


def _combine(
    compound: type[wq.CompoundQuery], queries: Iterable[wq.Query | None]
) -> wq.Query | None:
    """The present queries joined by ``compound``; one alone as it is; None for none."""
    present = [q for q in queries if q is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else compound(present)


def _datetime(day: datetime.date | None, end: bool = False) -> datetime.datetime | None:
    if day is None:
        return None
    return datetime.datetime.combine(day, datetime.time.max if end else datetime.time.min)


def _highlight_terms(searcher: Searcher, whoosh_query: wq.Query | None) -> set[str]:
    if whoosh_query is None:
        return set()
    found = whoosh_query.existing_terms(searcher.reader(), expand=True)
    return {
        text.decode("utf-8") if isinstance(text, bytes) else str(text)
        for field, text in found
        if field in SCORED_FIELDS
    }


def _hit(searcher: Searcher, docnum: int, score: float, terms: set[str]) -> Hit:
    stored = searcher.stored_fields(docnum)
    date = stored.get("date")
    body = stored.get("body") or ""
    snippet = make_snippet(body, terms) if terms else None
    if snippet is None or not snippet.marks:
        excerpt = stored.get("excerpt") or " ".join(body.split())[:SNIPPET_WIDTH]
        snippet = make_snippet(excerpt, terms)
    return Hit(
        id=stored["id"],
        title=stored.get("title", ""),
        date=date.date().isoformat() if date is not None else None,
        product=stored.get("product", ""),
        score=score,
        snippet=snippet,
    )


def make_snippet(text: str, terms: set[str], width: int = SNIPPET_WIDTH) -> Snippet:
    """The window of ``text`` holding the most query terms, with their places marked."""
    flat = " ".join(text.split())
    matches = [(t.start, t.end) for t in analysis.analyze(flat) if t.text in terms]
    if not matches:
        return Snippet(flat[:width] + (" …" if len(flat) > width else ""), [])
    best_start, best_count = 0, 0
    right = 0
    for left, (start, _) in enumerate(matches):
        while right < len(matches) and matches[right][1] - start <= width:
            right += 1
        if right - left > best_count:
            best_start, best_count = left, right - left
    anchor = matches[best_start][0]
    start = max(0, anchor - width // 4)
    if start > 0:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < anchor else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > matches[best_start][1] else end
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(flat) else ""
    merged: list[tuple[int, int]] = []
    for match_start, match_end in matches:
        if match_start >= start and match_end <= end:
            if merged and match_start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], match_end))
            else:
                merged.append((match_start, match_end))
    shift = len(prefix) - start
    marks = [(a + shift, b + shift) for a, b in merged]
    return Snippet(prefix + flat[start:end] + suffix, marks)


def index_dir_for_site(site: Path) -> Path:
    """Where the index of a built site lives: the site's marker file says, else the default."""
    marker = read_site_marker(site)
    recorded = marker.get("index") if marker else None
    if isinstance(recorded, str) and recorded:
        return Path(recorded) if os.path.isabs(recorded) else (site / recorded).resolve()
    return default_index_dir(site)
