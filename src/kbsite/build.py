"""The build: the stages chained, in the one order they run.

    find_sources -> read_source -> parse_article   (per file, in parallel)
    link_site                                      (whole archive)
    PageRenderer -> SiteWriter                     (per page, in parallel)
    update_index -> write_web_index                (search: whoosh, then the browser's copy)

Everything is read and linked before anything is written. A file that fails is
reported with its path and skipped; the build goes on and fails at the end.
"""

from __future__ import annotations

import collections
import dataclasses
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from kbsite.config import Config
from kbsite.errors import KbsiteError, Level, OutputError, Problem
from kbsite.feeds import FeedEntry, atom_feed, opensearch_description, robots_txt, sitemaps
from kbsite.index import IndexReport, default_index_dir, excerpt, open_index, update_index
from kbsite.link import Site, link_site
from kbsite.model import Article, TextPage
from kbsite.pages import (
    Link,
    article_href,
    facet_index_pages,
    home_page,
    listing_pages,
    missing_page,
    not_found_page,
    search_page,
    stats_page,
    written_pages,
)
from kbsite.parse import parse_article, parse_text_page
from kbsite.render import PageRenderer, templates_dir
from kbsite.source import PAGE_SUFFIX, find_sources, read_source
from kbsite.spelling import write_words
from kbsite.syntax import id_number
from kbsite.webindex import WebIndexReport, write_web_index
from kbsite.write import SiteWriter

T = TypeVar("T")
R = TypeVar("R")

Advance = Callable[[int], None]
Progress = Callable[[str, int], AbstractContextManager[Advance]]
"""Makes a progress display for a stage: given a label and a total, yields an advance function."""


@dataclasses.dataclass(slots=True)
class BuildOptions:
    sources: list[Path]
    output: Path
    jobs: int = 1
    index: Path | None = None
    """The whoosh index folder; None for ``default_index_dir(output)``."""
    settings: Config = dataclasses.field(default_factory=Config)
    """The site's title, description, address and the like (kbsite.toml and flags)."""


@dataclasses.dataclass(slots=True)
class BuildReport:
    """What a build did, for the summary line and the exit status."""

    articles: int = 0
    pages: int = 0
    problems: list[Problem] = dataclasses.field(default_factory=list)
    unresolved: int = 0
    """Distinct referenced ids that are not in the archive."""
    unresolved_mentions: int = 0
    seconds: float = 0.0
    index: IndexReport | None = None
    web_index: WebIndexReport | None = None

    @property
    def errors(self) -> int:
        return sum(p.level is Level.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.level is Level.WARNING for p in self.problems)


@dataclasses.dataclass(slots=True)
class LoadResult:
    """The outcome of reading and parsing one file."""

    article: Article | None
    problems: list[Problem]


def build_site(options: BuildOptions, progress: Progress | None = None) -> BuildReport:
    """Build the whole site; raises KbsiteError only when no site can be written at all."""
    started = time.perf_counter()
    report = BuildReport()
    articles, site = check_sources(options.sources, options.jobs, report, progress)
    writer = SiteWriter(options.output)
    try:
        report.pages = write_pages(site, articles, writer, options, report, progress)
        index_dir = options.index or default_index_dir(options.output)
        report.index, report.web_index = write_search(
            articles, index_dir, writer, options, progress
        )
        report.pages = len(writer.written)
        writer.publish({"index": os.path.relpath(index_dir.absolute(), writer.output)})
    except OSError as exc:
        writer.discard()
        where = Path(exc.filename) if exc.filename else options.output
        raise OutputError(f"cannot write: {exc.strerror or exc}", where) from exc
    except BaseException:
        writer.discard()
        raise
    report.seconds = time.perf_counter() - started
    return report


def load_text_pages(sources: list[Path], problems: list[Problem]) -> list[TextPage]:
    """The Markdown pages (``*.md``) among the sources; one that cannot be read is reported."""
    pages = []
    for path in find_sources(sources, [], PAGE_SUFFIX):  # folder problems: see check_sources
        try:
            pages.append(parse_text_page(read_source(path)))
        except KbsiteError as exc:
            problems.append(exc.as_problem())
    return pages


