"""The build: the stages chained, in the one order they run.

    find_sources -> read_source -> parse_article -> article_record
                          (per file, in parallel; files the build cache knows are skipped)
    link_site             (the whole archive, from records: no bodies)
    page_keys             (a digest of what every page shows)
    parse_article -> render, analyze -> SiteWriter, whoosh, browser index
                          (per article whose page or index entry changes, in parallel,
                           in archive order; results streamed, never held together)
    other pages, feeds, build cache

The whole archive is held only as records (``ArticleRecord``: header, references,
features); an article's body lives in one worker while it is parsed, rendered and
analyzed, so memory grows with the archive only through the records. A file that fails
is reported with its path and skipped; the build goes on and fails at the end.

With a build cache from the last build of the same site (``cache.py``), unchanged files
are not read, and only the pages whose key changed are written, in place. Without one,
or when the templates or settings changed, everything is written into a staging folder
swapped in at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import marshal
import operator
import os
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from kbsite import __version__
from kbsite.config import Config
from kbsite.errors import KbsiteError, Level, OutputError, Problem
from kbsite.incremental.cache import (
    RACY_SECONDS,
    BuildCache,
    SourceState,
    cache_folder,
    file_digest,
    load_cache,
    load_cache_detail,
    remove_cache,
    save_cache,
)
from kbsite.model import Article, ArticleRecord, ArticleSummary, TextPage
from kbsite.output.feeds import FeedEntry, atom_feed, opensearch_description, robots_txt, sitemaps
from kbsite.output.spool import ArticleSpool, Place
from kbsite.output.write import MARKER, SiteWriter, read_site_marker
from kbsite.parallel import parallel_map
from kbsite.read.parse import parse_article, parse_text_page
from kbsite.read.source import decode_source, find_source_files, find_sources, read_source
from kbsite.read.syntax import id_number
from kbsite.render.renderer import PageRenderer, templates_dir
from kbsite.report import BuildReport, Progress, progress_of
from kbsite.search.index import (
    IndexReport,
    IndexUpdate,
    analyzed_fields,
    claim_index_dir,
    index_document,
    order_key,
    whoosh_document,
)
from kbsite.search.spelling import WORDS_FILE, article_words, write_words
from kbsite.search.webindex import (
    ArticleEdit,
    ArticlePostings,
    WebIndexBuilder,
    WebIndexReport,
    article_postings,
    patch_web_index,
)
from kbsite.site.link import (
    RelatedIndex,
    Site,
    article_facets,
    article_record,
    features_of,
    link_site,
    related_index,
    related_to,
    relink_site,
    site_graph,
)
from kbsite.site.pages import (
    FacetIndexPage,
    HomePage,
    Link,
    ListingPage,
    MissingPage,
    NotFoundPage,
    SearchPage,
    StatsPage,
    WrittenPage,
    article_href,
    facet_href,
    facet_index_pages,
    home_page,
    listing_pages,
    missing_page,
    not_found_page,
    search_page,
    stats_page,
    written_pages,
)

T = TypeVar("T")

POSTINGS_FILES = "postings-*.bin"
"""In the cache folder: each article's browser-index postings and words, so an edit
can take its old ones out of the shards it touched (``webindex.patch_web_index``). Each
build that analyzes articles writes a new file; the cache says which entry is where, and
files no entry points to are removed once the cache is saved."""


@dataclasses.dataclass(slots=True)
class BuildOptions:
    sources: list[Path]
    output: Path
    jobs: int = 1
    index: Path | None = None
    """The whoosh index folder; None for ``default_index_dir(output)``."""
    settings: Config = dataclasses.field(default_factory=Config)
    """The site's title, description, address and the like (kbsite.toml and flags)."""
    full: bool = False
    """Ignore the build cache: read every file and write every page."""


@dataclasses.dataclass(slots=True)
class LoadResult:
    """The outcome of reading and parsing one file."""

    article: Article | None
    problems: list[Problem]


# -- the whole build ----------------------------------------------------------------


def build_site(options: BuildOptions, progress: Progress | None = None) -> BuildReport:
    """Build the whole site; raises KbsiteError only when no site can be written at all."""
    with fewer_collections(), spooled(cache_folder(options.output)):
        return _build_site(options, progress)


_SPOOL: dict[str, ArticleSpool] = {}
"""The spool the build's processes put the articles they parse in, to take them back
when writing them (``spool.py``)."""


