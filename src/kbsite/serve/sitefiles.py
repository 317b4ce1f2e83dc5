"""The site's files as a static host serves them: Starlette's ``StaticFiles`` finds them
(paths that leave the site are not found), kbsite answers with them.

- The site folder is looked up by its path on every request, never held open, because
  each build swaps a new folder in by rename.
- A folder's ``index.html`` answers for it; other folders and missing paths get the
  site's own ``404.html`` with status 404 (no listings); paths that cannot name a file
  (``%00``, a name too long) are missing paths.
- One trip to a worker thread finds a file, opens it and reads its first chunk, which is
  all of most pages; larger files are streamed a chunk at a time, so a client that reads
  slowly holds a chunk, not the file. A file is sent as it was when opened (builds
  replace files by rename), at the length its headers declared.
- With live reload, HTML answers get the reload tag as they stream.
"""

from __future__ import annotations

import dataclasses
import mimetypes
import os
import stat
from collections.abc import AsyncIterator
from email.utils import formatdate
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread
from starlette.datastructures import URL, Headers
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from kbsite.serve.livereload import NO_CACHE, RELOAD_TAG, Broadcaster, ReloadTagger

CHUNK = 64 * 1024
"""Files are read and sent this much at a time."""
NOT_FOUND_PAGE = "404.html"


@dataclasses.dataclass(slots=True)
class Found:
    """The file that answers a request, opened, with its first chunk read."""

    path: str
    """Where it is (its name gives its media type)."""
    status: int
    """200, or 404 for the site's 404 page answering a missing path."""
    size: int
    """Its size when opened: what is sent, whatever happens to the file meanwhile."""
    modified: float
    """Its modification time, for the ETag and Last-Modified."""
    first: bytes
    """Its first chunk: the whole file when it is small."""
    rest: BinaryIO | None
    """The open file when there is more to read; None once it is all in ``first``."""


class SiteFiles(StaticFiles):
    """The site's files, with the reload tag in HTML answers when ``live`` is given."""

    def __init__(self, site: Path, live: Broadcaster | None) -> None:
        super().__init__(directory=site, html=True, check_dir=False)
        self.config_checked = True  # the folder may be missing for a moment while it is swapped
        self.live = live

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"Allow": "GET, HEAD"})
        folder_url = scope["path"].endswith("/")
        found = await anyio.to_thread.run_sync(self.find, path, folder_url)
        if found is None:
            raise HTTPException(404)
        if isinstance(found, str):  # a folder asked without its final slash
            url = URL(scope=scope)
            return RedirectResponse(url.replace(path=url.path + "/"), headers=NO_CACHE)
        return self.answer(found, scope)

    def find(self, path: str, folder_url: bool) -> Found | str | None:
        """The file answering ``path`` (the site's 404 page if there is none), or, for a
        folder asked without its final slash, its index's path; None without a 404 page.
        Runs in a worker thread: it looks, opens and reads."""
        full, found = self.lookup_path(path)
        if found is not None and stat.S_ISDIR(found.st_mode):
            full, found = self.lookup_path(os.path.join(path, "index.html"))
            if found is not None and stat.S_ISREG(found.st_mode) and not folder_url:
                return full
        if found is not None and stat.S_ISREG(found.st_mode):
            opened = _open(full, 200)
            if opened is not None:
                return opened
        full, found = self.lookup_path(NOT_FOUND_PAGE)
        return _open(full, 404) if found is not None and stat.S_ISREG(found.st_mode) else None

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """Not found also for paths that cannot name a file (a NUL byte, a name too long)."""
        try:
            return super().lookup_path(path)
        except (ValueError, OSError):
            return "", None

    def answer(self, found: Found, scope: Scope) -> Response:
        """``found`` as an answer: whole when it was read whole, else streamed; 304 when
        the browser has it (never for a page with the reload tag, which is not the file)."""
        tagger = ReloadTagger() if self.live is not None and found.path.endswith(".html") else None
        added = len(RELOAD_TAG) if tagger is not None else 0
        headers = {**NO_CACHE, "content-length": str(found.size + added)}
        if tagger is None and found.status == 200:
            headers["etag"] = f'"{int(found.modified * 1e6):x}-{found.size:x}"'
            headers["last-modified"] = formatdate(found.modified, usegmt=True)
            if self.is_not_modified(Headers(headers), Headers(scope=scope)):
                _close(found)
                return NotModifiedResponse(Headers(headers))
        media_type = mimetypes.guess_type(found.path)[0] or "application/octet-stream"
        if found.rest is None or scope["method"] == "HEAD":
            _close(found)
            body = b"" if scope["method"] == "HEAD" else _whole(found.first, tagger)
            return Response(body, found.status, headers, media_type)
        chunks = _chunks(found.first, found.rest, found.size - len(found.first), tagger)
        return StreamingResponse(chunks, found.status, headers, media_type)


def _open(path: str, status: int) -> Found | None:
    """``path`` opened and its first chunk read; None if it has just been swapped away."""
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed here once read whole, else by _chunks)
    except OSError:
        return None
    try:
        opened = os.fstat(file.fileno())
        first = file.read(min(CHUNK, opened.st_size))
    except OSError:
        file.close()
        return None
    whole = len(first) >= opened.st_size
    if whole:
        file.close()
    return Found(path, status, opened.st_size, opened.st_mtime, first, None if whole else file)


def _whole(content: bytes, tagger: ReloadTagger | None) -> bytes:
    return content if tagger is None else tagger.feed(content) + tagger.end()


def _close(found: Found) -> None:
    if found.rest is not None:
        found.rest.close()


async def _chunks(
    first: bytes, rest: BinaryIO, remaining: int, tagger: ReloadTagger | None
) -> AsyncIterator[bytes]:
    """A file a chunk at a time: ``first``, then ``remaining`` bytes of ``rest`` (the
    length its answer declared, even if the file grows)."""
    chunk = first
    try:
        while chunk:
            yield chunk if tagger is None else tagger.feed(chunk)
            chunk = await anyio.to_thread.run_sync(rest.read, min(CHUNK, remaining))
            remaining -= len(chunk)
        if tagger is not None:
            yield tagger.end()
    finally:
        rest.close()