def check_sources(
    sources: list[Path], jobs: int, report: BuildReport, progress: Progress | None = None
) -> tuple[list[Article], Site]:
    """Read, parse and link the archive, collecting every problem in ``report``.

    This is all of ``kbsite check`` and the first half of a build.
    """
    files = find_sources(sources, report.problems)
    if not files:
        where = ", ".join(str(s) for s in sources)
        report.problems.append(Problem(None, None, Level.WARNING, f"no *.txt files in {where}"))
    articles = load_articles(files, jobs, report, progress)
    site = link_site(articles)
    report.articles = len(articles)
    report.unresolved = len(site.unresolved)
    report.unresolved_mentions = sum(len(v) for v in site.unresolved.values())
    return articles, site


def load_articles(
    files: list[Path], jobs: int, report: BuildReport, progress: Progress | None = None
) -> list[Article]:
    """Read and parse every file; duplicates keep the newer article, with a warning."""
    by_id: dict[str, Article] = {}
    with _progress(progress, "Reading", len(files)) as advance:
        for result in parallel_map(load_article, files, jobs, chunksize=64):
            advance(1)
            report.problems.extend(result.problems)
            article = result.article
            if article is None:
                continue
            kept = by_id.get(article.id)
            if kept is not None:
                newer, older = sorted((kept, article), key=_recency, reverse=True)
                report.problems.append(
                    Problem(
                        older.source,
                        None,
                        Level.WARNING,
                        f"duplicate article id {article.id}: also in {newer.source}; "
                        f"keeping {newer.source} (newer)",
                    )
                )
                article = newer
            by_id[article.id] = article
    return sorted(by_id.values(), key=lambda a: id_number(a.id))


def _recency(article: Article) -> tuple[int, str]:
    return (article.date.toordinal() if article.date else 0, str(article.source))


def load_article(path: Path) -> LoadResult:
    """Read and parse one file, turning every failure into a reported problem."""
    try:
        article, problems = parse_article(read_source(path))
    except KbsiteError as exc:
        return LoadResult(None, [exc.as_problem()])
    except Exception as exc:  # an isolation boundary: one bad file must not stop the build
        return LoadResult(
            None, [Problem(path, None, Level.ERROR, f"internal error while parsing: {exc!r}")]
        )
    return LoadResult(article, problems)


def write_search(
    articles: list[Article],
    index_dir: Path,
    writer: SiteWriter,
    options: BuildOptions,
    progress: Progress | None = None,
) -> tuple[IndexReport, WebIndexReport]:
    """Update the whoosh index, then write the browser's index and the spelling list."""
    with _progress(progress, "Indexing", len(articles)) as advance:
        index_report = update_index(articles, index_dir, options.jobs, advance)
    with (
        _progress(progress, "Search pages", len(articles)) as advance,
        open_index(index_dir).searcher() as searcher,
    ):
        web_report = write_web_index(articles, searcher, writer, advance)
    write_words(index_dir, web_report.words)
    return index_report, web_report


# -- writing ------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}
"""State a forked render worker inherits from the parent: site, articles, writer."""


def write_pages(
    site: Site,
    articles: list[Article],
    writer: SiteWriter,
    options: BuildOptions,
    report: BuildReport,
    progress: Progress | None = None,
) -> int:
    """Render and write every page; returns how many pages were written.

    An article that fails to render is reported and left out; a page that cannot be
    written (disk full) stops the build.
    """
    for article in articles:
        writer.written.add(article_href(article.id))
    texts = written_pages(load_text_pages(options.sources, report.problems))
    nav = [Link(page.path, page.title) for page in texts]
    _WORKER.update(
        site=site,
        articles={a.id: a for a in articles},
        writer=writer,
        settings=options.settings,
        nav=nav,
        renderer=None,
    )
    try:
        with _progress(progress, "Writing", len(articles)) as advance:
            for error in parallel_map(
                _write_article, [a.id for a in articles], options.jobs, chunksize=32
            ):
                advance(1)
                if isinstance(error, OutputError):
                    raise error
                if error is not None:
                    report.problems.append(error.as_problem())
    finally:
        _WORKER.clear()
    renderer = PageRenderer(site, options.settings, nav_pages=nav)
    for text in texts:
        writer.write_text(text.path, renderer.written_page(text))
    for listing in listing_pages(site, options.settings.per_page):
        writer.write_text(listing.path, renderer.listing_page(listing))
    for index in facet_index_pages(site):
        writer.write_text(index.path, renderer.facet_index_page(index))
    home = home_page(site, options.settings.title)
    writer.write_text(home.path, renderer.home_page(home))
    missing = missing_page(site)
    writer.write_text(missing.path, renderer.missing_page(missing))
    search = search_page(site)
    writer.write_text(search.path, renderer.search_page(search))
    stats = stats_page(site)
    writer.write_text(stats.path, renderer.stats_page(stats))
    not_found = not_found_page(options.settings.base_url)
    writer.write_text(not_found.path, renderer.not_found_page(not_found))
    writer.copy_tree(templates_dir() / "static", "static")
    theme = options.settings.templates
    if theme is not None and (theme / "static").is_dir():
        writer.copy_tree(theme / "static", "static")
    write_feeds(site, articles, writer, options.settings)
    return len(writer.written)