@contextlib.contextmanager
def spooled(folder: Path) -> Iterator[None]:
    spool = ArticleSpool(folder)
    _SPOOL["spool"] = spool
    try:
        yield
    finally:
        _SPOOL.clear()
        spool.close()


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often while a build or export holds the archive.

    A build makes millions of small long-lived objects (records, the cache, postings; an
    export, every article whole); at Python's default thresholds the collector keeps
    walking them, which took half of a rebuild with nothing to do, and grew faster than
    the archive in an export. Cycles are still collected, only in larger batches.
    """
    previous = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _build_site(options: BuildOptions, progress: Progress | None) -> BuildReport:
    started = time.perf_counter()
    started_at = time.time()
    report = BuildReport()
    cache = None if options.full else _usable_cache(options.output, report)
    found = find_source_files(options.sources, report.problems)
    report.sources = len(found.articles)
    warn_if_no_articles(found.articles, options.sources, report)
    texts = written_pages(load_text_pages(found.pages, report.problems))
    nav = [Link(page.path, page.title) for page in texts]
    renderer_key = renderer_fingerprint(options.settings, nav)
    text_pages_key = _digest(repr(texts))
    index_dir = options.index or claim_index_dir(options.output, report.notes)
    unchanged, todo = stat_sources(found.articles, cache)
    if cache is not None and _up_to_date(
        cache, unchanged, todo, (renderer_key, text_pages_key), options, index_dir
    ):
        _report_unchanged(cache, report)
        report.seconds = time.perf_counter() - started
        return report
    if cache is not None:
        why = load_cache_detail(options.output, cache, {str(path): path for path in found.articles})
        if why is not None:
            report.notes.append(why)
            cache = None
            unchanged, todo = stat_sources(found.articles, None)
    states = read_sources(found.articles, unchanged, todo, cache, options.jobs, report, progress)
    problems_before = len(report.problems)
    records = unique_records(states, report)
    duplicates = report.problems[problems_before:]
    old_records = _cached_records(cache)
    same_links = cache is not None and links_unchanged(records, old_records)
    site = _link(records, old_records, cache, same_links, options.jobs)
    report.articles = len(records)
    report.unresolved = len(site.unresolved)
    report.unresolved_mentions = sum(len(v) for v in site.unresolved.values())
    order_keys, ordered = archive_order(records, cache if same_links else None)
    in_place = (
        cache is not None and cache.renderer == renderer_key and (options.output / MARKER).exists()
    )
    old_keys = cache.pages if cache is not None and in_place else {}
    kept = None
    if cache is not None and in_place and same_links:
        kept = kept_page_keys(site, records, old_records, states, texts, cache, renderer_key)
    if cache is not None and kept is not None:
        others: list[Any] = list(texts)  # the other pages are as the cache keeps them
        keys, generated = kept, cache.generated
    else:
        others = other_pages(site, texts, options.settings)
        keys = page_keys(site, records, states, others, renderer_key)
        generated = [page.path for page in others if not isinstance(page, WrittenPage)]
    if cache is not None and not in_place:
        report.notes.append("the templates or settings changed: writing every page")
    writer = SiteWriter(options.output, in_place=in_place)
    report.incremental = writer.in_place
    search: SearchWork | None = None
    try:
        search = SearchWork(
            index_dir,
            cache_folder(options.output),
            ordered,
            order_keys,
            states,
            cache if writer.in_place else None,
        )
        renderer = PageRenderer(site, options.settings, nav_pages=nav)
        render = {r.id for r in records if old_keys.get(h := article_href(r.id)) != keys[h]}
        process_articles(site, ordered, render, search, writer, nav, options, report, progress)
        if options.jobs > 1:
            search.commit_in_background()
        report.web_index = search.write_web_index(writer)
        write_other_pages(others, renderer, keys, old_keys, writer)
        files = dict(keys)
        files.update(search.files)
        files.update(write_feeds(site, records, writer, options.settings, files))
        if not writer.in_place:
            files.update(copy_static(writer, options.settings))
        else:
            files.update({p: k for p, k in old_keys.items() if k == STATIC_KEY})
            writer.stale = old_keys.keys() - files.keys()
            report.removed = len(writer.stale)
        report.index = search.finish()
        remove_cache(options.output)  # from here until the new one is saved, site and cache differ
        writer.publish({"index": _index_note(index_dir, writer.output)})
    except OSError as exc:
        writer.discard()
        if search is not None:
            search.cancel()
        where = Path(exc.filename) if exc.filename else options.output
        raise OutputError(f"cannot write: {exc.strerror or exc}", where) from exc
    except BaseException:
        writer.discard()
        if search is not None:
            search.cancel()
        raise
    report.pages = sum(key != STATIC_KEY for key in files.values())
    report.written = len(writer.written)
    unresolved = (report.unresolved, report.unresolved_mentions)
    cache = BuildCache(
        renderer_key, started_at, states, site.related, files, search.state(), unresolved,
        _index_files(index_dir), len(records), duplicates, report.pages,
        text_pages=text_pages_key, generated=generated, graph=site_graph(site),
        record_chunks=cache.record_chunks if cache is not None else [],
    )  # fmt: skip
    save_cache(options.output, cache)
    search.forget_unused_postings()
    report.seconds = time.perf_counter() - started
    return report


def archive_order(
    records: list[ArticleRecord], cache: BuildCache | None = None
) -> tuple[list[str], list[ArticleRecord]]:
    """The records' ``order_key`` in archive order, and the records in that order.

    Given the cache of a build whose records had the same links (``links_unchanged``),
    its order is this one (the key is made of linked fields): sorting again would cost
    an edit's rebuild a tenth of a second.
    """
    if cache is not None:
        ids, keys = cache.search.get("ids"), cache.search.get("order")
        if ids and keys and len(ids) == len(keys) == len(records):
            by_id = {record.id: record for record in records}
            ordered = [by_id.get(i) for i in ids]
            if None not in ordered:
                return keys, ordered  # type: ignore[return-value]  # no None, as checked
    order = sorted(zip(map(order_key, records), range(len(records)), strict=True))
    return [key for key, _ in order], [records[at] for _, at in order]


def _up_to_date(
    cache: BuildCache,
    unchanged: dict[str, SourceState],
    todo: list[tuple[Path, str | None]],
    renderer: tuple[str, str],
    options: BuildOptions,
    index: Path,
) -> bool:
    """Whether the last build's site is this build's: every source file the one it read
    (as ``stat_sources`` tells), the same templates, settings (``renderer``: their key,
    and the Markdown pages'), and the site and whoosh index as it left them."""
    return (
        not todo
        and unchanged.keys() == cache.sources.keys()
        and (cache.renderer, cache.text_pages) == renderer
        and _index_files(index) == cache.index_files
        and (read_site_marker(options.output) or {}).get("index")
        == _index_note(index, options.output)
    )


def _report_unchanged(cache: BuildCache, report: BuildReport) -> None:
    """The report of a build with nothing to do: the last build's, from its cache."""
    for state in cache.sources.values():
        report.problems.extend(state.problems)
    report.problems.extend(cache.duplicates)
    report.articles = cache.articles
    report.unresolved, report.unresolved_mentions = cache.unresolved
    report.pages = cache.page_count
    report.index = IndexReport(unchanged=cache.articles)
    report.incremental = True


def _index_note(index: Path, output: Path) -> str:
    """Where the index is, as the site's marker says it for later commands."""
    return os.path.relpath(index.absolute(), output.resolve())


def _index_files(index: Path) -> list[str]:
    try:
        return sorted(os.listdir(index))
    except OSError:
        return []


def _usable_cache(output: Path, report: BuildReport) -> BuildCache | None:
    cache, why = load_cache(output)
    if why is not None:
        report.notes.append(why)
    return cache


# -- reading ------------------------------------------------------------------------


def stat_sources(
    files: list[Path], cache: BuildCache | None
) -> tuple[dict[str, SourceState], list[tuple[Path, str | None]]]:
    """The files whose size and time are the cached ones, with their cached state; and
    the others, to read, with their cached content digest if any."""
    known = cache.sources if cache is not None else {}
    trusted_before = (cache.started - RACY_SECONDS) * 1e9 if cache is not None else 0
    unchanged: dict[str, SourceState] = {}
    todo: list[tuple[Path, str | None]] = []
    for path in files:
        name = str(path)
        old = known.get(name)
        try:
            stat = os.stat(name)
        except OSError:
            old = None
        else:
            if (
                old is not None
                and old.size == stat.st_size
                and old.mtime_ns == stat.st_mtime_ns < trusted_before
            ):
                unchanged[name] = old
                continue
        todo.append((path, old.digest if old else None))
    return unchanged, todo


def read_sources(
    files: list[Path],
    unchanged: dict[str, SourceState],
    todo: list[tuple[Path, str | None]],
    cache: BuildCache | None,
    jobs: int,
    report: BuildReport,
    progress: Progress | None = None,
) -> dict[str, SourceState]:
    """Every article file's state (as ``stat_sources`` sorted them): the cached one, or
    read and parsed (in parallel). Problems go to ``report`` in file order."""
    known = cache.sources if cache is not None else {}
    states = dict(unchanged)
    with progress_of(progress, "Reading", len(files)) as advance:
        advance(len(files) - len(todo))
        read = contextlib.closing(parallel_map(_source_state, todo, jobs, chunksize=64))
        spool = _SPOOL.get("spool")
        with read as results:
            for (path, _), (state, size, mtime_ns, place) in zip(todo, results, strict=True):
                advance(1)
                if place is not None and spool is not None:
                    spool.places[str(path)] = place
                if state is None:
                    state = dataclasses.replace(known[str(path)], size=size, mtime_ns=mtime_ns)
                else:
                    report.parsed += 1
                states[str(path)] = state
    ordered = {str(path): states[str(path)] for path in files}
    for state in ordered.values():
        report.problems.extend(state.problems)
    return ordered


def _source_state(
    item: tuple[Path, str | None],
) -> tuple[SourceState | None, int, int, Place | None]:
    """Read and parse one file, with its size and time, and where the spool keeps the
    article; no state when its content is the cached one (``digest``)."""
    path, digest = item
    try:
        stat = path.stat()
        data: bytes | None = path.read_bytes()
    except OSError:
        return SourceState(-1, -1, "", None, load_article(path).problems), -1, -1, None
    assert data is not None
    new_digest = file_digest(data)
    if new_digest == digest:
        return None, stat.st_size, stat.st_mtime_ns, None
    result = load_article(path, data)
    record = article_record(result.article) if result.article is not None else None
    state = SourceState(stat.st_size, stat.st_mtime_ns, new_digest, record, result.problems)
    spool = _SPOOL.get("spool")
    place = spool.put(result.article) if spool is not None and result.article else None
    return state, stat.st_size, stat.st_mtime_ns, place


def unique_records(states: dict[str, SourceState], report: BuildReport) -> list[ArticleRecord]:
    """One record per id, in id order; duplicates keep the newer article, with a warning."""
    by_id: dict[str, ArticleRecord] = {}
    for state in states.values():
        if state.record is not None:
            _keep_newer(by_id, state.record, report)
    return sorted(by_id.values(), key=lambda r: id_number(r.id))


A = TypeVar("A", Article, ArticleRecord)


def _keep_newer(by_id: dict[str, A], item: A, report: BuildReport) -> None:
    kept = by_id.get(item.id)
    if kept is not None:
        newer, older = sorted((kept, item), key=_recency, reverse=True)
        report.problems.append(
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
        site = link_site(articles, related=lambda records: _related_lists(records, {}, None, jobs))
    report.articles = len(articles)
    report.unresolved = len(site.unresolved)
    report.unresolved_mentions = sum(len(v) for v in site.unresolved.values())
    return articles, site


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
                _keep_newer(by_id, result.article, report)
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


# -- related articles ---------------------------------------------------------------

_RELATED: dict[str, RelatedIndex] = {}
"""The index a forked worker scores related articles with."""


def _related_lists(
    records: list[ArticleRecord],
    old: dict[str, ArticleRecord],
    cache: BuildCache | None,
    jobs: int,
) -> dict[str, list[str]]:
    """Every article's related articles: from the cache, recomputed only for the articles
    whose lists an edit can change, or all of them (in parallel) when articles came or went.

    ``old`` holds the records the cached lists were computed from (``_cached_records``).
    An article's list depends on the holders of its features and their products; when
    one article's features or product change, the lists that can change are its own and
    those of every article sharing a feature it had or has. Those that held one of its
    old features before hold it still, unless they changed too: the new index tells them.
    """
    ids = [r.id for r in records]
    if cache is None or old.keys() != set(ids) or cache.related.keys() < old.keys():
        return dict(zip(ids, _related_all(related_index(records), ids, jobs), strict=True))
    changed = [
        r.id for r in records if (old[r.id].features, old[r.id].product) != (r.features, r.product)
    ]
    related = {i: cache.related[i] for i in ids}
    if changed:
        index = related_index(records)
        affected: set[str] = set(changed)
        for article_id in changed:
            affected |= index.holders(features_of(old[article_id]))
            affected |= index.holders(index.features[article_id])
        ordered = sorted(affected, key=id_number)
        related.update(zip(ordered, _related_all(index, ordered, jobs), strict=True))
    return related


def _link(
    records: list[ArticleRecord],
    old: dict[str, ArticleRecord],
    cache: BuildCache | None,
    same_links: bool,
    jobs: int,
) -> Site:
    """The site graph: made again from the cache's when the records' links are the ones
    it was made of (``links_unchanged``), else by linking the archive."""
    if cache is not None and same_links and cache.graph:
        return relink_site(records, cache.graph, _related_lists(records, old, cache, jobs))
    return link_site(records, related=lambda rs: _related_lists(rs, old, cache, jobs))


def _cached_records(cache: BuildCache | None) -> dict[str, ArticleRecord]:
    """The records the cached related lists were computed from, by id (duplicates as
    ``unique_records`` resolved them)."""
    if cache is None:
        return {}
    return {r.id: r for r in unique_records(cache.sources, BuildReport())}


def _related_all(index: RelatedIndex, ids: list[str], jobs: int) -> list[list[str]]:
    _RELATED["index"] = index
    try:
        return list(parallel_map(_related_of, ids, jobs, chunksize=256))
    finally:
        _RELATED.clear()


def _related_of(article_id: str) -> list[str]:
    return related_to(_RELATED["index"], article_id)


# -- page keys ----------------------------------------------------------------------

STATIC_KEY = "static"


def renderer_fingerprint(settings: Config, nav: list[Link]) -> str:
    """Everything every page depends on: kbsite's version, the templates and static
    files (packaged and theme), the settings and the navigation. When it changes,
    every page is written again."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{__version__}\0{settings!r}\0{nav!r}\0".encode())
    folders = [templates_dir()] + ([settings.templates] if settings.templates else [])
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(folder)}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def page_keys(
    site: Site,
    records: list[ArticleRecord],
    states: dict[str, SourceState],
    others: list[Any],
    renderer_key: str,
) -> dict[str, str]:
    """Every page's path and key: a digest of all that the page shows.

    An article page shows its source, the facets it is listed under (their names and
    slugs), the articles citing it and related to it, and which of its references are
    in the archive. Other pages show their page object entire.
    """
    digests = {state.record.id: state.digest for state in states.values() if state.record}
    keys: dict[str, str] = {}
    shown = _ShownText(site)
    no_ids: list[str] = []
    for record in records:
        article_id = record.id
        resolved = [r for r in record.references if r in site.summaries]
        text = "\x1d".join(
            (
                renderer_key,
                digests[article_id],
                "\x1e".join(shown.facets(record)),
                shown.summaries(site.backlinks.get(article_id, no_ids)),
                shown.summaries(site.related.get(article_id, no_ids)),
                "\x1e".join(resolved),
            )
        )
        keys[article_href(article_id)] = _digest(text)
    for page in others:
        path = page.path
        if path in keys:
            raise OutputError(f"two pages would be written to {path}", Path(path))
        keys[path] = _digest(f"{renderer_key}\x1d{shown(page)}")
    return keys


_LINK_FIELDS = operator.attrgetter(
    "title", "title_prefix", "date", "category", "product", "bare_title", "keywords",
    "references", "features",
)  # fmt: skip
"""What of a record the site graph (``link.Site``) is made from: all but its source and
excerpt."""


def links_unchanged(records: list[ArticleRecord], old: dict[str, ArticleRecord]) -> bool:
    """Whether the site graph is the one the cached records made: the same articles, each
    with the same ``_LINK_FIELDS``, so every page but those of edited articles is the same.

    A record read again is a new object; the others are the cached ones themselves.
    """
    if len(records) != len(old):
        return False
    for record in records:
        before = old.get(record.id)
        if before is None:
            return False
        if before is not record and _LINK_FIELDS(before) != _LINK_FIELDS(record):
            return False
    return True


def kept_page_keys(
    site: Site,
    records: list[ArticleRecord],
    old: dict[str, ArticleRecord],
    states: dict[str, SourceState],
    texts: list[WrittenPage],
    cache: BuildCache,
    renderer_key: str,
) -> dict[str, str] | None:
    """``page_keys`` when ``links_unchanged``: the cached key of every page made from the
    site graph alone, and of every article not read again; the others' keys made anew.
    None when the cache lacks one of them (the caller makes them all)."""
    edited = [r for r in records if old[r.id] is not r]
    made = page_keys(site, edited, states, texts, renderer_key)
    keys: dict[str, str] = {}
    try:
        for record in records:
            href = article_href(record.id)
            keys[href] = made.get(href) or cache.pages[href]
        for page in texts:
            keys[page.path] = made[page.path]
        for path in cache.generated:
            keys[path] = cache.pages[path]
    except KeyError:
        return None
    return keys


class _ShownText:
    """What a page object shows, as text for its key: its ``repr``, but with each article
    summary as its digest, made once and reused. A summary recurs on many pages (every
    listing the article is in, the pages citing it); spelling it anew each time, through
    the dataclass ``repr``, was most of an edit's rebuild."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.digests = _SummaryDigests(site.summaries)
        self.facet_texts: dict[tuple[str, str], str] = {}
        self.fields: dict[type, tuple[str, ...]] = {}

    def summary(self, summary: ArticleSummary) -> str:
        digest = self.digests.get(summary.id)
        if digest is None:
            digest = self.digests[summary.id] = _summary_digest(summary)
        return digest

    def facets(self, record: ArticleRecord) -> list[str]:
        """The facets an article is listed under, as its page shows them: kind, name and
        listing."""
        texts = []
        for kind, names in article_facets(record).items():
            for name in names:
                text = self.facet_texts.get((kind, name))
                if text is None:
                    facet = self.site.facet(kind, name)
                    href = facet_href(facet) if facet is not None else ""
                    text = self.facet_texts[kind, name] = f"{kind}\x1f{name}\x1f{href}"
                texts.append(text)
        return texts

    def summaries(self, ids: Iterable[str]) -> str:
        return "\x1e".join(map(self.digests.__getitem__, ids))

    def __call__(self, value: Any) -> str:
        kind = type(value)
        if kind is ArticleSummary:
            return self.summary(value)
        if kind is Link:  # a listing's pager has a link to each of its pages
            return f"Link({value.href!r}\x1f{value.text!r}\x1f{value.count!r}\x1f{value.current!r})"
        if isinstance(value, list | tuple):
            if set(map(type, value)) == {ArticleSummary}:  # a listing's entries
                return "[" + self.summaries(map(_ID, value)) + "]"
            return "[" + "\x1e".join([self(item) for item in value]) + "]"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            names = self.fields.get(type(value))
            if names is None:
                names = self.fields[type(value)] = tuple(f.name for f in dataclasses.fields(value))
            parts = [self(getattr(value, name)) for name in names]
            return f"{type(value).__name__}(" + "\x1f".join(parts) + ")"
        return repr(value)


_ID = operator.attrgetter("id")


class _SummaryDigests(dict[str, str]):
    """Each article's ``_summary_digest`` by id, made when first asked for."""

    def __init__(self, summaries: dict[str, ArticleSummary]) -> None:
        super().__init__()
        self.summaries = summaries

    def __missing__(self, article_id: str) -> str:
        digest = self[article_id] = _summary_digest(self.summaries[article_id])
        return digest


def _summary_digest(summary: ArticleSummary) -> str:
    """A summary's digest: a page key spells the summaries it shows this way, shorter
    than the summary itself (the page keys of an archive spelled some 200 MB)."""
    date = summary.date.isoformat() if summary.date else ""
    text = "\x1f".join(
        (summary.id, summary.title, date, summary.category, summary.product, summary.bare_title)
    )
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def other_pages(site: Site, texts: list[WrittenPage], settings: Config) -> list[Any]:
    """Every page but the articles', as page objects (``pages.py``)."""
    return [
        *texts,
        *listing_pages(site, settings.per_page),
        *facet_index_pages(site),
        home_page(site, settings.title),
        missing_page(site),
        search_page(site),
        stats_page(site),
        not_found_page(settings.base_url),
    ]


def write_other_pages(
    others: list[Any],
    renderer: PageRenderer,
    keys: dict[str, str],
    old_keys: dict[str, str],
    writer: SiteWriter,
) -> None:
    """Listings, facet indexes, home, missing, search, statistics, 404 and the Markdown
    pages: those whose key changed."""
    render: dict[str, Callable[[Any], str]] = {
        "listing": renderer.listing_page,
        "facets": renderer.facet_index_page,
        "home": renderer.home_page,
        "missing": renderer.missing_page,
        "search": renderer.search_page,
        "stats": renderer.stats_page,
        "404": renderer.not_found_page,
        "text": renderer.written_page,
    }
    for page in others:
        if old_keys.get(page.path) == keys[page.path]:
            continue
        writer.write_text(page.path, render[_page_kind(page)](page))


_PAGE_KINDS: dict[type, str] = {
    ListingPage: "listing",
    FacetIndexPage: "facets",
    HomePage: "home",
    MissingPage: "missing",
    SearchPage: "search",
    StatsPage: "stats",
    NotFoundPage: "404",
    WrittenPage: "text",
}


def _page_kind(page: Any) -> str:
    return _PAGE_KINDS[type(page)]


def copy_static(writer: SiteWriter, settings: Config) -> dict[str, str]:
    """The packaged static files, then the theme's over them; their paths."""
    folders = [templates_dir() / "static"]
    if settings.templates is not None and (settings.templates / "static").is_dir():
        folders.append(settings.templates / "static")
    files: dict[str, str] = {}
    for folder in folders:
        writer.copy_tree(folder, "static")
        for path in folder.rglob("*"):
            if path.is_file():
                files["static/" + path.relative_to(folder).as_posix()] = STATIC_KEY
    return files


# -- articles: render and analyze ---------------------------------------------------


class SearchWork:
    """The search stage's side of a build: which articles the whoosh index and the
    browser's index need analyzed, and what to do with the results.

    The whoosh index is updated by its ledger (``IndexUpdate``). The browser's index
    is patched (``patch_web_index``) when articles only changed text and kept their
    place in archive order, and written whole otherwise.
    """

    def __init__(
        self,
        index_dir: Path,
        postings_dir: Path,
        ordered: list[ArticleRecord],
        order: list[str],
        states: dict[str, SourceState],
        cache: BuildCache | None,
    ) -> None:
        """``ordered``: the records in archive order; ``order``: their ``order_key``."""
        self.ordered = ordered
        self.order = order
        self.postings_dir = postings_dir
        self.digests = {s.record.id: s.digest for s in states.values() if s.record is not None}
        self.update = IndexUpdate(
            index_dir, {i: f"{__version__}:{d}" for i, d in self.digests.items()}
        )
        try:
            self._plan(index_dir, cache)
        except BaseException:
            self.update.cancel()
            raise

    def _plan(self, index_dir: Path, cache: BuildCache | None) -> None:
        ordered = self.ordered
        self.index_dir = self.update.index_dir
        """Where the index is written: a staging folder when whoosh rebuilds it whole."""
        old = cache.search if cache is not None else {}
        self.old_digests: dict[str, str] = old.get("digests", {})
        self.old_offsets: dict[str, list[Any]] = old.get("offsets", {})
        self.old_files: dict[str, str] = old.get("files", {})
        self.changed = {i for i, _ in self.digests.items() - self.old_digests.items()}
        self.patch = (
            old.get("order") == self.order
            and bool(self.old_files)
            and not self.update.report.rebuilt
            and all((self.postings_dir / name).exists() for name in self._old_postings_files())
            and (self.index_dir / WORDS_FILE).exists()
        )
        self.whole = not self.patch
        self.numbers = {r.id: n for n, r in enumerate(ordered)}
        self.builder = WebIndexBuilder() if self.whole else None
        self.words: Counter[str] = Counter()
        self.edits: list[ArticleEdit] = []
        self.new_words: dict[str, list[str]] = {}
        self.offsets: dict[str, list[Any]] = dict(self.old_offsets) if self.patch else {}
        self.postings_name = f"postings-{time.time_ns()}.bin"
        self.postings_out: Any = None
        self.files: dict[str, str] = {}

    def _old_postings_files(self) -> set[str]:
        return {entry[0] for entry in self.old_offsets.values()}

    def wanted(self, article_id: str) -> bool:
        """Whether the article must be analyzed."""
        return self.whole or article_id in self.changed or article_id in self.update.stale

    def add(self, record: ArticleRecord, result: ArticleResult) -> None:
        if result.whoosh is not None and record.id in self.update.stale:
            self.update.add(result.whoosh)
        if result.postings is None:
            if self.builder is not None:
                self.builder.add({})
            return
        if self.builder is not None:
            self.builder.add(result.postings)
            self.words.update(word_list(result.words))
        elif record.id in self.changed:
            self.edits.append(
                ArticleEdit(self.numbers[record.id], record, self._old(record.id), result.postings)
            )
            self.new_words[record.id] = word_list(result.words)
        if record.id in self.changed or self.builder is not None:
            self._remember(record.id, result)

    def _remember(self, article_id: str, result: ArticleResult) -> None:
        if self.postings_out is None:
            self.postings_dir.mkdir(parents=True, exist_ok=True)
            self.postings_out = (self.postings_dir / self.postings_name).open("wb")
        data = result.packed
        self.offsets[article_id] = [self.postings_name, self.postings_out.tell(), len(data)]
        self.postings_out.write(data)

    def _old(self, article_id: str) -> ArticlePostings:
        postings, _ = self._old_entry(article_id)
        return postings

    def _old_entry(self, article_id: str) -> tuple[ArticlePostings, list[str]]:
        where = self.old_offsets.get(article_id)
        if where is None:
            return {}, []
        name, offset, length = where
        with (self.postings_dir / name).open("rb") as data:
            data.seek(offset)
            postings, words = marshal.loads(zlib.decompress(data.read(length)))
        return postings, word_list(words)

    def commit_in_background(self) -> None:
        """Let the whoosh index commit in another process while this one writes the rest."""
        self.update.commit_in_background()

    def write_web_index(self, writer: SiteWriter) -> WebIndexReport:
        """Write the browser's index (patched or whole) and the spelling word list."""
        if self.postings_out is not None:
            self.postings_out.close()
        web: WebIndexReport | None = None
        if self.builder is None:
            web = self._patch(writer)
        if web is None:
            if self.builder is None or self.builder.documents != len(self.ordered):
                raise KbsiteError("internal error: the browser's index lacks articles")
            web = self.builder.write(self.ordered, writer)
            self.files = {p: "search" for p in writer.written if p.startswith("search/")}
            write_words(self.index_dir, self.words)
        return web

    def finish(self) -> IndexReport:
        """Finish the whoosh index (waiting for its commit) and put it in place."""
        return self.update.finish()

    def cancel(self) -> None:
        if self.postings_out is not None:
            self.postings_out.close()
        self.update.cancel()

    def _patch(self, writer: SiteWriter) -> WebIndexReport | None:
        self.files = dict(self.old_files)
        if not self.edits:
            return WebIndexReport(documents=len(self.ordered), patched=True)
        report = patch_web_index(
            writer.live_path("search").parent, self.ordered, self.edits, writer
        )
        if report is None:
            raise KbsiteError(
                "the site's search index cannot be patched; run the build again with --full",
                writer.output / "search",
            )
        counts = _read_words(self.index_dir)
        for edit in self.edits:
            _, old_words = self._old_entry(edit.record.id)
            counts.subtract(old_words)
            counts.update(self.new_words[edit.record.id])
        write_words(self.index_dir, +counts)
        return report

    def forget_unused_postings(self) -> None:
        """Remove the postings files no cached entry points to (after the cache is saved)."""
        used = {entry[0] for entry in self.offsets.values()}
        for path in self.postings_dir.glob(POSTINGS_FILES):
            if path.name not in used:
                path.unlink(missing_ok=True)

    def state(self) -> dict[str, Any]:
        return {
            "ids": [record.id for record in self.ordered],
            "order": self.order,
            "digests": self.digests,
            "offsets": self.offsets,
            "files": self.files,
        }


def _read_words(index_dir: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in (index_dir / WORDS_FILE).read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition("\t")
        if count.isdigit():
            counts[word] = int(count)
    return counts


@dataclasses.dataclass(slots=True)
class ArticleResult:
    """What a worker sends back for one article: never the article itself."""

    error: KbsiteError | None = None
    whoosh: dict[str, Any] | None = None
    postings: ArticlePostings | None = None
    words: str = ""
    """The article's distinct words (``spelling.article_words``), sorted, a line each."""
    packed: bytes = b""
    """Postings and words as the cache folder keeps them, packed by the worker: the
    main process, which feeds both indexes, is the build's bottleneck."""


@dataclasses.dataclass(slots=True, frozen=True)
class ArticleTask:
    id: str
    source: Path
    render: bool
    analyze: bool
    place: Place | None = None
    """Where the spool keeps the article as the build read it (else it is read again)."""


_WORKER: dict[str, Any] = {}
"""State a forked worker inherits from the parent: site, settings, writer, renderer."""


def process_articles(
    site: Site,
    ordered: list[ArticleRecord],
    render: set[str],
    search: SearchWork,
    writer: SiteWriter,
    nav: list[Link],
    options: BuildOptions,
    report: BuildReport,
    progress: Progress | None = None,
) -> None:
    """Parse, render and analyze the articles that need it, in archive order.

    Workers write the pages themselves and send back only the search data, which is
    fed to the indexes as it comes: nothing piles up.
    """
    tasks = []
    spool = _SPOOL.get("spool")
    places = spool.places if spool is not None else {}
    for record in ordered:
        analyze = search.wanted(record.id)
        if record.id in render or analyze:
            place = places.get(str(record.source))
            tasks.append(ArticleTask(record.id, record.source, record.id in render, analyze, place))
        if record.id in render:
            writer.written.add(article_href(record.id))
    by_id = {r.id: r for r in ordered}
    _WORKER.update(site=site, writer=writer, settings=options.settings, nav=nav, renderer=None)
    done = set()
    try:
        with (
            progress_of(progress, "Writing", len(tasks)) as advance,
            contextlib.closing(
                parallel_map(_process_article, tasks, options.jobs, 16, window=2048)
            ) as results,
        ):
            for task, result in zip(tasks, results, strict=True):
                advance(1)
                done.add(task.id)
                if isinstance(result.error, OutputError):
                    raise result.error
                if result.error is not None:
                    report.problems.append(result.error.as_problem())
                if task.analyze:
                    search.add(by_id[task.id], result)
    finally:
        _WORKER.clear()
    if search.builder is not None:
        for record in ordered:
            if record.id not in done:
                raise KbsiteError(f"internal error: {record.id} was not analyzed")


def _process_article(task: ArticleTask) -> ArticleResult:
    result = ArticleResult()
    spool = _SPOOL.get("spool")
    if task.place is not None and spool is not None:
        article: Article | None = spool.get(task.place)
    else:
        article = load_article(task.source).article
    if article is None or article.id != task.id:
        result.error = KbsiteError(f"{task.source} changed during the build", task.source)
        return result
    if task.render:
        renderer = _WORKER.get("renderer")
        if renderer is None:
            renderer = _WORKER["renderer"] = PageRenderer(
                _WORKER["site"], _WORKER["settings"], nav_pages=_WORKER["nav"]
            )
        try:
            html = renderer.article_page(article)
        except Exception as exc:  # an isolation boundary: one bad article must not stop the build
            result.error = KbsiteError(f"internal error while rendering: {exc!r}", article.source)
        else:
            try:
                _WORKER["writer"].write_unchecked(article_href(article.id), html)
            except KbsiteError as exc:
                result.error = exc
    if task.analyze:
        document = index_document(article)
        terms = analyzed_fields(document)
        result.whoosh = whoosh_document(document, terms)
        result.postings = article_postings(terms)
        text = " ".join((document["title"], document["headings"], document["body"]))
        result.words = "\n".join(sorted(article_words(text)))
        result.packed = pack_postings(result.postings, result.words)
    return result


def word_list(words: str) -> list[str]:
    """``ArticleResult.words`` (a word a line) as a list."""
    return words.split("\n") if words else []


def pack_postings(postings: ArticlePostings, words: str) -> bytes:
    """An article's browser-index postings and words, as ``_old_entry`` reads them back."""
    return zlib.compress(marshal.dumps((postings, words)), 1)


# -- feeds --------------------------------------------------------------------------


def write_feeds(
    site: Site,
    records: list[ArticleRecord],
    writer: SiteWriter,
    settings: Config,
    files: dict[str, str],
) -> dict[str, str]:
    """The feed, robots.txt and, when the site's address is known, the sitemap and the
    OpenSearch description; made after every other page, as the sitemap lists them all.
    Each is written only when its content changed; returns their paths and keys."""
    by_id = {r.id: r for r in records}
    entries = [
        FeedEntry(s.id, s.title, article_href(s.id), s.date, by_id[s.id].excerpt, s.category)
        for s in site.newest(settings.feed_size)
        if s.date is not None
    ]
    base = settings.base_url
    description = settings.description
    made = {
        "feed.xml": atom_feed(settings.title, description, base, entries, settings.language),
        "robots.txt": robots_txt(base),
    }
    if base:
        made["opensearch.xml"] = opensearch_description(settings.title, description, base)
        dates = {article_href(r.id): r.date for r in records}
        pages = sorted(p for p in files if p.endswith(".html") and p != "404.html")
        for name, xml in sitemaps(base, [(p, dates.get(p)) for p in pages]):
            made[name] = xml
    keys = {}
    for name, text in made.items():
        keys[name] = _digest(text)
        if not writer.in_place or not _same_text(writer.live_path(name), text):
            writer.write_text(name, text)
    return keys


def _same_text(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False
