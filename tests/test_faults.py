"""The fault suite: builds killed, failing or meeting at chosen points end with the old
site or the new one whole, its search index and cache agreeing with it.

The first cases run ``tests/generations.py``, a miniature build made of the real
publishing parts (``output.publish``, ``output.journal``, ``output.lock``,
``search.integrity``); the later ones real ``kbsite build``s of the sample archive
(``tests/killed.py`` kills one at a chosen point), each ending with the old site or one
equal to a clean build, and ``kbsite search`` finding an added article's word exactly
when its page is there.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbsite import cli
from kbsite.errors import OutputError
from kbsite.output.lock import SiteLocked, lock_path, site_lock
from kbsite.output.publish import recover
from kbsite.places import cache_folder
from kbsite.search import integrity
from kbsite.search.index import IndexError_

from .conftest import CONTENT
from .generations import KILL_POINTS, build, index_of, leftovers, site_of, state
from .killed import POINTS

ROOT = Path(__file__).resolve().parents[1]


def run_build(
    root: Path, version: str, articles: int, *options: str, pause: float = 0
) -> subprocess.Popen[str]:
    environment = {**os.environ, "GENERATIONS_PAUSE": str(pause)}
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    return subprocess.Popen(
        [sys.executable, "-m", "tests.generations", str(root), version, str(articles), *options],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("in_place", [False, True], ids=["full", "in-place"])
@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_build_killed_at_any_point_leaves_the_old_site_or_the_next_build_finishes_it(
    tmp_path: Path, point: str, in_place: bool
) -> None:
    build(tmp_path, "v1", 10)
    options = ["--kill-at", point, *(["--in-place"] if in_place else [])]
    with run_build(tmp_path, "v2", 8 if in_place else 12, *options) as killed:
        _, errors = killed.communicate(timeout=60)
    assert killed.returncode == -9, errors
    if point == "staged":
        assert state(tmp_path) == ("v1", 10)
    recover(site_of(tmp_path), index_of(tmp_path))
    assert state(tmp_path) == (("v1", 10) if point == "staged" else ("v2", 8 if in_place else 12))
    assert leftovers(tmp_path) == []
    build(tmp_path, "v3", 9, in_place=in_place)
    assert state(tmp_path) == ("v3", 9)
    assert integrity.damage(index_of(tmp_path)) is None
    assert leftovers(tmp_path) == []


def test_a_full_disk_while_publishing_leaves_the_old_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(tmp_path, "v1", 10)
    real_rename = os.rename
    faults = [OSError(errno.ENOSPC, "No space left on device")]

    def rename(source: str | Path, target: str | Path) -> None:
        if Path(target) == index_of(tmp_path) and faults:  # the new index put in place
            raise faults.pop()
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OutputError, match="No space left on device") as failed:
        build(tmp_path, "v2", 12)
    assert failed.value.path == cache_folder(site_of(tmp_path))  # where the index is
    monkeypatch.undo()
    assert state(tmp_path) == ("v1", 10)
    assert leftovers(tmp_path) == []


def test_a_read_only_site_folder_is_named_and_the_old_site_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(tmp_path, "v1", 10)
    read_only = site_of(tmp_path) / "kb"
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: Path(p) != read_only and real_access(p, m))
    with pytest.raises(OutputError) as failed:
        build(tmp_path, "v2", 12, in_place=True)
    assert str(failed.value) == f"{read_only}: cannot write in this folder: permission denied"
    monkeypatch.undo()
    assert state(tmp_path) == ("v1", 10)
    assert leftovers(tmp_path) == []


def test_a_damaged_index_is_one_line_for_search_and_rebuilt_fresh(tmp_path: Path) -> None:
    build(tmp_path, "v1", 10)
    segment = next(index_of(tmp_path).glob("*.pst"))
    size = segment.stat().st_size
    with segment.open("r+b") as data:
        data.truncate(size // 2)
    why = integrity.damage(index_of(tmp_path))
    assert why == f"{segment.name} is {size // 2:,} bytes, not {size:,}"
    with pytest.raises(integrity.IndexDamaged) as damaged:
        integrity.open_checked(index_of(tmp_path))
    assert str(damaged.value) == (
        f"{index_of(tmp_path)}: the search index is damaged ({why}); run kbsite build to repair it"
    )
    build(tmp_path, "v2", 10, fresh=True)
    assert state(tmp_path) == ("v2", 10)
    assert integrity.damage(index_of(tmp_path)) is None


def test_a_second_build_stops_naming_the_first_which_publishes_whole(tmp_path: Path) -> None:
    build(tmp_path, "v1", 10)
    with run_build(tmp_path, "v2", 12, pause=8) as first:
        assert first.stdout is not None
        deadline = time.monotonic() + 30
        while f'"pid": {first.pid}' not in lock_path(site_of(tmp_path)).read_text(errors="replace"):
            assert time.monotonic() < deadline and first.poll() is None, "it never took the lock"
            time.sleep(0.05)
        holder = rf"another build is writing this site \(pid {first.pid}: kbsite "
        with (
            pytest.raises(SiteLocked, match=holder),
            site_lock(site_of(tmp_path), wait=0.5),
        ):
            pass
        published, errors = first.communicate(timeout=60)
    assert (first.returncode, published) == (0, "published\n"), errors
    assert state(tmp_path) == ("v2", 12)


def test_a_search_of_a_site_with_no_articles_is_one_line(tmp_path: Path) -> None:
    build(tmp_path, "v1", 0)
    with pytest.raises(IndexError_, match="the search index holds no articles"):
        integrity.open_checked(index_of(tmp_path))


# -- real builds of the sample archive --------------------------------------------------

NEW_ID, NEW_WORD = "Q200199", "quillback"
"""An article the faulty build adds, and a word only it holds."""
NEW_ARTICLE = f"""DOCUMENT:{NEW_ID}  02-MAR-2003  [ldb]
TITLE   :PRB: Quillback Replication Stalls on Lighthouse Database 3.0
PRODUCT :Northwind Lighthouse Database
PROD/VER::3.0
KEYWORDS:kbprb kbreplication

