"""Writing the site's pages: the articles (rendered and analyzed by forked workers, in
archive order), the pages of the other kinds, and the static files.

Workers write the article pages themselves and send back only the search data, which
is fed to the indexes as it comes: nothing piles up. Once their articles are done they
write the other pages, while the main process writes the browser's index.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from kbsite.config import Config
from kbsite.errors import KbsiteError, OutputError
from kbsite.model import Article, ArticleRecord
from kbsite.output.spool import Place
from kbsite.output.write import SiteWriter
from kbsite.parallel import Finish, forks, parallel_map
from kbsite.read import load
from kbsite.render.renderer import SEARCH_BUNDLE, SEARCH_SCRIPTS, PageRenderer, templates_dir
from kbsite.report import BuildReport, Progress, progress_of
from kbsite.search import analysis
from kbsite.search.work import AnalyzedArticle, SearchWork, ShareResult
from kbsite.site.kinds import Page
from kbsite.site.pages import article_href
from kbsite.site.table import LinkTable
from kbsite.worker import context, inherited


@dataclasses.dataclass(slots=True, frozen=True)
class ArticleTask:
    """One article for a worker: what to do with it, and where to find it."""

    id: str
    source: Path
    render: bool
    """Write its page (its key changed)."""
    analyze: bool
    """Analyze its text for the indexes (``SearchWork.wanted``)."""
    place: Place | None = None
    """Where the spool keeps the article as the build read it (else it is read again)."""


@dataclasses.dataclass(slots=True)
class ArticleResult:
    """What a worker sends back for one article: never the article itself."""

    error: KbsiteError | None = None
    analyzed: AnalyzedArticle | None = None


@dataclasses.dataclass(slots=True)
class OtherPages:
    """The pages of the other ``PAGE_KINDS`` a build writes, each taken once by whichever
    process is free (``take``): the workers, once their articles are done. The count
    taken is in shared memory, so workers forked with this object share it."""

    pages: list[Page]
    taken: Any = dataclasses.field(
        default_factory=lambda: multiprocessing.get_context("fork").Value("q", 0)
    )

    def take(self) -> Iterator[Page]:
        while True:
            with self.taken.get_lock():
                number = self.taken.value
                self.taken.value = number + 1
            if number >= len(self.pages):
                return
            yield self.pages[number]


FINISH_NICENESS = 10
"""The workers write their segments and the other pages at a lower priority: the main
process writes the browser's index meanwhile, and on a machine with as many workers as
cores it sets the pace of the build's end."""
CHUNK = 16
"""Articles a worker takes at a time."""
FIRST_PAGES_AT_MOST = 2048
"""``write_pages`` writes at most this many pages before the articles only analyzed,
as their analyses wait in memory until their turn in archive order."""


def write_pages(
    ordered: list[ArticleRecord],
    render: set[str],
    others: list[Page],
    search: SearchWork,
    writer: SiteWriter,
    jobs: int,
    report: BuildReport,
    progress: Progress | None = None,
    shown: Callable[[], None] | None = None,
) -> None:
    """Parse, render and analyze the articles that need it, in archive order, and write
    the ``others`` pages; the workers render with the renderer of the context they
    inherit (``worker.py``).

    The workers write the other pages and their search segments once their articles
    are done, and this returns without waiting for them: ``search.finish`` does (a
    build writes the browser's index meanwhile). ``shown`` is called once the pages are
    written: a live preview puts them in place then. When the article pages are few,
    they and the other pages are written first, before the articles that are only
    analyzed (all of them when the browser's index is written whole)."""
    tasks = _article_tasks(ordered, render, search)
    for task in tasks:
        if task.render:
            writer.staged.add(article_href(task.id))
    for page in others:
        writer.claim(page.path)
    by_id = {r.id: r for r in ordered}
    done = set()
    first = [task for task in tasks if task.render]
    two_passes = shown is not None and len(first) <= FIRST_PAGES_AT_MOST and len(first) < len(tasks)
    if not two_passes:
        first = []
    finishes: list[Finish[ShareResult]] = []
    share = search.share(jobs)
    site = context().site
    links = LinkTable(site) if site is not None and forks(len(tasks), jobs, CHUNK) else None
    workers = dataclasses.replace(
        context(),
        writer=writer,
        renderer=None,
        search=share,
        links=links,
        others=OtherPages(others),
    )
    with inherited(workers), progress_of(progress, "Writing", len(tasks)) as advance:
        early = dict(zip([t.id for t in first], _processed(first, jobs, finishes), strict=True))
        for finish in finishes:
            finish.results()  # before the next pool is forked, with no pool running
        for result in early.values():
            if isinstance(result.error, OutputError):
                raise result.error
        if two_passes and shown is not None:
            shown()
        later = [task for task in tasks if task.id not in early]
        with contextlib.closing(_processed(later, jobs, finishes)) as rest:
            for task in tasks:
                result = early.pop(task.id) if task.id in early else next(rest)
                advance(1)
                done.add(task.id)
                if isinstance(result.error, OutputError):
                    raise result.error
                if result.error is not None:
                    report.problems.append(result.error.as_problem())
                if task.analyze:
                    search.add(by_id[task.id], result.analyzed)
            if next(rest, None) is not None:  # the end of the map runs the workers' Finish
                raise KbsiteError("internal error: more results than articles")
    if shown is not None and not two_passes:
        for finish in finishes:
            finish.results()  # the other pages written
        shown()
    search.take(finishes)
    if search.builder is not None:
        for record in ordered:
            if record.id not in done:
                raise KbsiteError(f"internal error: {record.id} was not analyzed")


