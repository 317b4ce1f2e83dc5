"""The build cache: what the last build made each page from, so the next one rewrites
only the pages whose content changes.

The cache is a folder beside the site (``.SITE.kbsite-cache`` next to ``SITE``), never
inside it, as it names local paths. Its ``build.bin`` holds, for each source file, its size,
modification time, content digest and problems, and the build's totals: all a rebuild
with nothing to do needs, so that one reads only this small file. ``detail.bin`` holds
the rest, read only when something changed: the record parsed from each file; for each
page, the key it was written under (a digest of everything the page shows, see
``keys.page_keys``); and what the search stage needs to patch the browser's index.

A cache is trusted only whole: the first line of ``build.bin`` (JSON) carries the format,
the kbsite version and a digest of the rest, which holds the digest of ``detail.bin``; a
cache that is truncated, edited, written by another version or not a cache at all is
ignored (the build says why) and the site is built from scratch.

The rest is ``marshal`` data (lists, dicts, strings and numbers only), not JSON: an edit's
rebuild reads and writes the whole detail, and marshal does that many times faster than
JSON. marshal is not meant for data from strangers, so it
reads only bytes whose digest the header vouches for; it makes values, never runs code.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import marshal
import operator
import os
import zlib
from pathlib import Path
from typing import Any

from kbsite import __version__
from kbsite.errors import Level, Problem
from kbsite.model import ArticleRecord
from kbsite.places import cache_folder
from kbsite.search.webindex import FORMAT as WEB_INDEX_FORMAT
from kbsite.search.work import SearchState

CACHE_FORMAT = 10
BUILD_FILE = "build.bin"
DETAIL_FILE = "detail.bin"
_FORMAT = f"{CACHE_FORMAT}/marshal-{marshal.version}/search-{WEB_INDEX_FORMAT}"
"""What the header says of the layout: the cache's own, marshal's, and that of the
browser index files it vouches for (a build keeps them when nothing changed)."""
RECORD_CHUNK = 2048
"""Records per marshalled chunk of the detail."""
_UNEXPECTED = (ValueError, EOFError, TypeError, KeyError, IndexError, AttributeError)
"""What reading data of the wrong shape raises (``marshal.loads``: ValueError, EOFError)."""
RACY_SECONDS = 2.0
"""A file modified this close to the last build may have changed again within the
same timestamp; its content digest is checked instead of trusting size and time."""


@dataclasses.dataclass(slots=True)
class SourceState:
    """One source file as the last build read it."""

    size: int
    mtime_ns: int
    digest: str
    record: ArticleRecord | None
    """None when the file held no usable article (its problems say why), and in a cache
    whose detail is not loaded yet (``load_cache_detail``)."""
    problems: list[Problem]


@dataclasses.dataclass(slots=True, kw_only=True)
class BuildCache:
    """What the last build made the site from; empty (``BuildCache()``) for no usable cache."""

    renderer: str = ""
    """``keys.renderer_fingerprint`` of the build that wrote the pages."""
    started: float = 0.0
    """When that build started (seconds since the epoch), for ``RACY_SECONDS``."""
    sources: dict[str, SourceState] = dataclasses.field(default_factory=dict)
    """By the file's path as given to the build."""
    related: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    pages: dict[str, str] = dataclasses.field(default_factory=dict)
    """Every page and file of the site, relative to its top, with its key."""
    search: SearchState = dataclasses.field(default_factory=SearchState)
    """What the search stage left, to patch the browser's index from."""
    unresolved: tuple[int, int] = (0, 0)
    """Distinct unresolved ids and their mentions, for the summary of a build with
    nothing to do."""
    index_files: list[str] = dataclasses.field(default_factory=list)
    """The whoosh index folder's file names as the build left it (its segments and
    table of contents change with every commit), so a build can tell it is untouched."""
    articles: int = 0
    """Distinct articles, and the warnings about the duplicates among them, for the
    summary of a build with nothing to do."""
    duplicates: list[Problem] = dataclasses.field(default_factory=list)
    page_count: int = 0
    """Pages in ``pages`` (its static files aside)."""
    detail_digest: str = ""
    """The digest of ``detail.bin`` as this cache wrote it."""
    text_pages: str = ""
    """A digest of the Markdown pages as that build read them: with every article and
    template unchanged, an edited page still makes a rebuild with something to do."""
    graph: dict[str, Any] = dataclasses.field(default_factory=dict)
    """``link.site_graph`` of the site the pages were made from."""
    record_chunks: list[tuple[bytes, list[ArticleRecord | None]]] = dataclasses.field(
        default_factory=list
    )
    """The detail's records as read, chunk by chunk: the bytes, and the records made of
    them. ``save_cache`` writes those bytes again for a chunk whose records are the same
    objects: an edit's rebuild marshals a chunk, not the archive."""
    generated: list[str] = dataclasses.field(default_factory=list)
    """The pages made from the site graph alone (listings, facet indexes, home, missing,
    search, statistics, 404): an edit that changes no link keeps their keys."""


