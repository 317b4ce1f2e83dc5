"""The index's manifest: what it catches, what it costs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import kbsite
from kbsite.search import integrity
from kbsite.search.integrity import MANIFEST, damage
from kbsite.search.location import default_index_dir

from ..generations import build, index_of, site_of


def kbsite_run(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m kbsite ARGUMENTS`` of this kbsite, wherever it runs."""
    environment = {**os.environ, "PYTHONPATH": str(Path(kbsite.__file__).parents[1])}
    command = [sys.executable, "-m", "kbsite", *arguments]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """The index of a miniature site of 20 articles (tests/generations.py)."""
    build(tmp_path, "v1", 20)
    return index_of(tmp_path)


def test_an_index_as_written_passes(built: Path) -> None:
    assert damage(built) is None
    assert MANIFEST in os.listdir(built)


def test_a_changed_file_of_the_same_size_fails_its_checksum(built: Path) -> None:
    segment = next(built.glob("*.pst"))
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0xFF
    segment.write_bytes(bytes(data))
    assert damage(built) == f"{segment.name} does not hold what was written"
    assert damage(built, checksums=False) is None  # what `kbsite search` checks: sizes


def test_a_missing_or_an_added_file_fails(built: Path) -> None:
    (built / "_MAIN_9.toc").write_bytes(b"")
    assert damage(built) == "_MAIN_9.toc is not one of its files"
    (built / "_MAIN_9.toc").unlink()
    toc = next(built.glob("*.toc"))
    toc.unlink()
    assert damage(built) == f"{toc.name} is missing"


def test_an_index_without_a_manifest_is_trusted_by_search_not_by_a_build(built: Path) -> None:
    (built / MANIFEST).unlink()
    assert damage(built) == "no manifest of its files"
    assert damage(built, required=False) is None


def test_checksums_are_computed_once_per_file(
    tmp_path: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[str] = []
    real_crc = integrity._crc
    monkeypatch.setattr(integrity, "_crc", lambda p: computed.append(p.name) or real_crc(p))
    build(tmp_path, "v1", 21)  # one article added: a new small segment, a new toc, ledger
    segments = {p.name for p in built.glob("*.pst")}
    assert len(segments) == 2
    assert len(segments & set(computed)) == 1, computed
    assert damage(built) is None


def test_search_of_a_damaged_index_is_one_line(tmp_path: Path, built: Path) -> None:
    segment = next(built.glob("*.pst"))
    size = segment.stat().st_size
    with segment.open("r+b") as data:
        data.truncate(10)
    searched = kbsite_run("search", "--site", str(site_of(tmp_path)), "v1")
    assert searched.returncode == 1
    assert searched.stderr.splitlines() == [
        f"ERROR {built}: the search index is damaged ({segment.name} is 10 bytes, "
        f"not {size:,}); run kbsite build to repair it"
    ]


def test_search_of_a_site_with_no_articles_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert kbsite_run("build", "empty", "-o", "site", "-q", cwd=tmp_path).returncode == 0
    searched = kbsite_run("search", "--site", "site", "anything", cwd=tmp_path)
    assert searched.returncode == 1
    assert searched.stderr.splitlines() == [
        f"ERROR {default_index_dir(tmp_path / 'site')}: the search index holds no articles; "
        "build a site from some"
    ]
