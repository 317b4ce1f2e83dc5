"""One publish for a site, its search index and its build cache.

A build writes everything new aside: the site's pages in the writer's staging folder,
the whoosh index in a new generation of its folder (``stage_index``: the old index's
files hard-linked, whoosh's files being written once, then updated there, or an empty
folder for an index built anew), the cache's files in a staging folder of their own.
``Publish`` then puts all three in place in one journaled step (``journal.run``): a
build that fails or is killed before it leaves the old site with its old index and
cache; one killed during it is finished by the next build (``recover``) or by a reader
of the site (``settle``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from kbsite.errors import OutputError
from kbsite.output import journal
from kbsite.output.lock import release, try_lock
from kbsite.output.write import (
    SiteWriter,
    journal_path,
    recover_leftovers,
    retired_folder,
    staging_folder,
)
from kbsite.places import cache_folder
from kbsite.search.index import _check_ours
from kbsite.search.integrity import write_manifest

_LOCK_SUFFIX = "_WRITELOCK"


class Publish:
    """What one build of the site at ``output`` puts in place, gathered, then done at once."""

    def __init__(self, output: Path) -> None:
        self.output = output.resolve()
        self.transfers: list[journal.Transfer] = []
        self.staged: list[Path] = []
        """Folders staged for this publish, removed by ``discard``."""

    def stage_index(self, index_dir: Path, fresh: bool) -> Path:
        """``stage_index``, the folder to be removed if the build stops before ``run``."""
        staged = stage_index(index_dir, fresh)
        self.staged.append(staged)
        return staged

    def add_site(self, writer: SiteWriter, notes: dict[str, str] | None = None) -> None:
        self.transfers.append(writer.transfer(notes))

    def add_index(self, staged: Path, index_dir: Path) -> None:
        """The index generation ``staged`` (from ``stage_index``, its update finished)
        replaces ``index_dir``; its manifest is written now."""
        write_manifest(staged)
        index_dir = index_dir.absolute()
        self.transfers.append(journal.Transfer(staged, index_dir, retired_folder(index_dir)))

    def add_files(self, folder: Path, contents: dict[str, bytes]) -> None:
        """Files (such as the build cache's) to replace those of the same names in ``folder``."""
        folder = folder.absolute()
        folder.mkdir(parents=True, exist_ok=True)
        staged = staging_folder(folder)
        self.staged.append(staged)
        transfer = journal.Transfer(staged, folder, retired_folder(folder), tuple(sorted(contents)))
        self.transfers.append(transfer)
        try:
            for name, data in contents.items():
                (staged / name).write_bytes(data)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", folder) from exc

    def run(self) -> None:
        """Put everything in place, all or none (raises OutputError, see ``journal.run``)."""
        try:
            journal.run(journal_path(self.output), self.transfers)
        except journal.PublishStopped:
            raise
        except OutputError:
            self.discard()
            raise

    def discard(self) -> None:
        """Remove what was staged, for a build that stops before ``run``."""
        for folder in [*self.staged, *(t.staging for t in self.transfers)]:
            shutil.rmtree(folder, ignore_errors=True)


def stage_index(index_dir: Path, fresh: bool) -> Path:
    """A new generation of the index beside ``index_dir``, for ``IndexUpdate`` to update:
    the live index's files linked into it (whoosh never rewrites a file it wrote, it adds
    new ones and forgets old ones), or nothing when ``fresh`` (the index built anew)."""
    index_dir = index_dir.absolute()
    _check_ours(index_dir)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staged = staging_folder(index_dir)
    if fresh or not index_dir.is_dir():
        return staged
    try:
        for entry in os.scandir(index_dir):
            if entry.is_file(follow_symlinks=False) and not entry.name.endswith(_LOCK_SUFFIX):
                _link_or_copy(Path(entry.path), staged / entry.name)
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        why = exc.strerror or str(exc)
        raise OutputError(f"cannot stage the search index: {why}", index_dir) from exc
    return staged


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def recover(output: Path, index_dir: Path) -> None:
    """Before a build, holding the site's lock: finish the publish a killed build began,
    then remove the staging folders of builds killed before theirs."""
    journal.finish_interrupted(journal_path(output.resolve()))
    for target in (output.resolve(), index_dir.absolute(), cache_folder(output)):
        recover_leftovers(target)


def settle(output: Path) -> None:
    """Before ``kbsite search`` or ``serve`` reads the site at ``output``: finish a publish
    a killed build left half-done, unless a build is running (it finishes its own)."""
    if not journal_path(output.resolve()).exists():
        return
    fd = try_lock(output)
    if fd is None:
        return
    try:
        journal.finish_interrupted(journal_path(output.resolve()))
    finally:
        release(fd)