def _processed(
    tasks: list[ArticleTask], jobs: int, finishes: list[Finish[ShareResult]]
) -> Generator[ArticleResult, None, None]:
    """The tasks' results in order; each process that took some hands back its search
    segment at the end (``finishes``)."""
    finish = Finish(_finish_share, nice=FINISH_NICENESS)
    finishes.append(finish)
    return parallel_map(_process_article, tasks, jobs, CHUNK, window=2048, finish=finish)


def _article_tasks(
    ordered: list[ArticleRecord], render: set[str], search: SearchWork
) -> list[ArticleTask]:
    spool = context().spool
    places = spool.places if spool is not None else {}
    tasks = []
    for record in ordered:
        analyze = search.wanted(record.id)
        if record.id in render or analyze:
            place = places.get(str(record.source))
            tasks.append(ArticleTask(record.id, record.source, record.id in render, analyze, place))
    return tasks


def _process_article(task: ArticleTask) -> ArticleResult:
    result = ArticleResult()
    worker = context()
    article: Article | None
    if task.place is not None and worker.spool is not None:
        article = worker.spool.get(task.place)
    else:
        article = load.load_article(task.source).article
    if article is None or article.id != task.id:
        result.error = KbsiteError(f"{task.source} changed during the build", task.source)
        return result
    if task.render:
        result.error = _write_article_page(article, worker.page_renderer(), worker.writer)
    if task.analyze and worker.search is not None:
        result.analyzed = worker.search.analyze(article)
    return result


def _finish_share() -> ShareResult:
    """Each process's last step: write its search segment (``SearchShare.finish``), in
    the memory its renderer's fragments and the analysis caches held, then take other
    pages to write until none is left."""
    worker = context()
    if worker.search is None:
        raise RuntimeError("no search share: the worker context was not set")
    worker.renderer = None
    analysis.forget_tokens()
    result = worker.search.finish()
    if worker.others is not None and worker.writer is not None:
        for page in worker.others.take():
            worker.writer.write_unchecked(page.path, worker.page_renderer().other_page(page))
    return result


def _write_article_page(
    article: Article, renderer: PageRenderer, writer: SiteWriter | None
) -> KbsiteError | None:
    """Render and write one article's page; what went wrong, if anything."""
    try:
        html = renderer.article_page(article)
    except Exception as exc:  # an isolation boundary: one bad article must not stop the build
        return KbsiteError(f"internal error while rendering: {exc!r}", article.source)
    if writer is None:
        raise RuntimeError("no writer: the worker context was not set")
    try:
        writer.write_unchecked(article_href(article.id), html)
    except KbsiteError as exc:
        return exc
    return None


def static_folders(settings: Config) -> list[Path]:
    """The packaged static files' folder, then the theme's (``settings.templates``),
    whose files replace the packaged ones of the same name."""
    folders = [templates_dir() / "static"]
    if settings.templates is not None and (settings.templates / "static").is_dir():
        folders.append(settings.templates / "static")
    return folders


def static_files(settings: Config) -> dict[str, Path]:
    """The site's static files by their path in it, each the theme's if it has one."""
    files: dict[str, Path] = {}
    for folder in static_folders(settings):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                files["static/" + path.relative_to(folder).as_posix()] = path
    return files


def copy_static(writer: SiteWriter, settings: Config) -> list[str]:
    """Copy the ``static_files`` into the site, but for the ``SEARCH_SCRIPTS``, which go
    in as one ``search_bundle``; the paths written."""
    files = static_files(settings)
    copied = [path for path in files if path not in SEARCH_SCRIPTS]
    for path in copied:
        writer.copy_file(files[path], path)
    writer.write_unchecked(SEARCH_BUNDLE, search_bundle(files))
    return [*copied, SEARCH_BUNDLE]


COMPILE_HINT = "//# allFunctionsCalledOnLoad\n"
"""The bundle's first line: asks V8 (Chromium 136 on) to compile every function while
the file streams in, off the page's thread, rather than each on its first call, which
on the search page came to a sixth of the time to the first results. Other browsers
read a comment."""


def search_bundle(files: dict[str, Path]) -> str:
    """The ``SEARCH_SCRIPTS`` of ``static_files`` in load order, each under a comment
    naming it, after the ``COMPILE_HINT``. Each is a classic script wrapped in its own
    function, so one after another they run as they would from their own tags."""
    return COMPILE_HINT + "".join(
        f"/* {path} */\n{files[path].read_text(encoding='utf-8').rstrip()}\n"
        for path in SEARCH_SCRIPTS
    )