def cache_path(output: Path) -> Path:
    return cache_folder(output) / BUILD_FILE


def detail_path(output: Path) -> Path:
    return cache_folder(output) / DETAIL_FILE


def file_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _checksum(data: bytes) -> str:
    """What vouches for the cache's own files: their length and CRC-32, which catch
    damage (all they guard against: whoever can write the cache can write the site)
    in a fraction of a digest's time."""
    return f"{len(data):x}-{zlib.crc32(data):08x}"


def load_cache(output: Path) -> tuple[BuildCache | None, str | None]:
    """The cache of the site at ``output`` without its detail, or None and why it cannot
    be used.

    No cache at all is not a problem (None, None): the first build has none.
    """
    path = cache_path(output)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot read the build cache {path}: {exc.strerror or exc}"
    header_line, _, body = data.partition(b"\n")
    try:
        header = json.loads(header_line)
    except ValueError:
        return None, f"{path} is not a kbsite build cache; ignoring it"
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        return None, f"{path} is not a kbsite build cache of this format; ignoring it"
    if header.get("kbsite") != __version__:
        return None, f"{path} was written by kbsite {header.get('kbsite')}; rebuilding everything"
    if header.get("digest") != _checksum(body):
        return None, f"{path} is damaged (its digest does not match); ignoring it"
    try:
        return _cache_from_data(marshal.loads(body)), None
    except _UNEXPECTED as exc:
        return None, f"{path} holds unexpected data ({exc!r}); ignoring it"


def load_cache_detail(
    output: Path, cache: BuildCache, paths: dict[str, Path] | None = None
) -> str | None:
    """Fill in ``cache``'s records, related lists, page keys and search state from
    ``detail.bin``; or say why they cannot be trusted (the cache is then unusable).

    ``paths``, the source files the build found by name, become the records' sources
    rather than each made again."""
    path = detail_path(output)
    try:
        body = path.read_bytes()
    except OSError as exc:
        return f"cannot read the build cache {path}: {exc.strerror or exc}; ignoring the cache"
    if _checksum(body) != cache.detail_digest:
        return f"{path} is damaged (its digest does not match); ignoring the cache"
    try:
        _detail_from_data(marshal.loads(body), cache, paths or {})
    except _UNEXPECTED as exc:
        return f"{path} holds unexpected data ({exc!r}); ignoring the cache"
    return None


def save_cache(output: Path, cache: BuildCache) -> None:
    """Write the cache whole, or leave the previous one: new files renamed over the old,
    the detail first, as ``build.bin`` vouches for it by its digest."""
    for name, data in cache_files(cache).items():
        _replace(cache_folder(output) / name, data)


def cache_files(cache: BuildCache) -> dict[str, bytes]:
    """The cache's files by name, in the order to write them (for a publish that puts
    them in place with the site, ``output.publish``)."""
    detail = _encode(_detail_as_data(cache))
    cache.detail_digest = _checksum(detail)
    body = _encode(_cache_as_data(cache))
    header = {"format": _FORMAT, "kbsite": __version__, "digest": _checksum(body)}
    return {DETAIL_FILE: detail, BUILD_FILE: json.dumps(header).encode() + b"\n" + body}


def _encode(data: dict[str, Any]) -> bytes:
    return marshal.dumps(data, marshal.version)


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def remove_cache(output: Path) -> None:
    """Forget the cache, before a build that changes pages without recording them."""
    cache_path(output).unlink(missing_ok=True)


# -- as data ------------------------------------------------------------------------


def _cache_as_data(cache: BuildCache) -> dict[str, Any]:
    return {
        "renderer": cache.renderer,
        "started": cache.started,
        "sources": {
            path: [
                state.size,
                state.mtime_ns,
                state.digest,
                [_problem_as_data(p) for p in state.problems],
            ]
            for path, state in cache.sources.items()
        },
        "unresolved": list(cache.unresolved),
        "index_files": cache.index_files,
        "articles": cache.articles,
        "duplicates": [_problem_as_data(p) for p in cache.duplicates],
        "page_count": cache.page_count,
        "detail": cache.detail_digest,
        "text_pages": cache.text_pages,
    }


