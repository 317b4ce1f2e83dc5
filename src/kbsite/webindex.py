"""The browser's search index: the whoosh index's terms as sharded script files.

Browsers refuse ``fetch()`` on pages opened from disk, but load ``<script src>``
files, so each part of the index is a script that hands its data to
``kbsiteSearch.receive(kind, number, data)``. A query loads the meta file once,
then only the shards holding its terms, then the document shards of the hits shown.

Layout under ``search/``::

    meta.js        counts, field boosts, shard boundaries, facet names and runs
    t/N.js         terms in sorted ranges: term -> {field: [df, postings]}
    d/N.js         documents in archive order: [id, title, date, excerpt]
    sort.js        every document's date and number, for sorting and ranges

Articles are numbered in archive order (``index.order_key``), so a category,
product, type and year is a run of consecutive numbers: the facets cost a few
hundred runs, not a value per document. Postings are base-64 variable-length
numbers: the gap to the previous document, then the ranking level (``ranking.py``).
Term statistics (document frequency, document count, average field lengths) are
whoosh's, so both engines score with the same numbers; document frequencies are
counted here unless the index holds deleted documents, which whoosh still counts.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length, length_to_byte

from kbsite import analysis, ranking
from kbsite.index import index_document, order_key
from kbsite.model import Article
from kbsite.query import SCORED_FIELDS
from kbsite.spelling import article_words
from kbsite.write import SiteWriter

FORMAT = 1
FIELD_CODES = {"title": "t", "headings": "h", "keywords": "k", "body": "b"}
TERM_SHARD_CHARS = 48_000
"""A term shard is closed once it holds this many characters (one big term may exceed it)..."""
MAX_TERM_SHARDS = 2000
"""... or more, when that keeps the count of term shards under this (static hosts cap files)."""
MAX_DOC_SHARDS = 2500
"""Document shards hold DOCS_PER_SHARD documents, or more to keep their count under this.

Ten results touch up to ten shards: small shards keep a query's download small."""
DOCS_PER_SHARD = 16
DIGITS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def encode_number(value: int, out: bytearray) -> None:
    """Five bits a character, low bits first; values >= 32 in a character mean "more"."""
    while value >= 32:
        out.append(DIGITS[32 + (value & 31)])
        value >>= 5
    out.append(DIGITS[value])


@dataclasses.dataclass(slots=True)
class WebIndexReport:
    documents: int = 0
    terms: int = 0
    term_shards: int = 0
    doc_shards: int = 0
    characters: int = 0
    words: Counter[str] = dataclasses.field(default_factory=Counter)
    """Every word's article count, for "did you mean" (``spelling.py``)."""


