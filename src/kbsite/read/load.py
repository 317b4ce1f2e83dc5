"""Reading the archive's files into the model: each failure a reported problem.

A file that cannot be read or parsed is reported with its path and skipped; the rest
of the archive is still read. Two files with one id keep the newer article, with a
warning naming both.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TypeVar

from kbsite.errors import KbsiteError, Level, Problem
from kbsite.model import Article, ArticleRecord, TextPage
from kbsite.parallel import parallel_map
from kbsite.read.parse import parse_article, parse_text_page
from kbsite.read.source import decode_source, read_source
from kbsite.read.syntax import id_number
from kbsite.report import BuildReport, Progress, progress_of


@dataclasses.dataclass(slots=True)
class LoadResult:
    """The outcome of reading and parsing one file."""

    article: Article | None
    problems: list[Problem]


def load_articles(
    files: list[Path], jobs: int, report: BuildReport, progress: Progress | None = None
) -> list[Article]:
    """Read and parse every file; duplicates keep the newer article, with a warning."""
    by_id: dict[str, Article] = {}
    with progress_of(progress, "Reading", len(files)) as advance:
        for result in parallel_map(load_article, files, jobs, chunksize=64):
            advance(1)
            report.problems.extend(result.problems)
            if result.article is not None:
                keep_newer(by_id, result.article, report.problems)
    return sorted(by_id.values(), key=lambda a: id_number(a.id))


def load_article(path: Path, data: bytes | None = None) -> LoadResult:
    """Read (unless ``data`` is given) and parse one file, turning every failure into a
    reported problem."""
    try:
        source = read_source(path) if data is None else decode_source(path, data)
        article, problems = parse_article(source)
    except KbsiteError as exc:
        return LoadResult(None, [exc.as_problem()])
    except Exception as exc:  # an isolation boundary: one bad file must not stop the build
        return LoadResult(
            None, [Problem(path, None, Level.ERROR, f"internal error while parsing: {exc!r}")]
        )
    return LoadResult(article, problems)


A = TypeVar("A", Article, ArticleRecord)


def keep_newer(by_id: dict[str, A], item: A, problems: list[Problem]) -> None:
    """Add ``item`` to ``by_id`` unless an item of its id is newer; warn of the older."""
    kept = by_id.get(item.id)
    if kept is not None:
        newer, older = sorted((kept, item), key=_recency, reverse=True)
        problems.append(
            Problem(
                older.source,
                None,
                Level.WARNING,
                f"duplicate article id {item.id}: also in {newer.source}; "
                f"keeping {newer.source} (newer)",
            )
        )
        item = newer
    by_id[item.id] = item


def _recency(article: Article | ArticleRecord) -> tuple[int, str]:
    return (article.date.toordinal() if article.date else 0, str(article.source))


def warn_if_no_articles(files: list[Path], sources: list[Path], report: BuildReport) -> None:
    if not files:
        where = ", ".join(str(s) for s in sources)
        report.problems.append(Problem(None, None, Level.WARNING, f"no *.txt files in {where}"))


def load_text_pages(files: list[Path], problems: list[Problem]) -> list[TextPage]:
    """The Markdown pages (``SourceFiles.pages``); one that cannot be read is reported."""
    pages = []
    for path in files:
        try:
            pages.append(parse_text_page(read_source(path)))
        except KbsiteError as exc:
            problems.append(exc.as_problem())
    return pages
