"""The search stage: a whoosh index of the archive, kept up to date incrementally.

Each site has its own index, in its build cache folder beside it (``default_index_dir``
unless given), not in the published tree. A small ledger file records each indexed
article's fingerprint, so a rebuild touches only articles that were added, changed or
removed.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from whoosh import columns, fields, index, writing
from whoosh.analysis import Analyzer, Token

from kbsite.errors import KbsiteError
from kbsite.model import Article, ArticleRecord, body_text, excerpt
from kbsite.output.write import recover_leftovers, staging_folder, swap_in
from kbsite.read.syntax import id_number
from kbsite.search import analysis, spelling
from kbsite.search.segment import PreparedWriter

INDEX_FORMAT = 6
"""Bump when fields or analysis change: an index of another format is rebuilt."""
LEDGER = "kbsite-index.json"


class IndexError_(KbsiteError):
    """The index folder cannot be used."""


class KbAnalyzer(Analyzer):  # type: ignore[misc]
    """``analysis.analyze`` in the shape whoosh expects."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term in analysis.analyze(value):
            token.text = term.text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + term.pos
            if chars:
                token.startchar = start_char + term.start
                token.endchar = start_char + term.end
            yield token


TEXT_FIELDS = ("title", "headings", "keywords", "body", "product", "category", "type")
"""Fields indexed as analyzed text (handed to whoosh already analyzed, see ``whoosh_document``)."""
VOCABULARY = "words"
"""Not a field: the article's words for typo tolerance (``spelling.document_words``)."""
STORED_TEXT_FIELDS = ("title", "body", "product")
"""Text fields whose text ``kbsite search`` shows (the rest are only searched)."""
STORED_TEXT_LIMIT = 50_000
"""Characters of a stored field's text kept for ``kbsite search`` to make its snippets:
every hit it shows reads its article's stored text back, so an article of 50 MB stored
whole made each search that found it take seconds and hundreds of megabytes. Every
word is still indexed; past the limit, the excerpt stands in for the snippet."""


def index_schema() -> fields.Schema:
    text = KbAnalyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        # a column only, never searched: ties between equal scores (search.rank)
        order=fields.COLUMN(columns.VarBytesColumn()),
        title=fields.TEXT(analyzer=text, stored=True),
        headings=fields.TEXT(analyzer=text),
        keywords=fields.TEXT(analyzer=text, phrase=False),
        body=fields.TEXT(analyzer=text, stored=True),
        product=fields.TEXT(analyzer=text, stored=True),
        category=fields.TEXT(analyzer=text, phrase=False),
        type=fields.TEXT(analyzer=text, phrase=False),
        date=fields.DATETIME(stored=True),
        excerpt=fields.STORED(),
    )


@dataclasses.dataclass(slots=True)
class IndexReport:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    rebuilt: bool = False
    seconds: float = 0.0


def index_document(article: Article) -> dict[str, Any]:
    """The fields whoosh indexes for one article."""
    keywords = [*article.keywords]
    for field in article.footer:
        if field.name.lower() in ("keywords", "technology"):
            keywords.append(field.value)
    if article.query_words:
        keywords.append(article.query_words)
    document: dict[str, Any] = {
        "id": article.id,
        "order": order_key(article),
        "title": article.title,
        "headings": "\n".join(s.title for s in article.sections if s.title),
        "keywords": "\n".join(keywords),
        "body": body_text(article),
        "product": article.product,
        "category": article.category,
        "type": article.title_prefix or "",
        "excerpt": excerpt(article),
    }
    if article.date is not None:
        document["date"] = datetime.datetime.combine(article.date, datetime.time())
    return document


def order_key(article: Article | ArticleRecord) -> str:
    """Archive order: category, product, title type, date, number.

    The browser index numbers articles in this order (so its facets are runs) and
    breaks ties between equal scores by it; ``kbsite search`` breaks ties the same way.
    """
    date = article.date.isoformat() if article.date else "0000-00-00"
    return "\x1f".join(
        (
            article.category,
            article.product,
            article.title_prefix or "",
            date,
            f"{id_number(article.id):09d}",
        )
    )


