"""Stage 6 for Kiwix: the site's pages into one ZIM file instead of a folder.

    find_sources -> read_source -> parse_article   (per file, in parallel; build.check_sources)
    link_site                                      (whole archive)
    PageRenderer -> libzim Creator                 (articles rendered in parallel, one at a time
                                                    into the creator, which indexes in its own
                                                    threads and writes clusters uncompressed)
    recompress_clusters                            (zimfile.py: zstd at a level faster than
                                                    libzim's fixed one, on every core)

The pages are the site's, made from the same settings (page size, theme, title) and the
same ``PAGE_KINDS``, less those a reader brings its own of (search, 404). Each page keeps
its site path (``kb/Q315817.html``, ``static/kbsite.css``) as its ZIM
path, so the site's relative links work unchanged between entries. The in-browser
search (``search.html``, its scripts and index) is left out: Kiwix searches the ZIM's own
full-text index, which gets each article's title, readable text and keywords, and
nothing of the listing pages, whose titles would otherwise match every search.

Both files are written beside OUTPUT and the compressed one renamed over it only when
finished, so a failed export leaves the previous file as it was.
"""

from __future__ import annotations

import dataclasses
import datetime
import mimetypes
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from libzim.writer import (
    Compression,
    Creator,
    Hint,
    IndexData,
    Item,
    StringProvider,
)

from kbsite import __version__
from kbsite.build import check_sources, fewer_collections
from kbsite.config import Config
from kbsite.errors import Level, OutputError, Problem
from kbsite.model import Article, body_text
from kbsite.output.icon import illustration_png
from kbsite.output.pages import static_files
from kbsite.output.zimfile import cluster_count, recompress_clusters
from kbsite.parallel import parallel_map
from kbsite.read.load import load_text_pages
from kbsite.read.source import find_source_files
from kbsite.render.renderer import SEARCH_SCRIPTS, PageRenderer
from kbsite.report import BuildReport, Progress, progress_of
from kbsite.search.index import index_document
from kbsite.site.kinds import Page, site_pages
from kbsite.site.link import Site
from kbsite.site.pages import HomePage, Link, article_href, markdown_pages
from kbsite.worker import WorkerContext, context, inherited

LANGUAGE = "eng"
"""The articles' language, ISO 639-3: the ZIM's Language and its full-text stemmer."""

SEARCH_FILES = frozenset(SEARCH_SCRIPTS)
"""Static files only the in-browser search uses; Kiwix has its own search."""

TITLE_LIMIT = 30
DESCRIPTION_LIMIT = 80
"""openZIM's limits on the Title and Description metadata, which readers show in lists."""

ZIM_MAGIC = b"ZIM\x04"

RENDER_WINDOW = 512
"""Articles rendered ahead of the creator at most, per batch: bounds memory at any size."""


@dataclasses.dataclass(slots=True)
class ZimMetadata:
    """What Kiwix shows of the file in its library; see https://wiki.openzim.org/wiki/Metadata."""

    title: str = "Knowledge Base Archive"
    """Also the title in every page's header; at most 30 characters."""
    name: str = ""
    """A stable id for the content across versions; empty for one made from the title."""
    description: str = ""
    """One line, at most 80 characters; empty for one with the article count."""
    creator: str = "Unknown"
    """Who wrote the articles."""
    publisher: str = "kbsite"
    """Who made the ZIM file."""
    date: datetime.date | None = None
    """The file's date; None for today."""
    tags: tuple[str, ...] = ("kbsite", "knowledge-base", "_pictures:no", "_videos:no")

    def problems(self) -> list[str]:
        """What is wrong with the values given, worded for the command line's options."""
        found = []
        if not self.title.strip():
            found.append("--title is empty")
        if len(self.title) > TITLE_LIMIT:
            found.append(f"--title is longer than {TITLE_LIMIT} characters, the most Kiwix shows")
        if len(self.description) > DESCRIPTION_LIMIT:
            found.append(
                f"--description is longer than {DESCRIPTION_LIMIT} characters, the most Kiwix shows"
            )
        return found

    def values(self, articles: int) -> dict[str, str]:
        """The metadata entries, with defaults filled in."""
        date = self.date or datetime.date.today()
        description = self.description or f"{articles:,} knowledge-base articles, cross-linked"
        return {
            "Name": self.name or default_name(self.title),
            "Title": self.title,
            "Description": description,
            "Language": LANGUAGE,
            "Creator": self.creator,
            "Publisher": self.publisher,
            "Date": date.isoformat(),
            "Tags": ";".join(self.tags),
            "Scraper": f"kbsite {__version__}",
        }


