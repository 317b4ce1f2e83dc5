"""A build that is killed or interrupted midway leaves the previous site and its search
index exactly as they were, and the next build cleans up after it.

The archive is the bundled sample replicated to a few thousand articles, so a build
takes long enough to be stopped while it writes pages and while it rebuilds the index.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kbsite.build import BuildOptions, build_site
from kbsite.search.location import default_index_dir
from kbsite.search.searcher import index_dir_for_site, search

CONTENT = Path(__file__).parents[1] / "content"
ARTICLES = 2500
"""Enough that a build runs for seconds, time to stop it while it writes and indexes."""
DOCUMENT_ID = re.compile(r"(DOCUMENT\s*:\s*)Q\d+", re.IGNORECASE)


def replicate_content(target: Path, count: int, edition: str = "") -> None:
    """``count`` articles made from the sample's, renumbered from Q500000; ``edition``
    goes in front of every title, to change them all."""
    samples = sorted(p for p in CONTENT.rglob("*") if p.suffix.upper() == ".TXT")
    target.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        text = samples[n % len(samples)].read_bytes().decode("cp1252")
        number = f"Q{500000 + n}"
        text = DOCUMENT_ID.sub(lambda m, q=number: m.group(1) + q, text, count=1)
        text = re.sub(r"(?m)^(TITLE\s*:)", lambda m: m.group(1) + edition, text, count=1)
        (target / f"{number}.TXT").write_bytes(text.encode("cp1252"))


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.blake2b(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def previous_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished build of the replicated archive: sources, site and index."""
    base = tmp_path_factory.mktemp("previous")
    replicate_content(base / "archive", ARTICLES)
    build_site(BuildOptions([base / "archive"], base / "site", jobs=2))
    return base


@pytest.fixture
def workspace(previous_build: Path, tmp_path: Path) -> Path:
    shutil.copytree(previous_build, tmp_path, dirs_exist_ok=True, symlinks=True)
    return tmp_path


def start_build(workspace: Path) -> subprocess.Popen[str]:
    """``kbsite build`` in its own process group, as a terminal would run it."""
    return subprocess.Popen(
        [sys.executable, "-m", "kbsite", "build", "-q", "archive", "-o", "site", "-j", "2"],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(build: subprocess.Popen[str]) -> tuple[str, str]:
    """The build's output once it has ended, and every process it started with it.

    A build that does not end is killed, so it cannot outlive the test."""
    try:
        return build.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(build.pid, signal.SIGKILL)
        stdout, stderr = build.communicate()
        raise AssertionError(
            f"the build went on after the signal\nstdout: {stdout!r}\nstderr: {stderr!r}"
        ) from None


def wait_for(condition: Callable[[], bool], build: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert build.poll() is None, "the build ended before it could be stopped"
        assert time.monotonic() < deadline, "the build never reached the point to stop it"
        time.sleep(0.05)


def writing_pages(workspace: Path) -> Callable[[], bool]:
    def check() -> bool:
        return any(len(list(p.glob("kb/*.html"))) > 200 for p in workspace.glob(".site.building-*"))

    return check


def rebuilding_index(workspace: Path) -> Callable[[], bool]:
    def check() -> bool:
        return any(any(p.iterdir()) for p in index_of(workspace).parent.glob(".index.building-*"))

    return check


def index_of(workspace: Path) -> Path:
    return default_index_dir(workspace / "site")


def leftovers(workspace: Path) -> list[str]:
    return sorted(p.name for p in workspace.iterdir() if p.name.startswith("."))


def test_a_killed_build_leaves_the_previous_site_and_the_next_build_cleans_up(
    workspace: Path,
) -> None:
    site_before = snapshot(workspace / "site")
    index_before = snapshot(index_of(workspace))
    replicate_content(workspace / "archive", ARTICLES + 1)
    build = start_build(workspace)
    wait_for(writing_pages(workspace), build)
    os.killpg(build.pid, signal.SIGKILL)
    finish(build)

    assert snapshot(workspace / "site") == site_before
    assert snapshot(index_of(workspace)) == index_before
    hits = search(index_dir_for_site(workspace / "site"), "Q500007", 1).hits
    assert [hit.id for hit in hits] == ["Q500007"]
    assert any(name.startswith(".site.building-") for name in leftovers(workspace))

    report = build_site(BuildOptions([workspace / "archive"], workspace / "site", jobs=2))
    assert report.errors == 0 and report.articles == ARTICLES + 1
    assert leftovers(workspace) == [".site.kbsite-cache"]
    assert (workspace / "site" / "kb" / f"Q{500000 + ARTICLES}.html").is_file()


@pytest.mark.parametrize(
    ("signum", "stop_when"),
    [(signal.SIGINT, rebuilding_index), (signal.SIGTERM, writing_pages)],
    ids=["ctrl-c-while-indexing", "sigterm-while-writing"],
)
def test_an_interrupted_build_says_so_and_changes_nothing(
    workspace: Path, signum: int, stop_when: Callable[[Path], Callable[[], bool]]
) -> None:
    site_before = snapshot(workspace / "site")
    index_before = snapshot(index_of(workspace))
    replicate_content(workspace / "archive", ARTICLES, edition="Revised: ")
    build = start_build(workspace)
    wait_for(stop_when(workspace), build)
    os.killpg(build.pid, signum)
    stdout, stderr = finish(build)

    assert build.returncode == 128 + signum, f"stdout: {stdout!r}\nstderr: {stderr!r}"
    assert stderr.strip().splitlines() == [
        f"Interrupted ({signal.Signals(signum).name}); the previous site, if any, is unchanged."
    ]
    assert stdout == ""
    assert snapshot(workspace / "site") == site_before
    assert snapshot(index_of(workspace)) == index_before
    assert leftovers(workspace) == [".site.kbsite-cache"]
    with pytest.raises(ProcessLookupError):
        os.killpg(build.pid, 0)  # no worker process outlives the build
