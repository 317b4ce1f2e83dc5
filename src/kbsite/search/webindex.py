"""The browser's search index: the whoosh index's terms as sharded script files.

Browsers refuse ``fetch()`` on pages opened from disk, but load ``<script src>``
files, so each part of the index is a script that hands its data to
``kbsiteSearch.receive(kind, number, data)``. A query loads the meta file once,
then only the shards holding its terms, then the document shards of the hits shown.

Layout under ``search/``::

    meta.js        counts, field boosts, shard boundaries, the synonyms table
                   (``synonyms.py``): what every query needs first
    facets.js      facet names and runs: for filters, loaded after the first results
    t/N.js         terms in sorted ranges: term -> {field: [df, postings]}; field ``i``
                   holds an article under its own id (``q315817``); a common term has
                   a shard of its own
    d/N.js         documents in archive order: [id, title, date, excerpt, product]
    sort.js        every document's date and number, for sorting and ranges
    v/KEY.js       the vocabulary for typo tolerance: word -> articles holding it, a
                   file per first letter and length (``spelling.shard_key``)

Articles are numbered in archive order (``index.order_key``), so a category,
product, type and year is a run of consecutive numbers: the facets cost a few
hundred runs, not a value per document. Postings are base-64 variable-length
numbers, grouped by ranking level (``ranking.py``, ``postings.py``).
Both engines score with the same numbers: document frequencies and the document
count are exact, and the length pivot is ``ranking.TYPICAL_LENGTH``, so an article's
postings depend on that article alone. That is what lets an edit be patched into the
few term shards its old and new terms live in (``patch_web_index``) instead of the
whole index being written again.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

from whoosh.util.numeric import byte_to_length, length_to_byte

from kbsite.model import ArticleRecord
from kbsite.output.write import SiteWriter
from kbsite.search import ranking, spelling, synonyms
from kbsite.search.postings import DIGITS, encode_number, impact_ordered, patch_postings
from kbsite.search.query import SCORED_FIELDS

FORMAT = 3
FIELD_CODES = {"title": "t", "headings": "h", "keywords": "k", "body": "b", "id": "i"}
"""The scored fields, and the article's own id (not scored: found by number)."""
WORDS_CODE = "w"
"""An article's vocabulary words in ``ArticlePostings`` (no levels): counted, not posted."""
TERM_SHARD_CHARS = 16_000
"""A term shard is closed once it holds this many characters (one big term may exceed it)..."""
OWN_SHARD_SHARE = 4
"""... and a term of more than this share of a shard has a shard of its own: a query for
a rare term never loads a common neighbour's postings."""
MAX_TERM_SHARDS = 6000
"""... or more, when that keeps the count of term shards under this (static hosts cap files)."""
MAX_DOC_SHARDS = 8000
"""Document shards hold DOCS_PER_SHARD documents, or more to keep their count under this.

Ten results touch up to ten shards: small shards keep a query's download small."""
DOCS_PER_SHARD = 8
ArticlePostings = dict[str, tuple[str, bytes]]
"""One article's part of the index: field code to its terms, each once, joined by
newlines (no term holds one), and their levels, a byte each. Compact because it
crosses from a worker to the main process and waits in the cache: as a list of
(term, level) pairs it took the main process longer to unpickle than to index."""


def article_postings(terms: dict[str, list[str]]) -> ArticlePostings:
    """An article's postings from its analyzed fields (``index.analyzed_fields``)."""
    postings: ArticlePostings = {}
    for name, code in FIELD_CODES.items():
        field_terms = terms.get(name)
        if not field_terms:
            continue
        length = byte_to_length(length_to_byte(len(field_terms)))
        pivot = ranking.TYPICAL_LENGTH.get(name, 1.0)
        frequencies = Counter(field_terms)
        levels = bytes([_level(frequency, length, pivot) for frequency in frequencies.values()])
        postings[code] = ("\n".join(frequencies), levels)
    if terms.get("words"):
        postings[WORDS_CODE] = ("\n".join(terms["words"]), b"")
    return postings


def article_words(postings: ArticlePostings) -> list[str]:
    words = postings.get(WORDS_CODE, ("", b""))[0]
    return words.split("\n") if words else []


def posting_levels(postings: ArticlePostings, code: str) -> dict[str, int]:
    """One field's terms and their levels."""
    if code not in postings:
        return {}
    terms, levels = postings[code]
    return dict(zip(terms.split("\n"), levels, strict=True))


_LEVELS: dict[tuple[int, float, float], int] = {}


def _level(frequency: int, length: float, pivot: float) -> int:
    key = (frequency, length, pivot)
    level = _LEVELS.get(key)
    if level is None:
        level = _LEVELS[key] = ranking.tf_level(frequency, length, pivot)
    return level


def document_row(record: ArticleRecord) -> list[str]:
    """What a result shows: id, title, date, excerpt, product."""
    date = record.date.isoformat() if record.date else ""
    return [record.id, record.title, date, record.excerpt, record.product]