def analyzed_fields(document: dict[str, Any]) -> dict[str, list[str]]:
    """The terms of each text field, the article's vocabulary words (``VOCABULARY``) and
    its id as a term (``q315817``, how the browser finds an article by number): one
    analysis feeds whoosh and the browser's index."""
    terms = {name: analysis.terms(document[name]) for name in TEXT_FIELDS}
    terms[VOCABULARY] = spelling.document_words(document)
    terms["id"] = [document["id"].lower()]
    return terms


def whoosh_document(
    document: dict[str, Any], terms: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """``document`` with its text fields as ``terms`` (default: analyzed here).

    whoosh indexes a list as tokens already analyzed, and ``_stored_NAME`` keeps the
    text itself for display and highlighting. ``order`` goes in a bytes column, as
    UTF-8, which sorts as the text does.
    """
    terms = terms if terms is not None else analyzed_fields(document)
    prepared: dict[str, Any] = {}
    for name, value in document.items():
        if name in TEXT_FIELDS:
            prepared[name] = terms[name]
            if name in STORED_TEXT_FIELDS:
                prepared[f"_stored_{name}"] = value[:STORED_TEXT_LIMIT]
        elif name == "order":
            prepared[name] = value.encode("utf-8")
        else:
            prepared[name] = value
    return prepared


def fingerprint(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(canonical.encode(), digest_size=12).hexdigest()


def update_index(
    articles: list[Article],
    index_dir: Path,
    advance: Callable[[int], None] | None = None,
) -> IndexReport:
    """Bring the index at ``index_dir`` in line with ``articles``: add, replace, delete."""
    update = IndexUpdate(index_dir, {a.id: fingerprint(index_document(a)) for a in articles})
    try:
        for article in articles:
            if article.id in update.stale:
                update.add(whoosh_document(index_document(article)))
            if advance is not None:
                advance(1)
        return update.finish()
    except BaseException:
        update.cancel()
        raise


class IndexUpdate:
    """One update of the index, fed one prepared document at a time.

    ``marks`` fingerprint every article the index should hold (anything that changes
    when the article's indexed content does); the ledger beside the index records the
    marks it holds, so only ``stale`` articles need be given to ``add``. An update is
    one whoosh commit, which an interruption leaves undone; a new index is written
    beside the old one and swapped in at the end, so the previous site's search keeps
    working until the new one is complete.

    ``generation``: ``index_dir`` is a new generation of the index, this update's alone
    (``publish.stage_index``, which puts it in place with the site): a new index is then
    written into it, and nothing is swapped.
    """

    def __init__(self, index_dir: Path, marks: dict[str, str], generation: bool = False) -> None:
        self.started = time.perf_counter()
        self.report = IndexReport()
        self.marks = marks
        self.target = index_dir
        self.index_dir = index_dir
        self.generation = generation
        ledger = _read_ledger(index_dir)
        stale = _stale(ledger or {}, marks)
        if ledger is not None and _mostly_stale(ledger, marks, stale):
            ledger = None
            stale = set(marks)
        if ledger is None:
            self.report.rebuilt = True
            if generation:
                _empty(index_dir)
            else:
                _check_ours(index_dir)
                index_dir.parent.mkdir(parents=True, exist_ok=True)
                recover_leftovers(index_dir)
                self.index_dir = staging_folder(index_dir)
        self._writer: Any = None
        self.segments: list[Any] = []
        """Segments written by the build's processes, for the commit to add."""
        self.replaced: list[str] = []
        """Articles in those segments whose old entries the commit deletes."""
        try:  # interrupted from here on, the staging folder must not stay behind
            self.ix = (
                index.create_in(str(self.index_dir), index_schema())
                if self.report.rebuilt
                else index.open_dir(str(index_dir))
            )
            self.ledger = ledger or {}
            self.stale = stale
            self.removed = sorted(self.ledger.keys() - marks.keys())
            self.report.unchanged = len(marks) - len(self.stale)
        except BaseException:
            self.cancel()
            raise

    @property
    def changes(self) -> bool:
        return bool(self.stale or self.removed or self.report.rebuilt)

    def writer(self) -> Any:
        if self._writer is None:
            # compound=False: whoosh copies a compound segment's parts into memory on
            # every open, which costs `kbsite search` a second at 57k articles
            self._writer = PreparedWriter(self.ix, compound=False)
        return self._writer

    def add(self, document: dict[str, Any]) -> None:
        """Index one stale article (a prepared ``whoosh_document``)."""
        if document["id"] in self.ledger:
            self.writer().update_document(**document)
            self.report.changed += 1
        elif self.report.rebuilt:
            self.writer().add_document(**document)
            self.report.added += 1
        else:
            self.writer().update_document(**document)
            self.report.added += 1

    def add_segments(self, segments: list[Any], ids: list[str]) -> None:
        """Segments the build's processes wrote (``SegmentBatch``), holding the stale
        articles ``ids``: the commit adds them, and deletes the articles' old entries."""
        self.segments.extend(segments)
        for article_id in ids:
            if article_id in self.ledger:
                self.replaced.append(article_id)
                self.report.changed += 1
            else:
                self.report.added += 1

    def _commit_now(self) -> None:
        writer = self.writer()
        for gone in (*self.removed, *self.replaced):
            writer.delete_by_term("id", gone)
        writer.commit(mergetype=self._with_segments)
        _write_ledger(self.index_dir, self.marks)

    def _with_segments(self, writer: Any, segments: list[Any]) -> list[Any]:
        """whoosh's merge policy over the index's segments and the added ones: small ones
        (an edit's) are merged into one, large ones (a whole build's) kept as they are."""
        return list(writing.MERGE_SMALL(writer, [*segments, *self.segments]))

    def finish(self) -> IndexReport:
        """Delete what is gone, commit, record the marks; swap a new index in."""
        if self.changes:
            self._commit_now()
        self._writer = None
        self.report.removed += len(self.removed)
        if self.report.rebuilt and not self.generation:
            swap_in(self.index_dir, self.target)
        self.report.seconds = time.perf_counter() - self.started
        return self.report

    def cancel(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
        if self.report.rebuilt and not self.generation:
            shutil.rmtree(self.index_dir, ignore_errors=True)


def _empty(generation: Path) -> None:
    """Unlink the files of a generation of the index (links to the live index's files,
    which stay as they are), for a new index to be written there."""
    for entry in os.scandir(generation):
        if entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)


def _stale(ledger: dict[str, str], marks: dict[str, str]) -> set[str]:
    """The articles whose mark the ledger does not hold (compared as item sets, in C: a
    Python loop over 57,000 articles was a tenth of an edit's rebuild)."""
    return {key for key, _ in marks.items() - ledger.items()}


def _mostly_stale(ledger: dict[str, str], marks: dict[str, str], stale: set[str]) -> bool:
    """Whether more than half the index would change: then a fresh index is faster to
    write, and to search (no deleted documents, fewer segments)."""
    removed = len(ledger.keys() - marks.keys())
    return 2 * (len(stale) + removed) > max(len(ledger), len(marks))


def _read_ledger(index_dir: Path) -> dict[str, str] | None:
    """The fingerprints of what the index holds, or None when it must be built anew."""
    try:
        data = json.loads((index_dir / LEDGER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        return None
    if not index.exists_in(str(index_dir)):
        return None
    articles = data.get("articles")
    return dict(articles) if isinstance(articles, dict) else None


def _write_ledger(index_dir: Path, articles: dict[str, str]) -> None:
    temporary = index_dir / (LEDGER + ".tmp")
    temporary.write_text(
        json.dumps({"format": INDEX_FORMAT, "articles": articles}, sort_keys=True),
        encoding="utf-8",
    )
    temporary.replace(index_dir / LEDGER)


def _check_ours(index_dir: Path) -> None:
    """Refuse to replace anything but an empty folder or an index kbsite made."""
    if not index_dir.exists():
        return
    if not index_dir.is_dir():
        raise IndexError_("the index path exists and is not a folder", index_dir)
    ours = (index_dir / LEDGER).exists() or index.exists_in(str(index_dir))
    if not ours and any(index_dir.iterdir()):
        raise IndexError_(
            "the index folder is not empty and holds no kbsite index; "
            "give another --index or empty it",
            index_dir,
        )


def open_index(index_dir: Path) -> index.Index:
    if not index.exists_in(str(index_dir)):
        raise IndexError_(
            "no search index here; build the site first (kbsite build) or give --index",
            index_dir,
        )
    return index.open_dir(str(index_dir))