def default_name(title: str) -> str:
    """openZIM's ``{project}_{language}_{selection}`` name, the project from the title."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "kbsite"
    return f"{slug}_en_all"


@dataclasses.dataclass(slots=True)
class ZimOptions:
    sources: list[Path]
    output: Path
    jobs: int = 1
    metadata: ZimMetadata = dataclasses.field(default_factory=ZimMetadata)
    settings: Config = dataclasses.field(default_factory=Config)
    """The site's settings (``kbsite.toml``): the pages are the site's, but for the title,
    which is the metadata's."""


@dataclasses.dataclass(slots=True)
class IndexText:
    """What Kiwix's full-text index holds of an article: its text, not the page around it."""

    title: str
    content: str
    keywords: str
    words: int
    """The content's word count, counted by the render worker: libzim asks for it from its
    indexing threads, where counting would hold the main process's GIL."""


@dataclasses.dataclass(slots=True)
class Entry:
    """One page or file of the ZIM, ready to add."""

    path: str
    """The site's path for it, relative to the site's top."""
    title: str
    content: bytes
    mimetype: str = "text/html"
    front: bool = False
    """An article of its own, offered by Kiwix's suggestions and random article."""
    index: IndexText | None = None
    """None keeps the entry out of the full-text index."""


def export_zim(options: ZimOptions, progress: Progress | None = None) -> BuildReport:
    """Read, link, render and write the archive as one ZIM file.

    Raises KbsiteError only when no file can be written at all; problems with single
    articles are in the report, as with ``build_site``.
    """
    with fewer_collections():
        return _export_zim(options, progress)


def _export_zim(options: ZimOptions, progress: Progress | None) -> BuildReport:
    started = time.perf_counter()
    _check_replaceable(options.output)
    report = BuildReport()
    articles, site = check_sources(options.sources, options.jobs, report, progress)
    uncompressed = _staging_file(options.output)
    staging = _staging_file(options.output)
    try:
        report.pages = write_zim(site, articles, uncompressed, options, progress, report.problems)
        with progress_of(progress, "Compressing", cluster_count(uncompressed)) as advance:
            recompress_clusters(uncompressed, staging, jobs=options.jobs, advance=advance)
        os.chmod(staging, 0o644)
        os.replace(staging, options.output)
    finally:
        uncompressed.unlink(missing_ok=True)
        staging.unlink(missing_ok=True)
    report.seconds = time.perf_counter() - started
    return report


def write_zim(
    site: Site,
    articles: list[Article],
    path: Path,
    options: ZimOptions,
    progress: Progress | None = None,
    problems: list[Problem] | None = None,
) -> int:
    """Write every page of the site into a ZIM file at ``path``, uncompressed (see
    ``zimfile``); returns the entries added.

    Articles that fail to render are left out, each with a problem added to ``problems``.
    """
    creator = (
        Creator(str(path))
        .config_indexing(True, LANGUAGE)
        .config_compression(Compression.none)
        .config_nbworkers(max(1, options.jobs))
    )
    creator.__enter__()
    try:
        added = _add_entries(
            creator, site, articles, options, progress, [] if problems is None else problems
        )
    except BaseException:
        with _stdout_silenced():
            creator.__exit__(*sys.exc_info())
        raise
    with progress_of(progress, "Finishing", 1) as advance, _stdout_silenced():
        creator.__exit__(None, None, None)
        advance(1)
    return added


def _add_entries(
    creator: Creator,
    site: Site,
    articles: list[Article],
    options: ZimOptions,
    progress: Progress | None,
    problems: list[Problem],
) -> int:
    metadata = options.metadata
    for name, value in metadata.values(len(articles)).items():
        creator.add_metadata(name, value)
    creator.add_illustration(48, illustration_png(48))
    pages = find_source_files(options.sources, []).pages  # folder problems: see check_sources
    texts = markdown_pages(load_text_pages(pages, problems))
    settings = dataclasses.replace(options.settings, title=metadata.title)
    others = site_pages(site, settings, texts, zim=True)
    creator.set_mainpath(next(page.path for page in others if isinstance(page, HomePage)))
    workers = WorkerContext(
        site=site,
        settings=settings,
        nav=[Link(page.path, page.title) for page in texts],
        site_search=False,
        articles={a.id: a for a in articles},
    )
    added = 0
    with progress_of(progress, "Writing", len(articles) + len(others)) as advance:
        for entry in site_entries(site, workers, others, options.jobs, problems):
            creator.add_item(PageItem(entry))
            added += 1
            advance(1)
    return added


