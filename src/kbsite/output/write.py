"""Stage 6: put pages on disk, safely.

The writer builds the new site in a staging folder beside OUTPUT and swaps it in only
when the build finished, so a failed build leaves the previous site as it was. It
accepts only plain relative paths made of safe characters, never writes two pages to
one path, and never replaces a folder that kbsite did not write.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from kbsite.errors import OutputError, interrupts_held
from kbsite.output import journal
from kbsite.parallel import is_running

MARKER = ".kbsite-site"
"""A file in every output folder kbsite writes; its presence allows replacing the folder."""

_SAFE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_LEFTOVER = re.compile(r"(?P<name>\..+)\.(?P<kind>building|old)-(?P<pid>\d+)-[^.]*")


class SiteWriter:
    """Writes one site into a staging folder and publishes it at ``output``.

    ``in_place=True`` is for an incremental build, which rewrites a few pages of a site
    that is otherwise already right: the staging folder then holds only those pages,
    and publishing moves each over its old version and removes the ``stale`` ones, all
    or none even across a kill (``journal``), so the previous site is served whole until
    the build is done.
    """

    def __init__(self, output: Path, in_place: bool = False) -> None:
        self.output = output.resolve()
        try:
            self.output.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            folder = Path(exc.filename) if exc.filename else self.output.parent
            raise OutputError(f"cannot write: {exc.strerror or exc}", folder) from exc
        _check_replaceable(self.output)
        self.in_place = in_place and self.output.is_dir()
        self.staging = staging_folder(self.output)
        self.stale: set[str] = set()
        """Files of the previous site to remove when publishing in place."""
        self.staged: set[str] = set()
        """The files this build writes, relative to the site's top (the copied static
        files aside): in the staging folder until published."""
        self.published: set[str] = set()
        """Those of ``staged`` already put in place (``publish_written``)."""
        self._folders: set[Path] = set()

    def path_for(self, relative: str) -> Path:
        """The staging path for a page, after checking the relative path is safe."""
        parts = relative.split("/")
        if not all(_SAFE_PART.fullmatch(p) for p in parts) or any(p in (".", "..") for p in parts):
            raise OutputError(f"refusing to write unsafe output path {relative!r}", self.output)
        return self.staging.joinpath(*parts)

    def write_text(self, relative: str, content: str) -> None:
        self.claim(relative)
        self.write_unchecked(relative, content)

    def claim(self, relative: str) -> None:
        """Add a page to ``staged``, which another process may write (``write_unchecked``):
        no two pages are written to one path."""
        if relative in self.staged:
            raise OutputError(f"two pages would be written to {relative}", self.output)
        self.staged.add(relative)

    def write_unchecked(self, relative: str, content: str) -> None:
        """Write without the duplicate check, and outside ``staged``: for workers, whose
        paths the parent checked, and the static files (``search_bundle``)."""
        target = self.path_for(relative)
        folder = target.parent
        try:
            if folder not in self._folders:
                folder.mkdir(parents=True, exist_ok=True)
                self._folders.add(folder)
            target.write_text(content, encoding="utf-8")
        except OSError as exc:
            raise OutputError(
                f"cannot write {relative}: {exc.strerror or exc}", self.output
            ) from exc

    def copy_file(self, source: Path, relative: str) -> None:
        """Copy ``source`` to ``relative`` as it is (a static file)."""
        target = self.path_for(relative)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        except OSError as exc:
            raise OutputError(f"cannot copy {source} to {relative}: {exc}", self.output) from exc

    def publish_written(self, removed: Iterable[str] = ()) -> None:
        """Put the files written so far in place now and remove ``removed``, all or none
        across a kill but without waiting for the disk (``journal.run``); the files
        written next go to a new staging folder, for ``transfer``.

        For a live preview, which shows an edited page before its build has made the
        search indexes and the cache: those still hold the pages' old keys until the
        build's own publish, so a build that stops before it, or a power cut, leaves
        pages that the next build writes again.
        """
        moved = tuple(sorted(self.staged - self.published))
        gone = tuple(sorted(removed))
        if not (moved or gone):
            return
        retired = retired_folder(self.output)
        transfer = journal.Transfer(self.staging, self.output, retired, moved, gone)
        journal.run(journal_path(self.output), [transfer], durable=False)
        self.published.update(moved)
        self.staging = staging_folder(self.output)
        self._folders.clear()

    def publish(self, notes: dict[str, str] | None = None) -> None:
        """Put the finished site in place of the old one, all at once (``transfer``)."""
        journal.run(journal_path(self.output), [self.transfer(notes)])

    def transfer(self, notes: dict[str, str] | None = None) -> journal.Transfer:
        """What publishing the staging folder moves: the whole folder in place of the old
        site, or for an in-place build the pages written and the ``stale`` ones removed.

        ``notes`` go into the marker file, for later commands (where the index is).
        """
        marker = json.dumps({"written_by": "kbsite", **(notes or {})}, indent=1) + "\n"
        (self.staging / MARKER).write_text(marker, encoding="utf-8")
        retired = retired_folder(self.output)
        if not self.in_place:
            _check_replaceable(self.output)
            return journal.Transfer(self.staging, self.output, retired)
        moved = sorted(self.staged - self.published)
        if marker != _marker_text(self.output):
            moved.append(MARKER)
        removed = sorted(self.stale - self.staged)
        return journal.Transfer(self.staging, self.output, retired, tuple(moved), tuple(removed))

    def live_path(self, relative: str) -> Path:
        """Where a file of the published site is (the staging folder holds the new ones)."""
        return self.output / self.path_for(relative).relative_to(self.staging)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def staging_folder(target: Path) -> Path:
    """A new empty folder beside ``target`` to build its replacement in.

    Its name carries this process's id, so a later build can tell a folder left by a
    killed build from one a running build is still writing.
    """
    try:
        return Path(
            tempfile.mkdtemp(prefix=f"{_hidden(target)}.building-{os.getpid()}-", dir=target.parent)
        )
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", target.parent) from exc


def retired_folder(target: Path) -> Path:
    """A name, beside ``target``, for what a publish replaces until it is over."""
    name = f"{_hidden(target)}.retired-{os.getpid()}-{secrets.token_hex(4)}"
    return target.parent / name


def journal_path(output: Path) -> Path:
    """The journal of a publish of the site at ``output`` (see ``journal``)."""
    return output.parent / f"{_hidden(output)}.kbsite-journal"


def _hidden(target: Path) -> str:
    """``site`` gives ``.site``; ``.kbsite-index`` stays as it is."""
    return target.name if target.name.startswith(".") else f".{target.name}"


def swap_in(new: Path, target: Path) -> None:
    """Put the finished folder ``new`` in place of ``target``, removing the old one.

    Ctrl-C is held back between the two renames, which would otherwise leave nothing
    at ``target``; a kill there is undone by ``recover_leftovers``.
    """
    os.chmod(new, 0o755)
    old = None
    with interrupts_held():
        if target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f"{_hidden(target)}.old-{os.getpid()}-", dir=target.parent)
            )
            os.rename(target, old / PREVIOUS)
        os.rename(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


PREVIOUS = "previous"


def recover_leftovers(target: Path) -> None:
    """Clean up after builds that were killed: remove their staging folders and, if one
    died between its two renames, put the previous folder back at ``target``.

    Folders of builds still running (their process is alive) are left alone.
    """
    if not target.parent.is_dir():
        return
    for entry in sorted(target.parent.iterdir()):
        match = _LEFTOVER.fullmatch(entry.name)
        if match is None or match["name"] != _hidden(target) or is_running(int(match["pid"])):
            continue
        previous = entry / PREVIOUS
        if match["kind"] == "old" and previous.is_dir() and not target.exists():
            os.rename(previous, target)
        shutil.rmtree(entry, ignore_errors=True)


def _marker_text(site: Path) -> str | None:
    try:
        return (site / MARKER).read_text(encoding="utf-8")
    except OSError:
        return None


def read_site_marker(site: Path) -> dict[str, str] | None:
    """The notes in a site's marker file; None when the folder is not a kbsite site."""
    try:
        text = (site / MARKER).read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        notes = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in notes.items()} if isinstance(notes, dict) else {}


def _check_replaceable(output: Path) -> None:
    if not output.exists():
        return
    if not output.is_dir():
        raise OutputError("output exists and is not a folder", output)
    if (output / MARKER).exists() or not any(output.iterdir()):
        return
    raise OutputError(
        "output folder exists and was not written by kbsite; "
        "refusing to replace it (remove it or choose another -o)",
        output,
    )
