"""Parsed articles kept on disk between a build's reading and its writing.

A build parses each article it reads twice: once for its record (linking needs every
record before any page is written), once more to render and index it. Pickling the
parsed article in the first pass and unpickling it in the second costs much less than
parsing it again, and the articles wait on disk, not in memory. Each worker process
appends to a file of its own with unbuffered writes, so any process can read an article
back as soon as its place is handed out.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import secrets
import shutil
from pathlib import Path

from kbsite.errors import OutputError
from kbsite.model import Article
from kbsite.parallel import is_running

Place = tuple[str, int, int]
"""Where a spooled article is: file name, offset, length."""


class ArticleSpool:
    """A temporary folder of pickled articles; ``close`` removes it."""

    def __init__(self, parent: Path) -> None:
        """The spool's folder goes in ``parent``, made (with ``parent``) when first put in."""
        self.parent = parent
        self._made_parent = not parent.exists()
        if not self._made_parent:
            _remove_left_behind(parent)
        self.folder = parent / f"spool-{os.getpid()}-{secrets.token_hex(4)}"
        self._writing: dict[int, int] = {}
        """Process id to the file descriptor that process appends to."""
        self._reading: dict[str, int] = {}
        self.places: dict[str, Place] = {}
        """Where each file's article is, by the file's path (kept by the main process)."""

    def put(self, article: Article) -> Place:
        """Append the article to this process's file; a full disk or a folder that cannot
        be made is an OutputError naming the folder (the spool's own is temporary: then
        the one it is made in)."""
        try:
            return self._put(article)
        except OSError as exc:
            failed = Path(exc.filename) if exc.filename else self.folder
            folder = self.parent if failed.is_relative_to(self.folder) else failed
            raise OutputError(f"cannot write: {exc.strerror or exc}", folder) from exc

    def _put(self, article: Article) -> Place:
        pid = os.getpid()
        name = f"{pid}.pickle"
        fd = self._writing.get(pid)
        if fd is None:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            fd = self._writing[pid] = os.open(self.folder / name, flags, 0o600)
        data = memoryview(pickle.dumps(article, pickle.HIGHEST_PROTOCOL))
        offset = os.lseek(fd, 0, os.SEEK_END)
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        return name, offset, len(data)

    def get(self, place: Place) -> Article:
        name, offset, length = place
        fd = self._reading.get(name)
        if fd is None:
            fd = self._reading[name] = os.open(self.folder / name, os.O_RDONLY)
        article: Article = pickle.loads(os.pread(fd, length, offset))
        return article

    def close(self) -> None:
        for fd in [*self._writing.values(), *self._reading.values()]:
            os.close(fd)
        self._writing.clear()
        self._reading.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._made_parent:
            with contextlib.suppress(OSError):  # not empty: the build saved its cache there
                self.parent.rmdir()


def _remove_left_behind(parent: Path) -> None:
    """Remove the spools of builds that were killed (their process is gone)."""
    for folder in parent.glob("spool-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not is_running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
