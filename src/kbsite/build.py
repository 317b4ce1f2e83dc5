"""The build: the stages chained, in the one order they run.

    find_inputs         the article files, the Markdown pages, the renderer's key
    plan_reading        is the last build's cache usable, is the site up to date, which
                        files are read (incremental/plan.py)
    read_sources        per file read, in parallel: decode (1), parse (2), record; the
                        article put in the spool (incremental/sources.py)
    plan_linking        did any link change
    linked_site         the site graph and related lists (3: site/link.py, site/related.py)
    plan_pages          in place or staged, every page's key, which pages are written
    write_pages         per article whose page or index entry changes, in parallel, in
                        archive order: render (4) and write (6), analyze for the search
                        indexes (5), fed as the results come (output/pages.py, search/work.py);
                        then the workers write the other pages and their whoosh segments
                        while this process writes the browser's index
    the feeds and static files (6); then one publish puts the site, the new generation
                        of the whoosh index and the build cache in place together
                        (output/publish.py)

The whole build holds the site's lock (output/lock.py) and first finishes or clears
what a killed build left (``publish.recover``). Everything is written aside until the
publish, so a build that fails or is killed before it leaves the previous site, index
and cache as they were.

The numbers are the stages' as their modules name them: 1 read/source.py, 2
read/parse.py and read/blocks.py, 3 site/link.py, 4 render/renderer.py, 5 search/,
6 output/write.py (or, instead of a site, output/zim.py and output/export.py).

The whole archive is held only as records (``ArticleRecord``: header, references,
features); an article's body lives in one worker while it is parsed, then in the spool
on disk, then in one worker while it is rendered and analyzed, so memory grows with the
archive only through the records. A file that fails is reported with its path and
skipped; the build goes on and fails at the end. Every decision about what to rebuild is
the plan's; this module carries it out.

A build given a ``BuildSession`` (``kbsite serve --watch``) takes the last build's state
from it rather than from the disk, and publishes the article pages it wrote before the
rest (incremental/session.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kbsite.config import Config
from kbsite.errors import KbsiteError, OutputError
from kbsite.incremental.cache import BuildCache, cache_files
from kbsite.incremental.keys import STATIC_KEY, renderer_fingerprint, text_digest
from kbsite.incremental.plan import (
    BuildInputs,
    BuildPlan,
    index_note,
    plan_linking,
    plan_pages,
    plan_reading,
)
from kbsite.incremental.sources import read_sources, unique_records
from kbsite.model import Article, ArticleRecord
from kbsite.output.feeds import write_feeds
from kbsite.output.journal import PublishStopped
from kbsite.output.lock import site_lock
from kbsite.output.pages import copy_static, write_pages
from kbsite.output.publish import Publish, recover
from kbsite.output.spool import ArticleSpool
from kbsite.output.write import SiteWriter
from kbsite.places import cache_folder
from kbsite.read.load import load_articles, load_text_pages, warn_if_no_articles
from kbsite.read.source import find_source_files, find_sources
from kbsite.report import BuildReport, Progress
from kbsite.search.index import IndexReport
from kbsite.search.integrity import index_files
from kbsite.search.location import claim_index_dir, default_index_dir
from kbsite.search.synonyms import site_table
from kbsite.search.work import SearchWork, archive_order
from kbsite.site.link import Site, link_site, site_graph
from kbsite.site.pages import Link, markdown_pages
from kbsite.site.related import PreviousLinks, linked_site, related_lists
from kbsite.worker import context, inherited

if TYPE_CHECKING:
    from kbsite.incremental.session import BuildSession

__all__ = ["BuildOptions", "build_site", "check_sources", "fewer_collections", "load_articles"]


@dataclasses.dataclass(slots=True)
class BuildOptions:
    sources: list[Path]
    output: Path
    jobs: int = 1
    index: Path | None = None
    """The whoosh index folder; None for the site's own (``search.location.claim_index_dir``)."""
    settings: Config = dataclasses.field(default_factory=Config)
    """The site's title, description, address and the like (kbsite.toml and flags)."""
    full: bool = False
    """Ignore the build cache: read every file, write every page and the search index anew."""