def _cache_from_data(data: dict[str, Any]) -> BuildCache:
    sources = {
        str(path): SourceState(
            int(size), int(mtime_ns), str(digest), None, [_problem_from_data(p) for p in problems]
        )
        for path, (size, mtime_ns, digest, problems) in data["sources"].items()
    }
    distinct, mentions = data["unresolved"]
    return BuildCache(
        renderer=str(data["renderer"]),
        started=float(data["started"]),
        sources=sources,
        unresolved=(int(distinct), int(mentions)),
        index_files=[str(name) for name in data["index_files"]],
        articles=int(data["articles"]),
        duplicates=[_problem_from_data(p) for p in data["duplicates"]],
        page_count=int(data["page_count"]),
        detail_digest=str(data["detail"]),
        text_pages=str(data["text_pages"]),
    )


def _detail_as_data(cache: BuildCache) -> dict[str, Any]:
    cache.record_chunks = _record_chunks(cache)
    return {
        "chunk": RECORD_CHUNK,
        "records": [data for data, _ in cache.record_chunks],
        "related": cache.related,
        "pages": cache.pages,
        "search": cache.search.as_data(),
        "generated": cache.generated,
        "graph": cache.graph,
    }


def _record_chunks(cache: BuildCache) -> list[tuple[bytes, list[ArticleRecord | None]]]:
    """The records in order, a marshalled chunk of ``RECORD_CHUNK`` at a time, each with
    its records; a chunk whose records are the very ones a chunk was read into or
    written from is its bytes as they were (a build that keeps its cache in memory
    saves it after every edit)."""
    states = list(cache.sources.values())
    chunks = []
    for number, start in enumerate(range(0, len(states), RECORD_CHUNK)):
        records = [state.record for state in states[start : start + RECORD_CHUNK]]
        if number < len(cache.record_chunks):
            data, read = cache.record_chunks[number]
            if len(read) == len(records) and all(map(operator.is_, read, records)):
                chunks.append((data, read))
                continue
        rows = [_record_as_data(record) if record else None for record in records]
        chunks.append((marshal.dumps(rows, marshal.version), records))
    return chunks


def _detail_from_data(data: dict[str, Any], cache: BuildCache, paths: dict[str, Path]) -> None:
    """Records come in the order of ``build.bin``'s sources, one (or null) for each."""
    chunks = data["records"]
    size = data["chunk"]
    states = list(cache.sources.values())
    if len(chunks) != -(-len(states) // size):
        raise ValueError(f"{len(chunks)} chunks of records for {len(states)} files")
    search = SearchState.from_data(data["search"])
    folders: dict[str, Path] = {}
    cache.record_chunks = []
    path_of = paths.get
    for number, chunk in enumerate(chunks):
        part = states[number * size : (number + 1) * size]
        rows = marshal.loads(chunk)
        if len(rows) != len(part):
            raise ValueError(f"{len(rows)} records for {len(part)} files")
        for state, row in zip(part, rows, strict=True):
            if row is not None:
                state.record = _record_from_data(row, path_of(row[1]) or _path(row[1], folders))
            else:
                state.record = None
        cache.record_chunks.append((chunk, [state.record for state in part]))
    cache.related = _mapping(data["related"])
    cache.pages = _mapping(data["pages"])
    cache.generated = list(data["generated"])
    cache.search = search
    cache.graph = _mapping(data["graph"])


def _mapping(value: Any) -> dict[str, Any]:
    """A dict as read; the digest vouches for its content, this for its shape."""
    if not isinstance(value, dict):
        raise TypeError(f"{type(value).__name__} where a mapping belongs")
    return value


def _record_as_data(r: ArticleRecord) -> list[Any]:
    return [
        r.id, str(r.source), r.title, r.title_prefix, r.date.isoformat() if r.date else None,
        r.category, r.product, r.bare_title, r.keywords, r.references, r.features, r.excerpt,
    ]  # fmt: skip


def _record_from_data(data: list[Any], source: Path) -> ArticleRecord:
    """A record from its list; the cache's digest vouches for the types (a wrong shape
    still raises)."""
    id_, _, title, prefix, date, category, product, bare, keywords, refs, feats, excerpt = data
    return ArticleRecord(
        id_, source, title, prefix, datetime.date.fromisoformat(date) if date else None,
        category, product, bare, keywords, refs, feats, excerpt,
    )  # fmt: skip


def _path(source: str, folders: dict[str, Path]) -> Path:
    """``source`` as a Path; ``folders`` shares the parent of the many files of a folder,
    so each whole path is not parsed anew."""
    folder, _, name = source.rpartition("/")
    parent = folders.get(folder)
    if parent is None:
        parent = folders[folder] = Path(folder or ".")
    return parent / name


def _problem_as_data(problem: Problem) -> list[Any]:
    path = str(problem.path) if problem.path is not None else None
    return [path, problem.line, problem.level.value, problem.message]


def _problem_from_data(data: list[Any]) -> Problem:
    path, line, level, message = data
    return Problem(
        Path(path) if path is not None else None,
        int(line) if line is not None else None,
        Level(level),
        str(message),
    )
