"""One publish for site, index and cache: the parts the fault suite does not reach."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh import index

from kbsite.output import journal
from kbsite.output.lock import site_lock
from kbsite.output.publish import Publish, recover, settle, stage_index
from kbsite.output.write import journal_path
from kbsite.places import cache_folder
from kbsite.search.index import IndexError_, IndexUpdate

from ..generations import build, index_of, leftovers, site_of, state


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_an_index_updated_in_its_next_generation_leaves_the_live_one_untouched(
    tmp_path: Path,
) -> None:
    build(tmp_path, "v1", 20)
    live = digests(index_of(tmp_path))
    staged = stage_index(index_of(tmp_path), fresh=False)
    assert all(os.path.samefile(staged / n, index_of(tmp_path) / n) for n in os.listdir(staged))
    update = IndexUpdate(staged, {f"Q{n}": "v2" for n in range(1, 15)})
    for article in sorted(update.stale):
        update.add({"id": article, "title": ["v2"], "_stored_title": "v2"})
    update.finish()
    assert digests(index_of(tmp_path)) == live
    with index.open_dir(str(index_of(tmp_path))).searcher() as searcher:
        assert searcher.doc_count() == 20
    with index.open_dir(str(staged)).searcher() as searcher:
        assert searcher.doc_count() == 14


def test_a_fresh_generation_starts_empty(tmp_path: Path) -> None:
    build(tmp_path, "v1", 3)
    assert os.listdir(stage_index(index_of(tmp_path), fresh=True)) == []


def test_a_folder_that_holds_no_index_is_never_staged_over(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(IndexError_, match="holds no kbsite index"):
        stage_index(tmp_path / "mine", fresh=True)


def test_recovery_removes_what_builds_killed_before_publishing_left(tmp_path: Path) -> None:
    build(tmp_path, "v1", 3)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    for folder in (site_of(tmp_path), index_of(tmp_path), cache_folder(site_of(tmp_path))):
        (folder.parent / f".{folder.name.lstrip('.')}.building-{pid}-x").mkdir()
    recover(site_of(tmp_path), index_of(tmp_path))
    assert leftovers(tmp_path) == []
    assert state(tmp_path) == ("v1", 3)


def test_a_reader_finishes_a_publish_only_when_no_build_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(tmp_path, "v1", 3)

    class Killed(BaseException):
        """Stands for a SIGKILL after the first transfer's moves."""

    real_forward = journal._forward

    def forward(transfer: journal.Transfer) -> None:
        real_forward(transfer)
        raise Killed

    monkeypatch.setattr(journal, "_forward", forward)
    with pytest.raises(Killed):
        build(tmp_path, "v2", 4)
    monkeypatch.undo()
    assert journal_path(site_of(tmp_path).resolve()).exists()
    with site_lock(site_of(tmp_path)):
        settle(site_of(tmp_path))  # a build runs: it is the one to finish
        assert journal_path(site_of(tmp_path).resolve()).exists()
    settle(site_of(tmp_path))
    assert state(tmp_path) == ("v2", 4)
    assert not journal_path(site_of(tmp_path).resolve()).exists()


def test_a_build_that_stops_before_publishing_leaves_nothing_staged(tmp_path: Path) -> None:
    build(tmp_path, "v1", 3)
    publish = Publish(site_of(tmp_path))
    publish.stage_index(index_of(tmp_path), fresh=False)
    publish.add_files(cache_folder(site_of(tmp_path)), {"build.bin": b"v2"})
    assert len(leftovers(tmp_path)) == 2
    publish.discard()
    assert leftovers(tmp_path) == []
    assert state(tmp_path) == ("v1", 3)