def build_site(
    options: BuildOptions, progress: Progress | None = None, session: BuildSession | None = None
) -> BuildReport:
    """Build the whole site; raises KbsiteError only when no site can be written at all."""
    with site_lock(options.output):
        recover(options.output, options.index or default_index_dir(options.output))
        with fewer_collections(), spooled(cache_folder(options.output)):
            return _build_site(options, progress, session)


def _build_site(
    options: BuildOptions, progress: Progress | None, session: BuildSession | None
) -> BuildReport:
    started, started_at = time.perf_counter(), time.time()
    report = BuildReport()
    if session is None:
        inputs = find_inputs(options, report)
        plan = plan_reading(inputs, options.full)
    else:
        inputs, plan = session.plan_reading(options, report)
    if plan.up_to_date:
        return _report_unchanged(plan, report, started)
    jobs = options.jobs
    states = read_sources(
        inputs.articles, plan.unchanged, plan.todo, plan.previous, jobs, report, progress
    )
    records, duplicates = unique_records(states)
    report.problems.extend(duplicates)
    plan_linking(plan, records)
    site = linked_site(records, plan.links, plan.same_links, jobs)
    _count(report, len(records), site)
    plan_pages(plan, site, records, states, inputs)
    report.notes.extend(plan.notes)
    with staged_build(options.output, inputs.index_dir, plan.fresh_index) as staged:
        staged.pages_written = session.pages_written if session is not None else None
        files = _write_site(plan, site, records, inputs, options, report, progress, staged)
        cache = BuildCache(
            renderer=inputs.renderer_key, started=started_at, sources=states,
            related=site.related, pages=files, search=staged.work().state(),
            index_files=index_files(staged.index), articles=len(records),
            unresolved=(report.unresolved, report.unresolved_mentions),
            duplicates=duplicates, page_count=report.pages, text_pages=inputs.text_pages_key,
            generated=plan.generated, graph=site_graph(site),
            record_chunks=plan.previous.record_chunks,
        )  # fmt: skip
        staged.publish.add_files(cache_folder(options.output), cache_files(cache))
        staged.publish.run()
    staged.work().forget_unused_postings()
    if session is not None:
        session.built(inputs, cache, records, site)
    report.seconds = time.perf_counter() - started
    return report


def find_inputs(options: BuildOptions, report: BuildReport) -> BuildInputs:
    """The article files and Markdown pages, and the key of what every page depends on."""
    found = find_source_files(options.sources, report.problems)
    report.sources = len(found.articles)
    warn_if_no_articles(found.articles, options.sources, report)
    texts = markdown_pages(load_text_pages(found.pages, report.problems))
    nav = [Link(page.path, page.title) for page in texts]
    return BuildInputs(
        output=options.output,
        articles=found.articles,
        texts=texts,
        settings=options.settings,
        nav=nav,
        renderer_key=renderer_fingerprint(options.settings, nav),
        text_pages_key=text_digest(repr(texts)),
        index_dir=options.index or claim_index_dir(options.output, report.notes),
    )


@dataclasses.dataclass(slots=True)
class StagedBuild:
    """What one build writes aside, to be published together (``output.publish``) or,
    if the build stops before, discarded."""

    publish: Publish
    index: Path
    """The new generation of the whoosh index (``publish.stage_index``)."""
    writer: SiteWriter | None = None
    search: SearchWork | None = None
    pages_written: Callable[[SiteWriter, BuildPlan], None] | None = None
    """Called once the article pages are written, before the search indexes: a live
    preview puts them in place at once (``BuildSession.pages_written``)."""

    def work(self) -> SearchWork:
        """The search stage's work, once ``_write_site`` began it."""
        if self.search is None:
            raise KbsiteError("internal error: the search stage has not begun")
        return self.search


@contextlib.contextmanager
def staged_build(output: Path, index_dir: Path, fresh: bool) -> Iterator[StagedBuild]:
    """A build's staging: everything staged is discarded if the block raises, and an
    OSError becomes an OutputError naming the path; a publish that stopped half-way
    keeps its staged files, for the next build to finish it with."""
    publish = Publish(output)
    staged = StagedBuild(publish, publish.stage_index(index_dir, fresh))
    try:
        yield staged
    except PublishStopped:
        raise
    except BaseException as exc:
        if staged.search is not None:
            staged.search.cancel()
        if staged.writer is not None:
            staged.writer.discard()
        publish.discard()
        if isinstance(exc, OSError):
            where = Path(exc.filename) if exc.filename else output
            raise OutputError(f"cannot write: {exc.strerror or exc}", where) from exc
        raise