@contextmanager
def _stdout_silenced() -> Iterator[None]:
    """libzim prints its finishing steps on standard output, unasked: kbsite's is its summary.

    The lines come from C++, so it is the file descriptor that is pointed elsewhere.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def site_entries(
    site: Site,
    workers: WorkerContext,
    others: Sequence[Page],
    jobs: int,
    problems: list[Problem],
) -> Iterator[Entry]:
    """Every entry of the ZIM, made one at a time: articles (rendered by forked workers
    from the context ``workers``), the other pages, the static files.

    An article that fails to render is left out and added to ``problems``.
    """
    with inherited(workers):
        ids = list(workers.articles)
        made = parallel_map(_article_entry, ids, jobs, chunksize=16, window=RENDER_WINDOW)
        for entry in made:
            if isinstance(entry, Problem):
                problems.append(entry)
            else:
                yield entry
    renderer = PageRenderer(site, workers.settings, site_search=False, nav_pages=workers.nav)
    for page in others:
        yield Entry(page.path, page.title, renderer.other_page(page).encode())
    for path, file in static_files(workers.settings).items():
        if path not in SEARCH_FILES:
            mimetype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            yield Entry(path, "", file.read_bytes(), mimetype)


def _article_entry(article_id: str) -> Entry | Problem:
    worker = context()
    article = worker.articles[article_id]
    try:
        html = worker.page_renderer().article_page(article)
    except Exception as exc:  # an isolation boundary: one bad article must not stop the export
        message = f"internal error while rendering: {exc!r}"
        return Problem(article.source, None, Level.ERROR, message)
    title = f"{article.id}: {article.title}"
    keywords = " ".join(index_document(article)["keywords"].split())
    content = body_text(article)
    text = IndexText(title, content, keywords, len(content.split()))
    return Entry(article_href(article.id), title, html.encode(), front=True, index=text)


class PageItem(Item):  # type: ignore[misc]  # libzim ships no type information
    """One entry handed to libzim, which asks it for path, title, content and index data."""

    def __init__(self, entry: Entry) -> None:
        super().__init__()
        self.entry = entry

    def get_path(self) -> str:
        return self.entry.path

    def get_title(self) -> str:
        return self.entry.title

    def get_mimetype(self) -> str:
        return self.entry.mimetype

    def get_contentprovider(self) -> StringProvider:
        return StringProvider(self.entry.content)

    def get_hints(self) -> dict[Any, int]:
        return {Hint.FRONT_ARTICLE: self.entry.front, Hint.COMPRESS: True}

    def get_indexdata(self) -> IndexData:
        return ArticleIndexData(self.entry.index)


class ArticleIndexData(IndexData):  # type: ignore[misc]  # libzim ships no type information
    """An article's searchable text; for other pages, none, so searches find only articles."""

    def __init__(self, text: IndexText | None) -> None:
        super().__init__()
        self.text = text

    def has_indexdata(self) -> bool:
        return self.text is not None

    def get_title(self) -> str:
        return self.text.title if self.text else ""

    def get_content(self) -> str:
        return self.text.content if self.text else ""

    def get_keywords(self) -> str:
        return self.text.keywords if self.text else ""

    def get_wordcount(self) -> int:
        return self.text.words if self.text else 0

    def get_geoposition(self) -> None:
        return None


def _check_replaceable(output: Path) -> None:
    """Refuse, before any work, an output that is a folder or a file other than a ZIM."""
    if output.is_dir():
        raise OutputError("output is a folder; give a file name ending in .zim", output)
    if output.exists():
        with output.open("rb") as existing:
            if existing.read(len(ZIM_MAGIC)) != ZIM_MAGIC:
                raise OutputError(
                    "output exists and is not a ZIM file; refusing to replace it", output
                )


def _staging_file(output: Path) -> Path:
    """A free name beside ``output`` to write into; libzim wants to create the file itself."""
    _check_replaceable(output)
    folder = output.absolute().parent
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{output.name}.building-", dir=folder)
    os.close(handle)
    os.unlink(name)
    return Path(name)
