"""Moves that happen all or not at all, even across a kill: a journal of renames.

A publish is a list of ``Transfer``s, each putting files written aside (a staging
folder) in place of the live ones. ``run`` first writes the journal naming every move
and syncs it and the staged files to disk; then it makes the moves and, once they are
all made and on disk, removes the journal. Every move is made so that doing it again
does nothing (``_forward`` looks at what is where before each rename): a process
killed half-way leaves the journal, and ``finish_interrupted`` makes the rest of the
moves. A move that fails in the process that makes them (a folder turned read-only,
a full disk) is undone move by move (``_backward``), which puts the previous files
back, so the live side is either all old or all new.

What a move replaces is kept under the transfer's ``retired`` folder until the end: a
file is hard-linked there before the new one is renamed over it (so its path never
goes missing), a removed file is renamed there, a whole folder is renamed there.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from kbsite.errors import OutputError, interrupts_held

JOURNAL_FORMAT = 1


@dataclasses.dataclass(slots=True, frozen=True)
class Transfer:
    """New files written aside, to be put in place of live ones in one step."""

    staging: Path
    """The folder holding the new files (a whole new folder when ``files`` is None)."""
    target: Path
    """The live folder they go to."""
    retired: Path
    """Where what they replace waits until the publish is over; must not exist yet."""
    files: tuple[str, ...] | None = None
    """Paths under ``staging`` to move to the same paths under ``target``; None: the
    whole ``staging`` folder replaces ``target``."""
    remove: tuple[str, ...] = ()
    """Paths under ``target`` to remove (only with ``files``)."""

    def as_data(self) -> dict[str, object]:
        return {
            "staging": str(self.staging),
            "target": str(self.target),
            "retired": str(self.retired),
            "files": list(self.files) if self.files is not None else None,
            "remove": list(self.remove),
        }

    @classmethod
    def from_data(cls, data: dict[str, object]) -> Transfer:
        files, remove = data["files"], data["remove"]
        if (files is not None and not isinstance(files, list)) or not isinstance(remove, list):
            raise TypeError("files and remove must be lists")
        return cls(
            Path(str(data["staging"])),
            Path(str(data["target"])),
            Path(str(data["retired"])),
            tuple(map(str, files)) if files is not None else None,
            tuple(map(str, remove)),
        )


class PublishStopped(OutputError):
    """A publish failed half-way and could not be undone: the next build finishes it."""


def run(journal: Path, transfers: list[Transfer], durable: bool = True) -> None:
    """Make every move of ``transfers``, all or none (see the module's docstring).

    Raises OutputError naming the folder that could not be written, with every live
    file as it was; the staged files are then still in their staging folders.

    ``durable=False`` waits for no disk: the moves are still all or none across a kill,
    but a power cut may lose them. Only for files that a later durable publish makes
    again unless it finds them there (``SiteWriter.publish_written``).
    """
    check_writable(transfers, journal)
    if durable:
        sync([t.staging for t in transfers])
    try:
        _write_journal(journal, transfers, durable)
    except _MoveFailed as failed:
        raise OutputError(f"cannot publish: {failed.reason}", failed.folder) from failed
    with interrupts_held():
        try:
            for transfer in transfers:
                _forward(transfer)
        except _MoveFailed as failed:
            _undo(journal, transfers, failed)
    if durable:
        sync([t.target for t in transfers])
    _clean_up(journal, transfers, durable)


def finish_interrupted(journal: Path) -> bool:
    """Make the rest of the moves of a publish a killed process left; whether there was one."""
    if not journal.exists():
        return False
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        if data.get("format") != JOURNAL_FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        transfers = [Transfer.from_data(item) for item in data["transfers"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise OutputError(
            f"the journal of an interrupted publish cannot be read ({exc}); "
            "remove it and run kbsite build --full",
            journal,
        ) from exc
    with interrupts_held():
        try:
            for transfer in transfers:
                _forward(transfer)
        except _MoveFailed as failed:
            raise PublishStopped(
                f"cannot finish the publish an interrupted build began: {failed.reason}",
                failed.folder,
            ) from failed
    sync([t.target for t in transfers])
    _clean_up(journal, transfers)
    return True


def check_writable(transfers: list[Transfer], journal: Path) -> None:
    """Raise OutputError naming the first folder a move needs to write in and may not.

    Checked before the journal is written, so that a read-only folder leaves the
    live files untouched and the error names that folder, not a staged file.
    """
    folders = {journal.parent}
    for transfer in transfers:
        folders.add(transfer.target.parent)
        folders.add(transfer.retired.parent)
        if transfer.files is not None:
            folders.update((transfer.target / p).parent for p in transfer.files)
            folders.update((transfer.target / p).parent for p in transfer.remove)
    for folder in sorted(folders):
        existing = folder
        while not existing.exists() and existing.parent != existing:
            existing = existing.parent
        if not os.access(existing, os.W_OK | os.X_OK):
            raise OutputError("cannot write in this folder: permission denied", existing)


class _MoveFailed(Exception):
    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(reason)
        self.folder = folder
        self.reason = reason


@contextlib.contextmanager
def _in(folder: Path) -> Iterator[None]:
    """An OSError inside becomes a _MoveFailed naming ``folder``, the one to act on."""
    try:
        yield
    except OSError as exc:
        raise _MoveFailed(folder, exc.strerror or str(exc)) from exc


def _write_journal(journal: Path, transfers: list[Transfer], durable: bool = True) -> None:
    data = {"format": JOURNAL_FORMAT, "pid": os.getpid(), "transfers": []}
    data["transfers"] = [t.as_data() for t in transfers]
    temporary = journal.with_name(f"{journal.name}.{os.getpid()}.tmp")
    with _in(journal.parent):
        try:
            with temporary.open("w", encoding="utf-8") as out:
                json.dump(data, out)
                out.flush()
                if durable:
                    os.fsync(out.fileno())
            os.replace(temporary, journal)
        except OSError:
            temporary.unlink(missing_ok=True)
            raise
        if durable:
            _fsync_folder(journal.parent)


def _undo(journal: Path, transfers: list[Transfer], failed: _MoveFailed) -> None:
    """Put back what the moves so far replaced, then raise the error that stopped them."""
    try:
        for transfer in reversed(transfers):
            _backward(transfer)
    except _MoveFailed as again:
        raise PublishStopped(
            f"publishing stopped half-way ({failed.reason}) and could not be undone "
            f"({again.reason}); the next kbsite build finishes it",
            failed.folder,
        ) from failed
    for transfer in transfers:
        shutil.rmtree(transfer.retired, ignore_errors=True)
    journal.unlink(missing_ok=True)
    raise OutputError(f"cannot publish: {failed.reason}", failed.folder) from failed


def _clean_up(journal: Path, transfers: list[Transfer], durable: bool = True) -> None:
    """Remove what the moves replaced and the emptied staging folders, then the journal."""
    for transfer in transfers:
        shutil.rmtree(transfer.retired, ignore_errors=True)
        if transfer.files is not None:
            shutil.rmtree(transfer.staging, ignore_errors=True)
    with contextlib.suppress(OSError):  # else the next build finds it, with nothing to do
        journal.unlink(missing_ok=True)
        if durable:
            _fsync_folder(journal.parent)


def _forward(transfer: Transfer) -> None:
    if transfer.files is None:
        _swap_forward(transfer)
        return
    for relative in transfer.files:
        _file_forward(
            transfer.staging / relative, transfer.target / relative, transfer.retired / relative
        )
    for relative in transfer.remove:
        live, kept = transfer.target / relative, transfer.retired / relative
        if os.path.lexists(live):
            with _in(live.parent):
                if os.path.lexists(kept):
                    os.unlink(live)
                else:
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(live, kept)


def _backward(transfer: Transfer) -> None:
    if transfer.files is None:
        _swap_backward(transfer)
        return
    for relative in transfer.remove:
        live, kept = transfer.target / relative, transfer.retired / relative
        if os.path.lexists(kept) and not os.path.lexists(live):
            with _in(live.parent):
                os.rename(kept, live)
    for relative in transfer.files:
        _file_backward(
            transfer.staging / relative, transfer.target / relative, transfer.retired / relative
        )


def _file_forward(new: Path, live: Path, kept: Path) -> None:
    if not os.path.lexists(new):
        return  # moved in already
    with _in(live.parent):
        if os.path.lexists(live) and not _same(live, new) and not os.path.lexists(kept):
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.link(live, kept, follow_symlinks=False)
        live.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(live) and _same(live, new):
            os.unlink(new)  # rename() between two links of one file does nothing
        else:
            os.replace(new, live)


def _file_backward(new: Path, live: Path, kept: Path) -> None:
    with _in(live.parent):
        moved_in = os.path.lexists(live) and (not os.path.lexists(new) or _same(live, new))
        if not moved_in:
            if os.path.lexists(kept):
                os.unlink(kept)
            return
        if not os.path.lexists(new):
            os.link(live, new, follow_symlinks=False)
        if os.path.lexists(kept):
            os.replace(kept, live)
        else:
            os.unlink(live)


def _swap_forward(transfer: Transfer) -> None:
    new, live, kept = transfer.staging, transfer.target, transfer.retired
    if not os.path.lexists(new):
        return
    with _in(live.parent):
        os.chmod(new, 0o755)
        if os.path.lexists(live):
            os.rename(live, kept)
        os.rename(new, live)


def _swap_backward(transfer: Transfer) -> None:
    new, live, kept = transfer.staging, transfer.target, transfer.retired
    with _in(live.parent):
        if not os.path.lexists(new) and os.path.lexists(live):
            os.rename(live, new)
        if os.path.lexists(kept) and not os.path.lexists(live):
            os.rename(kept, live)


def _same(a: Path, b: Path) -> bool:
    first, second = os.lstat(a), os.lstat(b)
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def sync(paths: list[Path]) -> None:
    """Flush to disk everything written on the file systems holding ``paths``: one
    ``syncfs`` each rather than an fsync per page, so a power cut after the journal
    finds every staged file whole."""
    devices: set[int] = set()
    for path in paths:
        folder = path if path.is_dir() else path.parent
        try:
            device = os.stat(folder).st_dev
        except OSError:
            continue
        if device in devices:
            continue
        devices.add(device)
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _SYNCFS is None or _SYNCFS(fd) != 0:
                os.sync()
        finally:
            os.close(fd)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _libc_syncfs() -> Callable[[int], int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    syncfs: Callable[[int], int] = function
    return syncfs


_SYNCFS = _libc_syncfs()
"""Linux's syncfs(2); elsewhere ``os.sync``."""