======================================================================

SYMPTOMS
========

Quillback replication between two Lighthouse servers stalls after the first
batch. See also Q1000001.
"""
EDITED = Path("200") / "Q200101.TXT"


def kbsite(
    root: Path, *arguments: str, point: str = "none", pause: float = 0
) -> subprocess.Popen[str]:
    """``kbsite ARGUMENTS`` in ``root``, killing itself at ``point`` (``tests/killed.py``)."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    launcher = [sys.executable, "-m", "tests.killed", point, *([str(pause)] if pause else [])]
    return subprocess.Popen(
        [*launcher, "--", *arguments], cwd=root, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finished(root: Path, *arguments: str, point: str = "none") -> tuple[int, str]:
    with kbsite(root, *arguments, point=point) as process:
        _, errors = process.communicate(timeout=120)
    return process.returncode, errors


BUILD = ("build", "content", "-o", "site", "--jobs", "2", "-q")


def site_files(site: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()
    }


def searched(root: Path, word: str) -> list[str]:
    """The ids ``kbsite search`` finds for ``word`` in the site at ``root``."""
    found = subprocess.run(
        [sys.executable, "-m", "kbsite", "search", "--site", "site", "--json", word],
        cwd=root, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True, text=True,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    return [hit["id"] for hit in json.loads(found.stdout)]


def change(root: Path) -> None:
    """What the faulty build builds: an article added, one edited."""
    (root / "content" / "200" / f"{NEW_ID}.TXT").write_text(NEW_ARTICLE, newline="\r\n")
    edited = root / "content" / EDITED
    edited.write_bytes(edited.read_bytes().replace(b"Harbor Mail", b"Harbor Mizzenmast Mail"))


@pytest.fixture(scope="module")
def sample_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A built copy of the sample (to copy for each case), and the files of a clean build
    of it once ``change``d."""
    before = tmp_path_factory.mktemp("before")
    shutil.copytree(CONTENT, before / "content")
    assert finished(before, *BUILD) == (0, "")
    clean = tmp_path_factory.mktemp("clean")
    shutil.copytree(before / "content", clean / "content")
    change(clean)
    assert finished(clean, *BUILD) == (0, "")
    return before, site_files(clean / "site")


@pytest.fixture
def root(tmp_path: Path, sample_builds: tuple[Path, dict[str, bytes]]) -> Path:
    """A private copy of the built sample."""
    copy = tmp_path / "root"
    shutil.copytree(sample_builds[0], copy, symlinks=True)
    return copy


@pytest.fixture
def clean(sample_builds: tuple[Path, dict[str, bytes]]) -> dict[str, bytes]:
    """The files of a clean build of the sample once ``change``d."""
    return sample_builds[1]


def assert_whole(root: Path, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    """The site is the old one or the new one whole, and its search index agrees (once
    ``kbsite search`` finished a publish left half-done)."""
    found = searched(root, NEW_WORD)
    files = site_files(root / "site")
    assert files in (old, new), sorted(set(files.items()) ^ set(new.items()))[:5]
    assert found == ([NEW_ID] if files == new else [])
    assert searched(root, "mizzenmast") == (["Q200101"] if files == new else [])


def assert_new(root: Path, clean: dict[str, bytes]) -> None:
    """The site is the clean build's, its index agrees, nothing is left behind."""
    assert site_files(root / "site") == clean
    assert searched(root, NEW_WORD) == [NEW_ID]
    assert_clean(root)


def assert_clean(root: Path) -> None:
    """Nothing left beside the site and its cache folder, nor in the cache folder besides
    the cache, the index, the postings and the lock."""
    assert sorted(p.name for p in root.iterdir()) == [".site.kbsite-cache", "content", "site"]
    cache = root / ".site.kbsite-cache"
    extra = [p.name for p in cache.iterdir() if not p.name.startswith("postings-")]
    assert sorted(extra) == ["build.bin", "detail.bin", "index", "lock"]


@pytest.mark.parametrize("mode", ["full", "incremental"])
@pytest.mark.parametrize("point", POINTS)
def test_a_real_build_killed_at_any_point_leaves_a_whole_site_agreeing_with_its_index(
    root: Path, clean: dict[str, bytes], point: str, mode: str
) -> None:
    old = site_files(root / "site")
    change(root)
    options = ("--full",) if mode == "full" else ()
    code, errors = finished(root, *BUILD, *options, point=point)
    assert code == -signal.SIGKILL, errors
    assert_whole(root, old, clean)  # kbsite search finishes a publish left half-done
    if point in ("writing", "staged"):
        assert site_files(root / "site") == old
    assert finished(root, *BUILD) == (0, "")
    assert_new(root, clean)


def test_a_second_real_build_stops_naming_the_first_whose_site_is_whole(
    root: Path, clean: dict[str, bytes]
) -> None:
    change(root)
    with kbsite(root, *BUILD, pause=6) as first:
        assert first.stdout is not None
        assert first.stdout.readline() == "publishing\n"  # holding the lock, staged
        code, errors = finished(root, *BUILD)
        assert code == 1
        assert re.fullmatch(
            rf"ERROR site: another build is writing this site \(pid {first.pid}: "
            r"kbsite build content -o site --jobs 2 -q\); wait for it to finish, or stop it\n",
            errors,
        ), errors
        _, first_errors = first.communicate(timeout=120)
    assert first.returncode == 0, first_errors
    assert_new(root, clean)


def test_a_damaged_index_is_one_line_for_search_and_the_next_build_rebuilds_it(
    root: Path, clean: dict[str, bytes]
) -> None:
    old = site_files(root / "site")
    index_dir = root / ".site.kbsite-cache" / "index"
    segment = max(index_dir.glob("*.pst"), key=lambda p: p.stat().st_size)
    size = segment.stat().st_size
    with segment.open("r+b") as data:
        data.truncate(size // 2)
    found = subprocess.run(
        [sys.executable, "-m", "kbsite", "search", "--site", "site", "lighthouse"],
        cwd=root, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True, text=True,
    )  # fmt: skip
    why = f"{segment.name} is {size // 2:,} bytes, not {size:,}"
    assert (found.returncode, found.stderr) == (
        1,
        f"ERROR {index_dir}: the search index is damaged ({why}); run kbsite build to repair it\n",
    )
    code, errors = finished(root, *BUILD[:-1])
    assert code == 0, errors
    assert f"Note: the search index is damaged ({why}); rebuilding it" in errors
    assert integrity.damage(index_dir) is None
    assert site_files(root / "site") == old
    assert "Q1000001" in searched(root, "lighthouse")
    assert_clean(root)


def test_full_always_writes_the_index_anew(root: Path, clean: dict[str, bytes]) -> None:
    old = site_files(root / "site")
    index_dir = root / ".site.kbsite-cache" / "index"
    segments = {p.name for p in index_dir.glob("*.pst")}
    assert finished(root, *BUILD, "--full") == (0, "")
    assert segments.isdisjoint(p.name for p in index_dir.glob("*.pst"))
    assert site_files(root / "site") == old
    assert integrity.damage(index_dir) is None


@pytest.mark.parametrize("damaged", ["build.bin", "detail.bin", "postings"])
def test_damaged_cache_files_are_noticed_and_the_next_site_is_a_clean_one(
    root: Path, clean: dict[str, bytes], damaged: str
) -> None:
    cache = root / ".site.kbsite-cache"
    names = [p.name for p in cache.glob("postings-*")] if damaged == "postings" else [damaged]
    for name in names:  # a postings file per worker
        data = bytearray((cache / name).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (cache / name).write_bytes(bytes(data[: len(data) * 3 // 4]))
    change(root)
    code, errors = finished(root, *BUILD)
    assert code == 0, errors
    assert_new(root, clean)


def test_a_damaged_postings_file_under_an_edit_writes_the_browser_index_whole(
    root: Path, clean: dict[str, bytes]
) -> None:
    for postings in (root / ".site.kbsite-cache").glob("postings-*"):  # one per worker
        postings.write_bytes(b"\0" * postings.stat().st_size)
    edited = root / "content" / EDITED
    edited.write_bytes(edited.read_bytes().replace(b" queue ", b" mizzenmast queue ", 1))
    assert finished(root, *BUILD) == (0, "")
    assert searched(root, "mizzenmast") == ["Q200101"]
    edit = site_files(root / "site")
    assert finished(root, *BUILD, "--full") == (0, "")
    assert site_files(root / "site") == edit


def _in_process_build(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``kbsite build`` in this process, so patches apply; its lines, having failed."""
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli.main, list(BUILD))
    assert result.exit_code == 1, result.output
    return result.output.splitlines()


def test_a_read_only_folder_of_the_site_leaves_the_old_site_and_names_it(
    root: Path, clean: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = site_files(root / "site")
    change(root)
    read_only = root / "site" / "kb"
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: Path(p) != read_only and real_access(p, m))
    assert _in_process_build(root, monkeypatch) == [
        f"ERROR {read_only}: cannot write in this folder: permission denied"
    ]
    monkeypatch.undo()
    assert_whole(root, old, {})
    assert site_files(root / "site") == old
    assert_clean(root)


def test_a_full_disk_half_way_through_the_publish_is_undone(
    root: Path, clean: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = site_files(root / "site")
    change(root)
    real_replace, moved = os.replace, []

    def replace(source: str | Path, target: str | Path) -> None:
        if ".building-" in str(source) and Path(target).suffix == ".html":
            moved.append(target)
            if len(moved) == 3:  # two pages of the site replaced already
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    lines = _in_process_build(root, monkeypatch)
    monkeypatch.undo()
    folder = Path(moved[-1]).parent
    assert lines == [f"ERROR {folder}: cannot publish: No space left on device"]
    assert_whole(root, old, {})
    assert site_files(root / "site") == old
    assert_clean(root)
