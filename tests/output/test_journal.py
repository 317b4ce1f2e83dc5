"""The journal's moves: all or none, whatever fails or stops them, wherever."""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kbsite.errors import OutputError
from kbsite.output import journal
from kbsite.output.journal import Transfer

OLD = {
    "site/index.html": "old home",
    "site/kb/Q1.html": "old 1",
    "site/kb/Q2.html": "old 2 (stale)",
    "index/_MAIN_1.toc": "old toc",
    "index/seg_a.pst": "segment a",
    "cache/build.bin": "old cache",
    "cache/detail.bin": "old detail",
    "cache/postings-1.bin": "postings",
}
NEW = {
    "site/index.html": "new home",
    "site/kb/Q1.html": "new 1",
    "site/kb/Q3.html": "new 3",
    "site/kb/new/Q4.html": "new 4",
    "index/_MAIN_2.toc": "new toc",
    "index/seg_a.pst": "segment a",
    "index/seg_b.pst": "segment b",
    "cache/build.bin": "new cache",
    "cache/detail.bin": "new detail",
    "cache/postings-1.bin": "postings",
}
MOVES = ("rename", "replace", "link", "unlink")
"""The os functions whose calls are the moves a fault is injected at."""


def tree(root: Path) -> dict[str, str]:
    """Every file under root's site, index and cache folders, by path, with its text."""
    return {
        str(path.relative_to(root)): path.read_text()
        for top in ("site", "index", "cache")
        for path in sorted((root / top).rglob("*"))
        if path.is_file()
    }


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def staged(root: Path) -> list[Transfer]:
    """OLD live under ``root``, NEW staged as a real build stages it: the site's pages
    in place (files), the index as a whole new folder, the cache's two files."""
    write(root, OLD)
    write(root / "stage-site", {"index.html": "new home", "kb/Q1.html": "new 1"})
    write(root / "stage-site", {"kb/Q3.html": "new 3", "kb/new/Q4.html": "new 4"})
    write(root / "stage-index", {k[6:]: v for k, v in NEW.items() if k.startswith("index/")})
    write(root / "stage-cache", {"build.bin": "new cache", "detail.bin": "new detail"})
    pages = ("index.html", "kb/Q1.html", "kb/Q3.html", "kb/new/Q4.html")
    return [
        Transfer(root / "stage-site", root / "site", root / "retired-site", pages, ("kb/Q2.html",)),
        Transfer(root / "stage-index", root / "index", root / "retired-index"),
        Transfer(
            root / "stage-cache",
            root / "cache",
            root / "retired-cache",
            ("build.bin", "detail.bin"),
        ),
    ]


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name not in ("site", "index", "cache"))


class Killed(BaseException):
    """Stands for a SIGKILL: nothing after it runs, no handler sees it."""


def fault_at(
    monkeypatch: pytest.MonkeyPatch, number: int, fault: Callable[[str], BaseException]
) -> list[str]:
    """Make the ``number``-th move (0-based) raise ``fault(name)``; returns the moves made."""
    made: list[str] = []
    for name in MOVES:
        real = getattr(os, name)

        def move(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            if len(made) == number:
                made.append(f"{_name} (failed)")
                raise fault(_name)
            made.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, move)
    return made


def count_moves(tmp_path: Path) -> int:
    root = tmp_path / "count"
    with pytest.MonkeyPatch.context() as patch:
        made = fault_at(patch, 10_000, Killed)
        journal.run(root / "journal", staged(root))
    return len(made)


def test_a_publish_puts_every_new_file_in_place_and_leaves_nothing_behind(tmp_path: Path) -> None:
    journal.run(tmp_path / "journal", staged(tmp_path))
    assert tree(tmp_path) == NEW
    assert leftovers(tmp_path) == []


def test_finishing_without_a_journal_does_nothing(tmp_path: Path) -> None:
    write(tmp_path, OLD)
    assert not journal.finish_interrupted(tmp_path / "journal")
    assert tree(tmp_path) == OLD


def test_a_failure_at_any_move_leaves_every_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes: list[str] = []
    for number in range(count_moves(tmp_path)):
        root = tmp_path / str(number)
        transfers = staged(root)
        with monkeypatch.context() as patch:
            made = fault_at(patch, number, lambda name: OSError(errno.ENOSPC, "No space left"))
            try:
                journal.run(root / "journal", transfers)
            except OutputError as failed:
                assert "No space left" in str(failed)
                assert failed.path is not None and failed.path.is_relative_to(root)
                outcomes.append("old")
            else:  # the failure was in the clean-up after the moves
                outcomes.append("new")
        if outcomes[-1] == "new":
            assert tree(root) == NEW, made
            continue
        assert tree(root) == OLD, made
        assert not (root / "journal").exists()
        journal.run(root / "journal", transfers)  # what was staged is still there
        assert tree(root) == NEW
    assert "old" in outcomes and "new" in outcomes