def _write_site(
    plan: BuildPlan,
    site: Site,
    records: list[ArticleRecord],
    inputs: BuildInputs,
    options: BuildOptions,
    report: BuildReport,
    progress: Progress | None,
    staged: StagedBuild,
) -> dict[str, str]:
    """Write what the plan says into the staged site and search indexes, and add them to
    the publish; the files of the site with their keys."""
    writer = staged.writer = SiteWriter(options.output, in_place=plan.in_place)
    report.incremental = writer.in_place
    order, ordered = archive_order(records, plan.order)
    table = site_table(inputs.settings.synonyms)
    search = staged.search = SearchWork(
        staged.index, cache_folder(options.output), ordered, order, plan.digests, plan.search,
        table,
    )  # fmt: skip
    pages = dataclasses.replace(context(), site=site, settings=inputs.settings, nav=inputs.nav)
    live = staged.pages_written
    shown = functools.partial(live, writer, plan) if live is not None else None
    with inherited(pages):
        write_pages(
            ordered, plan.render, plan.others, search, writer, options.jobs, report, progress,
            shown,
        )  # fmt: skip
    report.web_index = search.write_web_index(writer)
    files = {**plan.keys, **search.files}
    files.update(write_feeds(site, records, writer, inputs.settings, files))
    if plan.in_place:
        files.update({p: k for p, k in plan.old_keys.items() if k == STATIC_KEY})
    else:
        files.update(dict.fromkeys(copy_static(writer, inputs.settings), STATIC_KEY))
    writer.stale = plan.old_keys.keys() - files.keys()
    report.removed = len(writer.stale)
    report.index = search.finish()
    staged.publish.add_site(writer, {"index": index_note(inputs.index_dir, writer.output)})
    staged.publish.add_index(staged.index, inputs.index_dir)
    report.pages = sum(key != STATIC_KEY for key in files.values())
    report.written = len(writer.staged)
    return files


def _count(report: BuildReport, articles: int, site: Site) -> None:
    report.articles = articles
    report.unresolved = len(site.unresolved)
    report.unresolved_mentions = sum(len(v) for v in site.unresolved.values())


def _report_unchanged(plan: BuildPlan, report: BuildReport, started: float) -> BuildReport:
    """The report of a build with nothing to do: the last build's, from its cache."""
    cache = plan.previous
    report.notes.extend(plan.notes)
    for state in cache.sources.values():
        report.problems.extend(state.problems)
    report.problems.extend(cache.duplicates)
    report.articles = cache.articles
    report.unresolved, report.unresolved_mentions = cache.unresolved
    report.pages = cache.page_count
    report.index = IndexReport(unchanged=cache.articles)
    report.incremental = True
    report.seconds = time.perf_counter() - started
    return report


@contextlib.contextmanager
def spooled(folder: Path) -> Iterator[None]:
    """Keep the articles the build's processes parse in a spool in ``folder``, to take
    them back when writing them (``spool.py``)."""
    spool = ArticleSpool(folder)
    try:
        with inherited(dataclasses.replace(context(), spool=spool)):
            yield
    finally:
        spool.close()


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often while a build or export holds the archive.

    A build makes millions of small long-lived objects (records, the cache, postings; an
    export, every article whole); at Python's default thresholds the collector keeps
    walking them, over and over, for nothing. Cycles are still collected, only in larger
    batches.
    """
    previous = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def check_sources(
    sources: list[Path], jobs: int, report: BuildReport, progress: Progress | None = None
) -> tuple[list[Article], Site]:
    """Read, parse and link the archive, collecting every problem in ``report``.

    This is all of ``kbsite check``, and what the exports start from: they need every
    article whole, where a build needs only records.
    """
    files = find_sources(sources, report.problems)
    warn_if_no_articles(files, sources, report)
    with fewer_collections():
        articles = load_articles(files, jobs, report, progress)
        site = link_site(articles, related=lambda rs: related_lists(rs, PreviousLinks(), jobs))
    _count(report, len(articles), site)
    return articles, site
