"""One build of a site at a time: an exclusive lock on a file in the site's cache folder.

``flock`` locks belong to the open file, so the kernel lets go of the lock of a process
that dies however it dies: a lock never outlives its build, and no stale lock file
ever blocks one. The holder writes its process id and command into the file, for the
one line a second build stops with.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from kbsite.errors import OutputError
from kbsite.places import cache_folder

LOCK_FILE = "lock"
WAIT_SECONDS = 3.0
"""How long a second build waits for the first before it stops."""
_POLL_SECONDS = 0.05


class SiteLocked(OutputError):
    """Another process is building this site."""


@contextlib.contextmanager
def site_lock(output: Path, wait: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the lock of the site at ``output`` while the block runs.

    Waits up to ``wait`` seconds for another holder, then raises SiteLocked naming it.
    """
    fd = _acquire(output, wait)
    try:
        os.ftruncate(fd, 0)
        command = " ".join(["kbsite", *sys.argv[1:]])
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command}).encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing lets go of the lock


def try_lock(output: Path) -> int | None:
    """The lock's descriptor if it is free now, else None (``release`` lets go of it);
    for readers that repair a site only when no build is running."""
    try:
        return _acquire(output, 0.0)
    except (SiteLocked, OutputError):
        return None


def release(fd: int) -> None:
    os.close(fd)


def lock_path(output: Path) -> Path:
    return cache_folder(output) / LOCK_FILE


def _acquire(output: Path, wait: float) -> int:
    path = lock_path(output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        where = Path(exc.filename) if exc.filename else path.parent
        raise OutputError(f"cannot write: {exc.strerror or exc}", where) from exc
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _holder(fd)
                os.close(fd)
                raise SiteLocked(
                    f"another build is writing this site ({holder}); "
                    "wait for it to finish, or stop it",
                    output,
                ) from None
            time.sleep(_POLL_SECONDS)


def _holder(fd: int) -> str:
    """Who holds the lock, as its file says (empty in the instant it is taken)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {int(data['pid'])}: {data['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not said which"