def test_a_kill_at_any_move_is_finished_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(count_moves(tmp_path)):
        root = tmp_path / str(number)
        transfers = staged(root)
        with monkeypatch.context() as patch:
            made = fault_at(patch, number, Killed)
            with pytest.raises(Killed):
                journal.run(root / "journal", transfers)
        if (root / "journal").exists():
            journal.finish_interrupted(root / "journal")
            assert tree(root) == NEW, made
            assert leftovers(root) == [name for name in leftovers(root) if "stage" in name]
        else:  # killed before the journal was written
            assert tree(root) == OLD, made


def test_a_kill_while_finishing_is_finished_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moves = count_moves(tmp_path)
    killed = 0
    for number in range(moves):
        root = tmp_path / str(number)
        with monkeypatch.context() as patch:
            fault_at(patch, moves // 2, Killed)
            with pytest.raises(Killed):
                journal.run(root / "journal", staged(root))
        with monkeypatch.context() as patch:
            made = fault_at(patch, number, Killed)
            with contextlib.suppress(Killed):  # finishing has fewer moves than there were
                journal.finish_interrupted(root / "journal")
        killed += made[-1].endswith("(failed)")
        journal.finish_interrupted(root / "journal")
        assert tree(root) == NEW
        assert not (root / "journal").exists()
    assert killed > 3


@pytest.mark.parametrize(
    ("undoing", "stopped"),
    [(Killed(), Killed), (journal._MoveFailed(Path("x"), "Read-only"), journal.PublishStopped)],
    ids=["killed", "failing"],
)
def test_a_failure_undone_only_in_part_is_finished_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, undoing: BaseException, stopped: type
) -> None:
    """Killed while undoing, or undoing fails too (then the error says the next build
    finishes it): the next build makes every move."""
    transfers = staged(tmp_path)
    real_forward, real_backward = journal._forward, journal._backward

    def forward(transfer: Transfer) -> None:
        if transfer is transfers[-1]:
            raise journal._MoveFailed(transfer.target, "I/O error")
        real_forward(transfer)

    def backward(transfer: Transfer) -> None:
        if transfer is transfers[1]:
            raise undoing
        real_backward(transfer)

    monkeypatch.setattr(journal, "_forward", forward)
    monkeypatch.setattr(journal, "_backward", backward)
    with pytest.raises(stopped) as raised:
        journal.run(tmp_path / "journal", transfers)
    assert stopped is Killed or "the next kbsite build finishes it" in str(raised.value)
    monkeypatch.undo()
    journal.finish_interrupted(tmp_path / "journal")
    assert tree(tmp_path) == NEW


def test_a_read_only_folder_is_named_before_anything_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transfers = staged(tmp_path)
    real_access = os.access
    read_only = tmp_path / "site" / "kb"
    monkeypatch.setattr(os, "access", lambda p, m: Path(p) != read_only and real_access(p, m))
    with pytest.raises(OutputError) as failed:
        journal.run(tmp_path / "journal", transfers)
    assert failed.value.path == read_only
    assert str(failed.value) == f"{read_only}: cannot write in this folder: permission denied"
    assert tree(tmp_path) == OLD
    assert not (tmp_path / "journal").exists()


def test_a_folder_not_yet_made_is_checked_where_it_would_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transfers = staged(tmp_path)
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, m: Path(p) != tmp_path / "site" / "kb" and real_access(p, m)
    )
    with pytest.raises(OutputError, match="permission denied"):
        journal.run(tmp_path / "journal", transfers)  # kb/new/ does not exist yet


def test_an_unreadable_journal_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "journal").write_text('{"format": 1, "transfers": [{"staging": 1}]}')
    with pytest.raises(OutputError, match="cannot be read") as failed:
        journal.finish_interrupted(tmp_path / "journal")
    assert failed.value.path == tmp_path / "journal"


def test_the_journal_names_every_move(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    transfers = staged(tmp_path)
    with monkeypatch.context() as patch:
        fault_at(patch, 1, Killed)  # the first move after the journal's own
        with pytest.raises(Killed):
            journal.run(tmp_path / "journal", transfers)
    data = json.loads((tmp_path / "journal").read_text())
    assert [Transfer.from_data(item) for item in data["transfers"]] == transfers
