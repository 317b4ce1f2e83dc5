"""The search stage: a whoosh index of the archive, kept up to date incrementally.

The index lives beside the site (``OUTPUT/../.kbsite-index`` unless given), not in
the published tree. A small ledger file records each indexed article's fingerprint,
so a rebuild touches only articles that were added, changed or removed.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from whoosh import fields, index
from whoosh.analysis import Analyzer, Token

from kbsite import analysis
from kbsite.errors import KbsiteError
from kbsite.model import Article, Block, Heading, ListBlock, Paragraph, Preformatted
from kbsite.syntax import id_number
from kbsite.write import recover_leftovers, staging_folder, swap_in

INDEX_FORMAT = 2
"""Bump when fields or analysis change: an index of another format is rebuilt."""
LEDGER = "kbsite-index.json"
EXCERPT_LENGTH = 200
PARALLEL_THRESHOLD = 2000
"""With this many articles to (re)index, whoosh writes with one process per job."""


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
STORED_TEXT_FIELDS = ("title", "body", "product", "category", "type")


def index_schema() -> fields.Schema:
    text = KbAnalyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        order=fields.ID(sortable=True),
        title=fields.TEXT(analyzer=text, stored=True),
        headings=fields.TEXT(analyzer=text),
        keywords=fields.TEXT(analyzer=text, phrase=False),
        body=fields.TEXT(analyzer=text, stored=True),
        product=fields.TEXT(analyzer=text, stored=True),
        category=fields.TEXT(analyzer=text, stored=True, phrase=False),
        type=fields.TEXT(analyzer=text, stored=True, phrase=False),
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


def default_index_dir(output: Path) -> Path:
    return output.absolute().parent / ".kbsite-index"


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


def order_key(article: Article) -> str:
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


def whoosh_document(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with its text fields analyzed here, once, by the fast ``analysis.terms``.

    whoosh indexes a list as tokens already analyzed, and ``_stored_NAME`` keeps the
    text itself for display and highlighting.
    """
    prepared: dict[str, Any] = {}
    for name, value in document.items():
        if name in TEXT_FIELDS:
            prepared[name] = analysis.terms(value)
            if name in STORED_TEXT_FIELDS:
                prepared[f"_stored_{name}"] = value
        else:
            prepared[name] = value
    return prepared


def body_text(article: Article) -> str:
    """The article's readable text in reading order, paragraphs reflowed."""
    parts: list[str] = []
    if article.applies_to_intro:
        parts.append(article.applies_to_intro)
    stack = list(reversed(article.applies_to))
    while stack:
        item = stack.pop()
        parts.append(item.text)
        stack.extend(reversed(item.items))
    for section in article.sections:
        parts.extend(_block_texts(section.blocks))
    parts.extend(f"{field.name}: {field.value}" for field in article.footer)
    return "\n\n".join(part for part in parts if part)


def _block_texts(blocks: Iterable[Block]) -> Iterator[str]:
    for block in blocks:
        if isinstance(block, Paragraph):
            yield " ".join(block.lines) if block.reflow else "\n".join(block.lines)
        elif isinstance(block, Preformatted | Heading):
            yield block.text
        elif isinstance(block, ListBlock):
            for item in block.items:
                texts = list(_block_texts(item.blocks))
                if texts:
                    texts[0] = f"{item.marker} {texts[0]}"
                yield from texts


def excerpt(article: Article) -> str:
    """The opening of the article's first section, for result lists."""
    for section in article.sections:
        text = " ".join(" ".join(_block_texts(section.blocks)).split())
        if len(text) < 20:
            continue
        if len(text) <= EXCERPT_LENGTH:
            return text
        cut = text.rfind(" ", 0, EXCERPT_LENGTH)
        return text[: cut if cut > EXCERPT_LENGTH // 2 else EXCERPT_LENGTH] + " …"
    return ""


def fingerprint(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(canonical.encode(), digest_size=12).hexdigest()


def update_index(
    articles: list[Article],
    index_dir: Path,
    jobs: int = 1,
    advance: Callable[[int], None] | None = None,
) -> IndexReport:
    """Bring the index at ``index_dir`` in line with ``articles``: add, replace, delete.

    An update is one whoosh commit, which an interruption leaves undone; a new index is
    written beside the old one and swapped in at the end, so the previous site's search
    keeps working until the new one is complete.
    """
    started = time.perf_counter()
    report = IndexReport()
    ledger = _read_ledger(index_dir)
    marks = {article.id: fingerprint(index_document(article)) for article in articles}
    if ledger is not None and _mostly_stale(ledger, marks):
        ledger = None
    target = index_dir
    if ledger is None:
        _check_ours(index_dir)
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        recover_leftovers(index_dir)
        index_dir = staging_folder(index_dir)
        ix = index.create_in(str(index_dir), index_schema())
        ledger = {}
        report.rebuilt = True
    else:
        ix = index.open_dir(str(index_dir))
    try:
        _write_changes(ix, articles, ledger, marks, jobs, report, advance)
        _write_ledger(index_dir, marks)
        if report.rebuilt:
            swap_in(index_dir, target)
    except BaseException:
        if report.rebuilt:
            shutil.rmtree(index_dir, ignore_errors=True)
        raise
    report.seconds = time.perf_counter() - started
    return report


def _write_changes(
    ix: index.Index,
    articles: list[Article],
    ledger: dict[str, str],
    marks: dict[str, str],
    jobs: int,
    report: IndexReport,
    advance: Callable[[int], None] | None,
) -> None:
    stale = [a for a in articles if ledger.get(a.id) != marks[a.id]]
    removed = sorted(set(ledger) - set(marks))
    report.unchanged = len(articles) - len(stale)
    if advance is not None:
        advance(report.unchanged)
    if stale or removed or report.rebuilt:
        procs = jobs if len(stale) >= PARALLEL_THRESHOLD else 1
        # compound=False: whoosh copies a compound segment's parts into memory on
        # every open, which costs `kbsite search` a second at 57k articles
        writer = ix.writer(limitmb=256, procs=procs, multisegment=procs > 1, compound=False)
        try:
            for article in stale:
                document = whoosh_document(index_document(article))
                if article.id in ledger:
                    writer.update_document(**document)
                    report.changed += 1
                else:
                    writer.add_document(**document) if report.rebuilt else writer.update_document(
                        **document
                    )
                    report.added += 1
                if advance is not None:
                    advance(1)
            for gone in removed:
                writer.delete_by_term("id", gone)
                report.removed += 1
            writer.commit()
        except BaseException:
            writer.cancel()
            for task in getattr(writer, "tasks", []):
                task.terminate()
            raise


def _mostly_stale(ledger: dict[str, str], marks: dict[str, str]) -> bool:
    """Whether more than half the index would change: then a fresh index is faster to
    write, and to search (no deleted documents, fewer segments)."""
    changed = sum(ledger.get(key) != mark for key, mark in marks.items())
    removed = len(set(ledger) - set(marks))
    return 2 * (changed + removed) > max(len(ledger), len(marks))


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