def write_feeds(site: Site, articles: list[Article], writer: SiteWriter, settings: Config) -> None:
    """The feed, robots.txt and, when the site's address is known, the sitemap and the
    OpenSearch description; written last, as the sitemap lists every page."""
    by_id = {a.id: a for a in articles}
    entries = [
        FeedEntry(s.id, s.title, article_href(s.id), s.date, excerpt(by_id[s.id]), s.category)
        for s in site.newest(settings.feed_size)
        if s.date is not None
    ]
    base = settings.base_url
    description = settings.description
    writer.write_text(
        "feed.xml", atom_feed(settings.title, description, base, entries, settings.language)
    )
    writer.write_text("robots.txt", robots_txt(base))
    if not base:
        return
    writer.write_text("opensearch.xml", opensearch_description(settings.title, description, base))
    dates = {article_href(a.id): a.date for a in articles}
    pages = sorted(p for p in writer.written if p.endswith(".html") and p != "404.html")
    for name, xml in sitemaps(base, [(p, dates.get(p)) for p in pages]):
        writer.write_text(name, xml)


def _write_article(article_id: str) -> KbsiteError | None:
    renderer = _WORKER.get("renderer")
    if renderer is None:
        renderer = _WORKER["renderer"] = PageRenderer(
            _WORKER["site"], _WORKER["settings"], nav_pages=_WORKER["nav"]
        )
    article = _WORKER["articles"][article_id]
    try:
        html = renderer.article_page(article)
    except Exception as exc:  # an isolation boundary: one bad article must not stop the build
        return KbsiteError(f"internal error while rendering: {exc!r}", article.source)
    try:
        _WORKER["writer"].write_unchecked(article_href(article_id), html)
    except KbsiteError as exc:
        return exc
    return None


def parallel_map(
    func: Callable[[T], R], items: list[T], jobs: int, chunksize: int, window: int | None = None
) -> Iterator[R]:
    """``map`` in order, over forked worker processes when jobs > 1.

    With a ``window``, at most two windows of results are held at once: ``Pool.imap``
    alone works as fast as the workers go however slowly its results are taken, so a
    slow consumer (the ZIM writer compressing) would let all the results pile up.
    """
    if jobs <= 1 or len(items) < 2 * chunksize:
        yield from map(func, items)
        return
    window = window or len(items)
    pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_signals)
    try:
        pending: collections.deque[Iterator[R]] = collections.deque()
        for start in range(0, len(items), window):
            pending.append(pool.imap(func, items[start : start + window], chunksize))
            if len(pending) > 1:
                yield from pending.popleft()
        while pending:
            yield from pending.popleft()
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the main process, which stops them, and die on SIGTERM.

    The pool is closed, not terminated, when its work is done: a SIGTERM that reaches a
    worker before Python set up its signal handling is lost, and terminate() would then
    wait for that worker forever.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _progress(progress: Progress | None, label: str, total: int) -> AbstractContextManager[Advance]:
    if progress is None:
        return nullcontext(lambda _n: None)
    return progress(label, total)


def default_jobs() -> int:
    """All the cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