@dataclasses.dataclass(slots=True)
class WebIndexReport:
    documents: int = 0
    terms: int = 0
    term_shards: int = 0
    doc_shards: int = 0
    characters: int = 0
    patched: bool = False
    """Written by ``patch_web_index``: only the shards an edit touched."""
    files: int = 0
    """Files written."""


class WebIndexBuilder:
    """Collects the postings of every article in archive order, then writes ``search/``.

    Postings arrive one article at a time (from the build's workers) and are encoded
    at once, so the builder holds the encoded index, never the articles.
    """

    def __init__(self, table: synonyms.Table | None = None) -> None:
        """``table``: the site's short forms (``synonyms.site_table``), for ``meta.js``."""
        self.synonyms = synonyms.packaged_table() if table is None else table
        self.postings: dict[str, dict[str, bytearray]] = {c: {} for c in FIELD_CODES.values()}
        self.last_doc: dict[str, dict[str, int]] = {c: {} for c in FIELD_CODES.values()}
        self.vocabulary: Counter[str] = Counter()
        self.documents = 0

    def add(self, article: ArticlePostings) -> None:
        """The next article's postings: articles must come in archive order."""
        number = self.documents
        self.documents += 1
        for code, (terms, levels) in article.items():
            if code == WORDS_CODE:
                self.vocabulary.update(terms.split("\n"))
                continue
            field_postings, field_last = self.postings[code], self.last_doc[code]
            for term, level in zip(terms.split("\n"), levels, strict=True):
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

    def write(self, ordered: list[ArticleRecord], writer: SiteWriter) -> WebIndexReport:
        """Write every file of ``search/``; ``ordered`` are the records in archive order."""
        report = WebIndexReport(documents=len(ordered))
        postings = self.postings
        all_terms = sorted(set().union(*(postings[code] for code in postings)))
        report.terms = len(all_terms)
        total = sum(len(encoded) for field in postings.values() for encoded in field.values())
        shard_chars = max(TERM_SHARD_CHARS, total // MAX_TERM_SHARDS)
        boundaries: list[str] = []
        shard: dict[str, dict[str, list[Any]]] = {}
        size = 0
        for term in all_terms:
            entry: dict[str, list[Any]] = {}
            entry_size = len(term) + 8
            for code in FIELD_CODES.values():
                encoded = postings[code].pop(term, None)
                if encoded is not None:
                    entry[code] = list(impact_ordered(encoded))
                    entry_size += len(entry[code][1]) + 12
            if shard and entry_size >= shard_chars // OWN_SHARD_SHARE:
                report.characters += _write_terms(writer, len(boundaries) - 1, shard)
                shard, size = {}, 0
            if not shard:
                boundaries.append(term)
            shard[term] = entry
            size += entry_size
            if size >= shard_chars or entry_size >= shard_chars // OWN_SHARD_SHARE:
                report.characters += _write_terms(writer, len(boundaries) - 1, shard)
                shard, size = {}, 0
        if shard:
            report.characters += _write_terms(writer, len(boundaries) - 1, shard)
        report.term_shards = len(boundaries)
        per_shard = max(DOCS_PER_SHARD, -(-len(ordered) // MAX_DOC_SHARDS))
        for first in range(0, len(ordered), per_shard):
            rows = [document_row(r) for r in ordered[first : first + per_shard]]
            report.characters += _write_docs(writer, first // per_shard, rows)
            report.doc_shards += 1
        report.characters += _write_script(writer, "search/sort.js", "sort", 0, _sort_keys(ordered))
        report.characters += _write_meta(writer, ordered, boundaries, per_shard, self.synonyms)
        shards: dict[str, dict[str, int]] = {key: {} for key in spelling.all_shard_keys()}
        for word, count in sorted(self.vocabulary.items()):
            shards[spelling.shard_key(word)][word] = count
        for key, words in shards.items():
            report.characters += _write_script(writer, f"search/v/{key}.js", "vocab", key, words)
        report.files = report.term_shards + report.doc_shards + 3 + len(shards)
        return report


def _write_meta(
    writer: SiteWriter,
    ordered: list[ArticleRecord],
    boundaries: list[str],
    per_shard: int,
    table: synonyms.Table,
) -> int:
    meta = {
        "format": FORMAT,
        "documents": len(ordered),
        "docCount": len(ordered),
        "levels": ranking.LEVELS,
        "boosts": {FIELD_CODES[name]: boost for name, boost in SCORED_FIELDS.items()},
        "termShards": boundaries,
        "docsPerShard": per_shard,
        "synonyms": [list(entry) for entry in table],
    }
    characters = _write_script(writer, "search/meta.js", "meta", 0, meta)
    return characters + _write_script(writer, "search/facets.js", "facets", 0, _facets(ordered))


def _write_terms(writer: SiteWriter, number: int, shard: dict[str, dict[str, list[Any]]]) -> int:
    return _write_script(writer, f"search/t/{number}.js", "terms", number, shard)


def _write_docs(writer: SiteWriter, number: int, rows: list[list[str]]) -> int:
    return _write_script(writer, f"search/d/{number}.js", "docs", number, rows)


# -- patching -----------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class ArticleEdit:
    """One article whose text changed but whose place in archive order did not."""

    number: int
    record: ArticleRecord
    old: ArticlePostings
    new: ArticlePostings


def patch_web_index(
    site: Path, ordered: list[ArticleRecord], edits: list[ArticleEdit], writer: SiteWriter
) -> WebIndexReport | None:
    """Rewrite only the shards the edits touch: those of the terms an edited article gained,
    lost or ranks differently for, and their document shards. The archive's order and
    membership must be as when ``search/`` was written; None when ``search/`` cannot be
    read as expected, and the caller writes it whole.
    """
    try:
        meta = _read_script(site / "search" / "meta.js")
        boundaries: list[str] = meta["termShards"]
        per_shard: int = meta["docsPerShard"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if meta.get("format") != FORMAT or meta.get("documents") != len(ordered) or not boundaries:
        return None
    if not all(
        (site / "search" / "v" / f"{key}.js").is_file() for key in spelling.all_shard_keys()
    ):
        return None
    report = WebIndexReport(documents=len(ordered), patched=True)
    touched: dict[int, dict[str, dict[str, tuple[int, int | None]]]] = {}
    for edit in edits:
        for code in FIELD_CODES.values():
            old_levels = posting_levels(edit.old, code)
            levels = posting_levels(edit.new, code)
            for term in old_levels.keys() | levels.keys():
                if old_levels.get(term) == levels.get(term):
                    continue
                shard = max(0, bisect.bisect_right(boundaries, term) - 1)
                changes = touched.setdefault(shard, {}).setdefault(term, {})
                changes[code] = (edit.number, levels.get(term))
    for number, shard_changes in sorted(touched.items()):
        path = site / "search" / "t" / f"{number}.js"
        try:
            shard = _read_script(path)
        except (OSError, ValueError):
            return None
        for term, by_code in shard_changes.items():
            entry = shard.get(term, {})
            for code, (doc, level) in by_code.items():
                count, encoded = patch_postings(entry[code][1] if code in entry else "", doc, level)
                if count:
                    entry[code] = [count, encoded]
                else:
                    entry.pop(code, None)
            if entry:
                shard[term] = {c: entry[c] for c in FIELD_CODES.values() if c in entry}
            else:
                shard.pop(term, None)
        report.characters += _write_terms(writer, number, dict(sorted(shard.items())))
        report.term_shards += 1
    vocabulary_shards = _patch_vocabulary(site, edits, writer, report)
    for doc_shard in sorted({edit.number // per_shard for edit in edits}):
        first = doc_shard * per_shard
        rows = [document_row(r) for r in ordered[first : first + per_shard]]
        report.characters += _write_docs(writer, doc_shard, rows)
        report.doc_shards += 1
    report.files = report.term_shards + report.doc_shards + vocabulary_shards
    return report


def _patch_vocabulary(
    site: Path, edits: list[ArticleEdit], writer: SiteWriter, report: WebIndexReport
) -> int:
    """Rewrite the vocabulary shards whose counts the edits change; how many."""
    change: Counter[str] = Counter()
    for edit in edits:
        change.subtract(article_words(edit.old))
        change.update(article_words(edit.new))
    by_key: dict[str, dict[str, int]] = {}
    for word, delta in sorted(change.items()):
        if delta:
            by_key.setdefault(spelling.shard_key(word), {})[word] = delta
    for key, deltas in by_key.items():
        path = f"search/v/{key}.js"
        shard: dict[str, int] = _read_script(site / path)
        for word, delta in deltas.items():
            shard[word] = shard.get(word, 0) + delta
        kept = {word: count for word, count in sorted(shard.items()) if count > 0}
        report.characters += _write_script(writer, path, "vocab", key, kept)
    return len(by_key)


def _read_script(path: Path) -> Any:
    return _read_script_text(path.read_text(encoding="utf-8"))


def _read_script_text(text: str) -> Any:
    """The data of an index file (``_write_script``)."""
    start = text.index(",", text.index(",") + 1) + 1
    return json.loads(text[start : text.rindex(");")])


def _sort_keys(ordered: list[ArticleRecord]) -> dict[str, str]:
    """Dates as day numbers and article numbers, each a stream of encoded numbers."""
    dates, numbers = bytearray(), bytearray()
    for article in ordered:
        encode_number(article.date.toordinal() if article.date else 0, dates)
        encode_number(int(article.id[1:]), numbers)
    return {"dates": dates.decode("ascii"), "numbers": numbers.decode("ascii")}


def _facets(ordered: list[ArticleRecord]) -> dict[str, Any]:
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


def _write_script(writer: SiteWriter, path: str, kind: str, number: int | str, data: Any) -> int:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    text = f"kbsiteSearch.receive({json.dumps(kind)},{json.dumps(number)},{payload});\n"
    writer.write_text(path, text)
    return len(text)
