"""``kbsite search``: run a parsed query on the whoosh index and make ranked hits.

The query tree from ``query.py`` is turned into whoosh queries here; the browser's
``search-engine.js`` evaluates the same tree over its own copy of the postings, with the
same scores (``ranking.py``), so both list the same articles.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeGuard

from whoosh import query as wq
from whoosh.matching import WrappingMatcher
from whoosh.searching import Searcher

from kbsite.search import analysis, forms, ranking, spelling, synonyms
from kbsite.search.integrity import open_checked
from kbsite.search.location import default_index_dir, marked_index_dir
from kbsite.search.query import (
    FILTER_FIELDS,
    ID_FIELD,
    SCORED_FIELDS,
    And,
    Most,
    Node,
    Not,
    Or,
    Query,
    QueryError,
    Range,
    Text,
    parse_query,
    plain_words,
    with_alternatives,
)

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
    """The query with a rare word respelled to a much commoner neighbour ("did you mean")."""
    showing: str | None = None
    """The query as searched, when a word no article holds was corrected."""
    instead: str | None = None
    """The query with its corrected words kept as written ("search instead for")."""


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
        corrections = find_corrections(searcher, index_dir, parsed.root)
        table = synonyms.index_table(index_dir)
        root = with_alternatives(parsed.root, alternatives(parsed.root, corrections, table))
        if isinstance(root, Most):
            whoosh_query, ranked = rank_most(searcher, root)
        else:
            whoosh_query = to_whoosh(root)
            ranked = rank(searcher, whoosh_query) if whoosh_query is not None else []
        if parsed.article_id is not None:
            exact = searcher.document_number(id=parsed.article_id)
            if exact is not None:
                ranked = [(ranked[0][0] if ranked else 0.0, exact)] + [
                    pair for pair in ranked if pair[1] != exact
                ]
        terms = _highlight_terms(searcher, whoosh_query)
        hits = [_hit(searcher, docnum, score, terms) for score, docnum in ranked[:limit]]
        results = SearchResults(parsed, len(ranked), hits)
        expanded = [c for c in corrections if c.expanded]
        corrected = [c for c in corrections if not c.expanded]
        if expanded:
            results.suggestion = spelling.respelled(text, expanded)
        if corrected:
            results.showing = spelling.respelled(text, corrected)
            results.instead = spelling.respelled(text, corrected, quote=True)
        return results


def alternatives(
    root: Node, corrections: list[spelling.Correction], table: synonyms.Table
) -> dict[str, tuple[tuple[str, float], ...]]:
    """What each word may also match: its typo correction, then what it stands for."""
    found: dict[str, tuple[tuple[str, float], ...]] = {
        c.word: ((c.replacement, spelling.EXPANSION_WEIGHT if c.expanded else 1.0),)
        for c in corrections
    }
    for word in plain_words(root):
        long = synonyms.expansion(word, table)
        if long is not None:
            found[word] = (*found.get(word, ()), (long, 1.0))
    return found


def find_corrections(searcher: Searcher, index_dir: Path, root: Node) -> list[spelling.Correction]:
    """The typo corrections of a query's words (``spelling.py``)."""
    found: list[spelling.Correction] = []
    vocabulary: spelling.Vocabulary | None = None
    for word in plain_words(root):
        if spelling.max_edits(word) == 0 or not spelling.WORD.fullmatch(word):
            continue
        units = analysis.query_units(word)
        if len(units) != 1 or not isinstance(units[0], str):
            continue
        term = units[0].encode("utf-8")
        frequency = max(
            ranking.live_doc_frequency(searcher, field, term)
            if (field, term) in searcher.reader()
            else 0
            for field in SCORED_FIELDS
        )
        if not spelling.wants_checking(word, frequency):
            continue
        vocabulary = vocabulary or spelling.Vocabulary(index_dir)
        correction = spelling.decide(word, frequency, vocabulary.near(word))
        if correction is not None:
            found.append(correction)
    return found


def rank(
    searcher: Searcher, whoosh_query: wq.Query, scored: Iterable[tuple[float, int]] | None = None
) -> list[tuple[float, int]]:
    """Every match as (score, docnum), best first; equal scores in archive order (``order_key``).

    ``scored``: the (score, docnum) pairs to order instead of ``whoosh_query``'s matches."""
    if scored is None:
        scored = searcher.search(whoosh_query, limit=None).top_n
    order = searcher.reader().column_reader("order")  # order_key as UTF-8 bytes
    keyed = [(-ranking.rounded(score), order[docnum], score, docnum) for score, docnum in scored]
    keyed.sort()
    return [(score, docnum) for _, _, score, docnum in keyed]