def write_web_index(
    articles: list[Article],
    searcher: Searcher,
    writer: SiteWriter,
    advance: Callable[[int], None] | None = None,
) -> WebIndexReport:
    """Write ``search/`` into the site from the articles and the whoosh index's statistics."""
    report = WebIndexReport()
    ordered = sorted(articles, key=order_key)
    report.documents = len(ordered)
    doc_count = searcher.doc_count_all()
    averages = {name: searcher.avg_field_length(name) or 1.0 for name in FIELD_CODES}
    postings: dict[str, dict[str, bytearray]] = {code: {} for code in FIELD_CODES.values()}
    counts: dict[str, Counter[str]] = {code: Counter() for code in FIELD_CODES.values()}
    last_doc: dict[str, dict[str, int]] = {code: {} for code in FIELD_CODES.values()}
    levels_by_length: dict[tuple[str, int], dict[int, int]] = {}
    rows: list[list[str]] = []
    for number, article in enumerate(ordered):
        document = index_document(article)
        date = article.date.isoformat() if article.date else ""
        rows.append([article.id, article.title, date, document["excerpt"]])
        report.words.update(
            article_words(" ".join((document["title"], document["headings"], document["body"])))
        )
        for name, code in FIELD_CODES.items():
            terms = analysis.terms(document[name])
            if not terms:
                continue
            length = byte_to_length(length_to_byte(len(terms)))
            levels = levels_by_length.setdefault((code, length), {})
            field_postings, field_last = postings[code], last_doc[code]
            frequencies = Counter(terms)
            counts[code].update(frequencies.keys())
            for term, frequency in frequencies.items():
                level = levels.get(frequency)
                if level is None:
                    level = levels[frequency] = ranking.tf_level(frequency, length, averages[name])
                encoded = field_postings.get(term)
                if encoded is None:
                    encoded = field_postings[term] = bytearray()
                gap = number - field_last.get(term, -1) - 1
                if gap < 32:
                    encoded.append(DIGITS[gap])
                else:
                    encode_number(gap, encoded)
                encoded.append(DIGITS[level])
                field_last[term] = number
        if advance is not None:
            advance(1)
    reader = searcher.reader()
    exact_counts = not reader.has_deletions()
    all_terms = sorted(set().union(*(postings[code] for code in postings)))
    report.terms = len(all_terms)
    total = sum(len(encoded) for field in postings.values() for encoded in field.values())
    shard_chars = max(TERM_SHARD_CHARS, total // MAX_TERM_SHARDS)
    boundaries: list[str] = []
    shard: dict[str, dict[str, list[Any]]] = {}
    size = 0
    for term in all_terms:
        entry: dict[str, list[Any]] = {}
        for name, code in FIELD_CODES.items():
            encoded = postings[code].pop(term, None)
            if encoded is not None:
                frequency = counts[code][term] if exact_counts else reader.doc_frequency(name, term)
                entry[code] = [frequency, encoded.decode("ascii")]
                size += len(entry[code][1]) + 12
        if not shard:
            boundaries.append(term)
        shard[term] = entry
        size += len(term) + 8
        if size >= shard_chars:
            report.characters += _write_script(
                writer, f"search/t/{len(boundaries) - 1}.js", "terms", len(boundaries) - 1, shard
            )
            shard, size = {}, 0
    if shard:
        report.characters += _write_script(
            writer, f"search/t/{len(boundaries) - 1}.js", "terms", len(boundaries) - 1, shard
        )
    report.term_shards = len(boundaries)
    per_shard = max(DOCS_PER_SHARD, -(-len(ordered) // MAX_DOC_SHARDS))
    for first in range(0, len(ordered), per_shard):
        report.characters += _write_script(
            writer,
            f"search/d/{first // per_shard}.js",
            "docs",
            first // per_shard,
            rows[first : first + per_shard],
        )
        report.doc_shards += 1
    report.characters += _write_script(writer, "search/sort.js", "sort", 0, _sort_keys(ordered))
    meta = {
        "format": FORMAT,
        "documents": len(ordered),
        "docCount": doc_count,
        "levels": ranking.LEVELS,
        "boosts": {FIELD_CODES[name]: boost for name, boost in SCORED_FIELDS.items()},
        "averages": {FIELD_CODES[name]: averages[name] for name in FIELD_CODES},
        "termShards": boundaries,
        "docsPerShard": per_shard,
        **_facets(ordered),
    }
    report.characters += _write_script(writer, "search/meta.js", "meta", 0, meta)
    return report


def _sort_keys(ordered: list[Article]) -> dict[str, str]:
    """Dates as day numbers and article numbers, each a stream of encoded numbers."""
    dates, numbers = bytearray(), bytearray()
    for article in ordered:
        encode_number(article.date.toordinal() if article.date else 0, dates)
        encode_number(int(article.id[1:]), numbers)
    return {"dates": dates.decode("ascii"), "numbers": numbers.decode("ascii")}


def _facets(ordered: list[Article]) -> dict[str, Any]:
    """Facet names and the runs of documents sharing category, product, type and year."""
    names: dict[str, dict[str, int]] = {"categories": {}, "products": {}, "types": {}}
    runs: list[list[int]] = []
    previous: tuple[int, int, int, int] | None = None
    for number, article in enumerate(ordered):
        key = (
            names["categories"].setdefault(article.category, len(names["categories"])),
            names["products"].setdefault(article.product, len(names["products"])),
            names["types"].setdefault(article.title_prefix or "", len(names["types"])),
            article.date.year if article.date else 0,
        )
        if key != previous:
            runs.append([number, *key])
            previous = key
    return {kind: list(values) for kind, values in names.items()} | {"runs": runs}


def _write_script(writer: SiteWriter, path: str, kind: str, number: int, data: Any) -> int:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    text = f'kbsiteSearch.receive("{kind}",{number},{payload});\n'
    writer.write_text(path, text)
    return len(text)
