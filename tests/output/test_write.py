from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kbsite.errors import OutputError
from kbsite.output.publish import recover
from kbsite.output.write import MARKER, SiteWriter, recover_leftovers


@pytest.mark.parametrize(
    "path",
    ["../x.html", "/etc/passwd", "kb/../../x", "kb//x", "a b.html", ".x", "kb/Q1/../../../y"],
)
def test_unsafe_paths_are_refused(tmp_path: Path, path: str) -> None:
    writer = SiteWriter(tmp_path / "site")
    with pytest.raises(OutputError, match="unsafe output path"):
        writer.write_text(path, "x")
    writer.discard()


def test_two_pages_to_one_path_are_refused(tmp_path: Path) -> None:
    writer = SiteWriter(tmp_path / "site")
    writer.write_text("kb/Q100001.html", "one")
    with pytest.raises(OutputError, match=r"two pages would be written to kb/Q100001\.html"):
        writer.write_text("kb/Q100001.html", "two")
    writer.discard()


def test_publish_replaces_an_earlier_site_and_only_that(tmp_path: Path) -> None:
    output = tmp_path / "site"
    first = SiteWriter(output)
    first.write_text("index.html", "first")
    first.write_text("old.html", "stale")
    first.publish()
    second = SiteWriter(output)
    second.write_text("index.html", "second")
    second.publish()
    assert (output / "index.html").read_text() == "second"
    assert not (output / "old.html").exists()
    assert (output / MARKER).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_a_folder_kbsite_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(OutputError, match="was not written by kbsite"):
        SiteWriter(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_discard_leaves_the_old_site(tmp_path: Path) -> None:
    output = tmp_path / "site"
    first = SiteWriter(output)
    first.write_text("index.html", "first")
    first.publish()
    failed = SiteWriter(output)
    failed.write_text("index.html", "half-written")
    failed.discard()
    assert (output / "index.html").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_killed_builds_are_removed_and_running_ones_kept(tmp_path: Path) -> None:
    dead, alive = _dead_pid(), os.getppid()
    for name in (
        f".site.building-{dead}-abc",
        f".site.building-{alive}-def",
        ".other.building-1-x",
    ):
        (tmp_path / name).mkdir()
    recover(tmp_path / "site", tmp_path / "index")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.building-1-x",
        f".site.building-{alive}-def",
    ]


def test_a_build_killed_between_its_renames_gets_the_previous_site_back(tmp_path: Path) -> None:
    previous = tmp_path / f".site.old-{_dead_pid()}-abc" / "previous"
    previous.mkdir(parents=True)
    (previous / MARKER).write_text("{}")
    (previous / "index.html").write_text("the previous site")
    recover_leftovers(tmp_path / "site")
    assert (tmp_path / "site" / "index.html").read_text() == "the previous site"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_a_full_disk_is_an_output_error_naming_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = SiteWriter(tmp_path / "site")

    def full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OutputError, match=r"cannot write kb/Q100001\.html: No space left"):
        writer.write_text("kb/Q100001.html", "<p>page</p>")
    monkeypatch.undo()
    writer.discard()
    assert list(tmp_path.iterdir()) == []