def rank_most(searcher: Searcher, node: Most) -> tuple[wq.Query | None, list[tuple[float, int]]]:
    """Words side by side, coordinated: the query that scores and every match ranked.

    The words that must match somewhere (``soft``) are the slots counted; filler words
    only add to a score; the rest (phrases, fields, groups) must match as written. A
    word no article has is no slot: it neither counts nor blocks."""
    soft, optional, required, excluded = _most_parts(node)
    slots: list[tuple[wq.Query, set[int]]] = []
    for child in soft:
        query = to_whoosh(child)
        docs = set(searcher.docs_for_query(query)) if query is not None else set()
        if docs:
            slots.append((query, docs))
    if not slots and not required:
        optional, slots = (
            [],
            [
                (q, docs)
                for q in map(to_whoosh, optional)
                if q is not None
                if (docs := set(searcher.docs_for_query(q)))
            ],
        )
    scoring = _any_of([query for query, _ in slots] + [to_whoosh(c) for c in optional])
    must = _all_of(to_whoosh(c) for c in required)
    if must is None and scoring is None:
        return None, []
    positive = scoring if must is None else must if scoring is None else wq.AndMaybe(must, scoring)
    unwanted = [q for c in excluded if (q := to_whoosh(c)) is not None]
    whoosh_query = _excluding(positive, unwanted)
    matches = searcher.search(whoosh_query, limit=None).top_n
    if slots:
        least = ranking.minimum_should_match(len(slots))
        counted = (
            (score, docnum, sum(docnum in docs for _, docs in slots)) for score, docnum in matches
        )
        matches = [
            (ranking.coordinated(score, matched, len(slots)), docnum)
            for score, docnum, matched in counted
            if matched >= least
        ]
    return whoosh_query, rank(searcher, whoosh_query, matches)


def _most_parts(node: Most) -> tuple[list[Node], list[Node], list[Node], list[Node]]:
    """A ``Most``'s children as the words counted, filler words, what must match as
    written, and what is excluded."""
    soft: list[Node] = []
    optional: list[Node] = []
    required: list[Node] = []
    excluded: list[Node] = []
    for child in node.children:
        if isinstance(child, Not):
            excluded.append(child.child)
        elif _is_word(child):
            (optional if forms.is_filler(child.text) else soft).append(child)
        else:
            required.append(child)
    return soft, optional, required, excluded


def _is_word(node: Node) -> TypeGuard[Text]:
    """A word (or code) looked for in the scored fields: a slot of ``rank_most``."""
    return (
        isinstance(node, Text)
        and node.kind in ("words", "code")
        and (node.field is None or node.field in SCORED_FIELDS)
    )


def _excluding(positive: wq.Query, unwanted: list[wq.Query]) -> wq.Query:
    if not unwanted:
        return positive
    # not wq.AndNot: whoosh-reloaded 2.7.5's AndNotMatcher misses an exclusion
    # when the excluded list starts before the wanted one
    return wq.And([positive, Unscored(wq.Not(wq.Or(unwanted)))])


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
    if isinstance(node, And | Most):
        wanted = [q for c in node.children if not isinstance(c, Not) if (q := to_whoosh(c))]
        unwanted = [
            q for c in node.children if isinstance(c, Not) if (q := to_whoosh(c.child)) is not None
        ]
        if not wanted:
            return None
        return _excluding(wanted[0] if len(wanted) == 1 else wq.And(wanted), unwanted)
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
        units = (
            analysis.code_units(node.text)
            if node.kind == "code"
            else analysis.query_units(node.text)
        )
        query = _all_of(_unit_query(unit, fields) for unit in units)
        for text, weight in node.alternatives:
            weighted = {name: boost * weight for name, boost in fields.items()}
            alternative = _all_of(_unit_query(u, weighted) for u in analysis.query_units(text))
            query = _any_of([query, alternative])
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
    """Where the index of a built site lives: the site's marker file says, else the
    default (also when a build moved the index the marker names to the default place and
    stopped before it wrote the site's new marker)."""
    marked, own = marked_index_dir(site), default_index_dir(site)
    return own if marked is None or (not marked.exists() and own.exists()) else marked
