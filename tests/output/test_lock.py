"""One build per site: a second waits, then stops with one line naming the first."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kbsite.errors import OutputError
from kbsite.output.lock import SiteLocked, lock_path, site_lock, try_lock

HOLD = """
import sys, time
from pathlib import Path
from kbsite.output.lock import site_lock
with site_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@contextlib.contextmanager
def holding(site: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the site's lock for ``seconds``, once it says so."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(site), str(seconds), "build", "content"],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        try:
            yield holder
        finally:
            holder.kill()


def test_a_second_build_stops_with_one_line_naming_the_first(tmp_path: Path) -> None:
    with holding(tmp_path / "site", 30) as holder:
        started = time.monotonic()
        with pytest.raises(SiteLocked) as locked, site_lock(tmp_path / "site", wait=0.3):
            pass
        assert 0.3 <= time.monotonic() - started < 5
        assert str(locked.value) == (
            f"{tmp_path / 'site'}: another build is writing this site "
            f"(pid {holder.pid}: kbsite {tmp_path / 'site'} 30 build content); "
            "wait for it to finish, or stop it"
        )


def test_a_second_build_waits_for_a_first_that_ends_soon(tmp_path: Path) -> None:
    with holding(tmp_path / "site", 1.0):
        started = time.monotonic()
        with site_lock(tmp_path / "site", wait=20):
            assert time.monotonic() - started > 0.5


def test_the_lock_of_a_killed_build_never_blocks(tmp_path: Path) -> None:
    with holding(tmp_path / "site", 30) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert lock_path(tmp_path / "site").read_text().startswith('{"pid"')  # left as it was
    with site_lock(tmp_path / "site", wait=0):
        pass


def test_readers_take_the_lock_only_when_free(tmp_path: Path) -> None:
    with site_lock(tmp_path / "site"):
        assert try_lock(tmp_path / "site") is None
    fd = try_lock(tmp_path / "site")
    assert fd is not None
    os.close(fd)


def test_a_cache_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".site.kbsite-cache").write_text("a file where the folder goes")
    with (
        pytest.raises(OutputError, match="cannot write: ") as failed,
        site_lock(tmp_path / "site"),
    ):
        pass
    assert failed.value.path == tmp_path / ".site.kbsite-cache"
