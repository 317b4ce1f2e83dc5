"""A miniature build made of the real publishing parts, for the fault tests: a site of
one page per article, its whoosh index and a cache file, each saying which generation
of the articles it holds, published together (``output.publish``).

Run as a script (``python -m tests.generations ROOT VERSION N [--in-place] [--kill-at
POINT]``) it is a build that can be killed with SIGKILL at a chosen point.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path
from typing import Any

from whoosh import index

from kbsite.incremental.plan import index_note
from kbsite.output import journal
from kbsite.output.lock import LOCK_FILE, site_lock
from kbsite.output.publish import Publish, recover
from kbsite.output.write import SiteWriter
from kbsite.places import cache_folder
from kbsite.search.index import IndexUpdate
from kbsite.search.location import default_index_dir

KILL_POINTS = ("staged", "journal", "first-move", "moves", "clean-up")
"""Where ``--kill-at`` kills: all staged (no journal yet), journal written (no move
yet), after the first move, half the moves made, every move made (clean-up left)."""


def site_of(root: Path) -> Path:
    return root / "site"


def index_of(root: Path) -> Path:
    """The site's own index, where a build puts it (in its cache folder)."""
    return default_index_dir(site_of(root))


def build(
    root: Path, version: str, articles: int, in_place: bool = False, fresh: bool = False
) -> None:
    """Publish generation ``version`` of ``articles`` articles (Q1..QN) under ``root``;
    ``in_place`` rewrites only the pages of the site that change, like an edit's build;
    ``fresh`` writes the index anew."""
    with site_lock(site_of(root)):
        _build(root, version, articles, in_place, fresh)
        print("published", flush=True)


def _build(root: Path, version: str, articles: int, in_place: bool, fresh: bool) -> None:
    output = site_of(root)
    recover(output, index_of(root))
    ids = [f"Q{n}" for n in range(1, articles + 1)]
    publish = Publish(output)
    staged = publish.stage_index(index_of(root), fresh=fresh)
    update = IndexUpdate(staged, {i: version for i in ids}, generation=True)
    for article in sorted(update.stale):
        update.add(
            {"id": article, "order": article.encode(), "title": [version], "_stored_title": version}
        )
    update.finish()
    writer = SiteWriter(output, in_place=in_place)
    old = {p.name for p in (output / "kb").glob("*.html")} if writer.in_place else set()
    for article in ids:
        writer.write_text(f"kb/{article}.html", version)
    writer.write_text("index.html", f"{version} {len(ids)}")
    writer.stale = {f"kb/{name}" for name in old - {f"{i}.html" for i in ids}}
    publish.add_site(writer, {"index": index_note(index_of(root), output)})
    publish.add_index(staged, index_of(root))
    publish.add_files(cache_folder(output), {"build.bin": version.encode()})
    time.sleep(float(os.environ.get("GENERATIONS_PAUSE", "0")))  # for a second build to meet
    publish.run()


def state(root: Path) -> tuple[str, int]:
    """The generation the whole site is (its version, its articles); fails unless the
    pages, the index and the cache all hold that one generation."""
    output = site_of(root)
    pages = {p.stem: p.read_text() for p in (output / "kb").glob("*.html")}
    version, count = (output / "index.html").read_text().split()
    assert set(pages.values()) == {version}, f"pages of several generations: {pages}"
    assert sorted(pages) == sorted(f"Q{n}" for n in range(1, int(count) + 1))
    with index.open_dir(str(index_of(root))).searcher() as searcher:
        stored = {fields["id"]: fields["title"] for fields in searcher.all_stored_fields()}
    assert stored == dict.fromkeys(pages, version), "the index holds another generation"
    cache = (cache_folder(output) / "build.bin").read_text()
    assert cache == version, f"the cache is of generation {cache}, the site of {version}"
    return version, int(count)


def leftovers(root: Path) -> list[str]:
    """Anything under ``root`` besides the site and its cache folder, and in the cache
    folder besides the index, the cache file and the lock."""
    cache = cache_folder(site_of(root))
    found = [p.name for p in root.iterdir() if p not in (site_of(root), cache)]
    if cache.is_dir():
        kept = {"index", "build.bin", LOCK_FILE}
        found += [f"{cache.name}/{p.name}" for p in cache.iterdir() if p.name not in kept]
    return sorted(found)


def kill_at(point: str) -> None:
    """Have this process SIGKILL itself at ``point`` of its publish."""

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    real_write, real_forward, real_clean = (
        journal._write_journal,
        journal._forward,
        journal._clean_up,
    )
    made: list[Any] = []

    def write_journal(path: Path, transfers: list[journal.Transfer], *durable: bool) -> None:
        if point == "staged":
            die()
        real_write(path, transfers, *durable)
        if point == "journal":
            die()

    def forward(transfer: journal.Transfer) -> None:
        real_forward(transfer)
        made.append(transfer)
        if point == "first-move" or (point == "moves" and len(made) == 2):
            die()

    def clean_up(path: Path, transfers: list[journal.Transfer], *durable: bool) -> None:
        if point == "clean-up":
            die()
        real_clean(path, transfers, *durable)

    journal._write_journal = write_journal  # type: ignore[assignment]
    journal._forward = forward  # type: ignore[assignment]
    journal._clean_up = clean_up  # type: ignore[assignment]


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("root", type=Path)
    arguments.add_argument("version")
    arguments.add_argument("articles", type=int)
    arguments.add_argument("--in-place", action="store_true")
    arguments.add_argument("--kill-at", choices=KILL_POINTS)
    given = arguments.parse_args()
    if given.kill_at:
        kill_at(given.kill_at)
    build(given.root, given.version, given.articles, given.in_place)


if __name__ == "__main__":
    main()
