"""The build as a whole: bad files are reported and skipped, duplicates resolved."""

from __future__ import annotations

import shutil
from pathlib import Path

from kbsite.build import BuildOptions, build_site
from kbsite.errors import Level
from kbsite.model import Article
from kbsite.read.load import load_articles
from kbsite.report import BuildReport
from kbsite.search.index import order_key
from kbsite.search.work import SearchState, archive_order
from kbsite.site.link import article_record

CYCLE = Path(__file__).parent / "sites" / "cycle"


def test_a_broken_file_is_reported_and_the_rest_is_built(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(CYCLE, source)
    (source / "junk.txt").write_bytes(b"\x00\xff binary junk \x81")
    (source / "empty.TXT").write_bytes(b"")
    report = build_site(BuildOptions([source], tmp_path / "out"))
    assert report.articles == 3
    assert report.errors == 2
    messages = sorted(str(p) for p in report.problems)
    assert messages == [
        f"{source / 'empty.TXT'}:1: error: empty file: no article in it",
        f"{source / 'junk.txt'}:1: error: binary file, not text (byte 0x00 at offset 0)",
    ]
    assert sorted(p.name for p in (tmp_path / "out" / "kb").iterdir()) == [
        "Q300001.html",
        "Q300002.html",
        "Q300003.html",
    ]


def test_duplicate_ids_keep_the_newer_article_and_name_both_files(tmp_path: Path) -> None:
    older = tmp_path / "a" / "Q300001.TXT"
    newer = tmp_path / "b" / "Q300001.TXT"
    for path in (older, newer):
        path.parent.mkdir()
    text = (CYCLE / "Q300001.TXT").read_bytes()
    older.write_bytes(text)
    newer.write_bytes(text.replace(b"01-MAR-2001", b"01-MAR-2002").replace(b"First", b"Newer"))
    report = BuildReport()
    articles = load_articles([newer, older], 1, report)
    assert [a.title for a in articles] == ["FIX: Newer Article in the Cycle"]
    assert [(p.level, str(p)) for p in report.problems] == [
        (
            Level.WARNING,
            f"{older}: warning: duplicate article id Q300001: also in {newer}; "
            f"keeping {newer} (newer)",
        )
    ]


def test_archive_order_after_an_edit_is_the_cached_one_else_sorted(
    content_articles: dict[str, Article],
) -> None:
    records = [article_record(a) for a in reversed(content_articles.values())]
    keys, ordered = archive_order(records)
    assert keys == sorted(order_key(r) for r in records)
    assert [order_key(r) for r in ordered] == keys
    previous = SearchState(ids=[r.id for r in ordered], order=keys)
    assert archive_order(records[::-1], previous) == (keys, ordered)
    previous.order = [f"cached {n}" for n in range(len(keys))]
    assert archive_order(records, previous) == (previous.order, ordered)  # not sorted again
    previous = SearchState(ids=[r.id for r in ordered[1:]] + ["Q1"], order=keys)
    assert archive_order(records, previous) == (keys, ordered)  # an unknown id: sorted anew
