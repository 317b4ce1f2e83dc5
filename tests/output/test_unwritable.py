"""A full disk or a read-only folder ends a build with one line naming the folder."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbsite.cli import main
from kbsite.output import spool

from ..conftest import CONTENT


def _build(output: Path, *args: str, source: Path = CONTENT) -> list[str]:
    """``kbsite build`` in this process (so patches apply, also in forked workers): the
    lines it printed after checking it failed with exit status 1."""
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(output), "-q", *args])
    assert result.exit_code == 1, result.output
    return result.output.splitlines()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_under_the_spool_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(spool.os, "write", full)
    cache = tmp_path / ".site.kbsite-cache"
    assert _build(tmp_path / "site", "--jobs", jobs) == [
        f"ERROR {cache}: cannot write: No space left on device"
    ]


def _read_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Making anything in ``folder`` fails, as on a read-only file system (root, who
    runs CI here, may write a folder whatever its mode)."""
    make = os.mkdir

    def mkdir(path: str | os.PathLike[str], mode: int = 0o777, **kwargs: object) -> None:
        if Path(path).parent == folder:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
        make(path, mode)

    monkeypatch.setattr(os, "mkdir", mkdir)


def test_a_read_only_parent_folder_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _read_only(tmp_path / "ro", monkeypatch)
    (tmp_path / "ro").mkdir()
    assert _build(tmp_path / "ro" / "site", "--jobs", "1") == [
        f"ERROR {tmp_path / 'ro' / '.site.kbsite-cache'}: cannot write: Read-only file system"
    ]
    for source in (CONTENT, CONTENT / "about.md"):  # the spool, or (no articles) the site
        assert _build(tmp_path / "ro" / "new" / "site", "--jobs", "1", source=source) == [
            f"ERROR {tmp_path / 'ro' / 'new'}: cannot write: Read-only file system"
        ]


def test_a_rebuild_in_a_folder_made_read_only_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to parse, so no spool: the staging folder is the first thing written."""
    output = tmp_path / "ro" / "site"
    CliRunner().invoke(main, ["build", str(CONTENT), "-o", str(output), "-q", "--jobs", "1"])
    _read_only(tmp_path / "ro", monkeypatch)
    assert _build(output, "--jobs", "1", "--title", "Another title") == [
        f"ERROR {tmp_path / 'ro'}: cannot write: Read-only file system"
    ]
