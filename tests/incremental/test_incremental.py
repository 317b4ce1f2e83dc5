"""Rebuilds: the build cache, pages rewritten only when what they show changed, and the
result always the same as a fresh full build's."""

from __future__ import annotations

import json
import marshal
import os
import shutil
import time
from pathlib import Path

import pytest

from kbsite.build import BuildOptions, build_site
from kbsite.config import Config
from kbsite.incremental.cache import (
    cache_folder,
    cache_path,
    detail_path,
    load_cache,
    load_cache_detail,
)
from kbsite.report import BuildReport
from kbsite.search.searcher import search
from kbsite.search.webindex import _read_script
from kbsite.search.work import POSTINGS_FILES

HOUR = 3600


def age(folder: Path, seconds: int = HOUR) -> None:
    """Date every file in ``folder`` back, as if written long before the next build."""
    then = time.time() - seconds
    for path in folder.rglob("*"):
        os.utime(path, (then, then))


def build(source: Path, base: Path, **options: object) -> BuildReport:
    return build_site(BuildOptions([source], base / "site", index=base / "ix", **options))  # type: ignore[arg-type]


def append_line(article: Path, line: str = "More.") -> None:
    article.write_text(article.read_text(encoding="cp1252") + f"\n{line}\n", "cp1252")


def files(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def search_content(site: Path) -> tuple[object, ...]:
    """The browser's index as data: its term shards merged, its documents, its meta.

    A patched index keeps its shard boundaries where a fresh build may split anew, so
    the shards are compared by what they hold, not byte for byte.
    """
    terms: dict[str, object] = {}
    for shard in sorted((site / "search" / "t").glob("*.js")):
        terms.update(_read_script(shard))
    meta = _read_script(site / "search" / "meta.js")
    meta.pop("termShards")
    docs = [_read_script(d) for d in sorted((site / "search" / "d").glob("*.js"))]
    return terms, meta, docs, (site / "search" / "sort.js").read_bytes()


def assert_same_as_full_build(source: Path, base: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    build(source, fresh, full=True)
    built, expected = files(base / "site"), files(fresh / "site")
    assert sorted(built) == sorted(expected)
    assert search_content(base / "site") == search_content(fresh / "site")
    differing = [
        name
        for name in built
        if built[name] != expected[name] and not name.startswith(("search/t/", "search/meta"))
    ]
    assert differing == []
    words = "words.txt"
    assert (base / "ix" / words).read_text() == (fresh / "ix" / words).read_text()


@pytest.fixture
def archive(content_copy: Path) -> Path:
    age(content_copy)
    return content_copy


def test_a_rebuild_with_nothing_changed_reads_and_writes_nothing(
    archive: Path, tmp_path: Path
) -> None:
    (archive / "copies").mkdir()
    shutil.copy(archive / "200" / "Q200104.TXT", archive / "copies")
    age(archive)
    first = build(archive, tmp_path)
    assert not first.incremental
    assert any("duplicate article id Q200104" in str(p) for p in first.problems)
    age(tmp_path / "site")
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "site").rglob("*")}
    again = build(archive, tmp_path)
    assert again.incremental
    assert (again.parsed, again.written, again.removed) == (0, 0, 0)
    assert again.pages == first.pages
    assert again.index is not None and again.index.unchanged == first.articles
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "site").rglob("*")} == before
    assert [str(p) for p in again.problems] == [str(p) for p in first.problems]


def test_a_lost_or_moved_search_index_is_made_again_though_no_article_changed(
    archive: Path, tmp_path: Path
) -> None:
    first = build(archive, tmp_path)
    shutil.rmtree(tmp_path / "ix")
    again = build(archive, tmp_path)
    assert again.index is not None and again.index.added == first.articles
    assert search(tmp_path / "ix", "driver")
    moved = build_site(BuildOptions([archive], tmp_path / "site", index=tmp_path / "ix2"))
    assert moved.index is not None and moved.index.added == first.articles
    assert json.loads((tmp_path / "site" / ".kbsite-site").read_text())["index"] == "../ix2"


def test_a_touched_file_is_read_again_and_no_page_is_rewritten(
    archive: Path, tmp_path: Path
) -> None:
    build(archive, tmp_path)
    os.utime(archive / "200" / "Q200105.TXT")
    age(archive, HOUR)  # not within the racy window of the next build
    touched = build(archive, tmp_path)
    assert (touched.parsed, touched.written) == (0, 0)
    cached, _ = load_cache(tmp_path / "site")
    assert cached is not None
    state = cached.sources[str(archive / "200" / "Q200105.TXT")]
    assert state.mtime_ns == (archive / "200" / "Q200105.TXT").stat().st_mtime_ns


def test_a_body_edit_rewrites_only_that_page_and_the_search_shards_of_its_words(
    archive: Path, tmp_path: Path
) -> None:
    build(archive, tmp_path)
    article = archive / "200" / "Q200105.TXT"
    text = article.read_text(encoding="cp1252")
    article.write_text(text.replace("RESOLUTION", "RESOLUTION\n\nZanzibarquux.", 1), "cp1252")
    written_before = {p: p.stat().st_mtime_ns for p in (tmp_path / "site").rglob("*.html")}
    report = build(archive, tmp_path)
    assert report.incremental and report.parsed == 1
    changed_html = sorted(
        p.relative_to(tmp_path / "site").as_posix()
        for p, mtime in written_before.items()
        if p.stat().st_mtime_ns != mtime
    )
    assert changed_html == ["kb/Q200105.html"]
    assert report.web_index is not None and report.web_index.patched
    assert report.written == 1 + report.web_index.files
    assert report.web_index.term_shards <= 3
    assert [h.id for h in search(tmp_path / "ix", "zanzibarquux").hits] == ["Q200105"]
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def cached_page_keys(base: Path) -> dict[str, str]:
    cache, why = load_cache(base / "site")
    assert cache is not None and why is None
    assert load_cache_detail(base / "site", cache) is None
    return cache.pages


def test_a_body_edit_keeps_every_other_page_key_as_a_full_build_makes_it(
    archive: Path, tmp_path: Path
) -> None:
    """No link changed, so the rebuild takes the keys of the pages made from the site
    graph from the cache rather than making them again: they must be a full build's."""
    build(archive, tmp_path)
    append_line(archive / "200" / "Q200102.TXT", "Zanzibarquux.")
    build(archive, tmp_path)
    build(archive, tmp_path / "fresh", full=True)
    assert cached_page_keys(tmp_path) == cached_page_keys(tmp_path / "fresh")
    cited = archive / "200" / "Q200101.TXT"
    text = cited.read_text(encoding="cp1252")
    title_line = next(line for line in text.splitlines() if line.startswith("TITLE"))
    cited.write_text(text.replace(title_line, title_line + " Renamed"), "cp1252")
    report = build(archive, tmp_path)
    assert report.written > 2
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def test_a_markdown_page_edit_rewrites_that_page(archive: Path, tmp_path: Path) -> None:
    build(archive, tmp_path)
    page = archive / "about.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nA new closing line.\n", "utf-8")
    report = build(archive, tmp_path)
    assert report.incremental and report.written == 1
    written = [
        p
        for p in (tmp_path / "site").rglob("*.html")
        if "A new closing line." in p.read_text("utf-8")
    ]
    assert [p.name for p in written] == ["about.html"]
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def test_a_title_edit_rewrites_the_pages_that_show_the_title(archive: Path, tmp_path: Path) -> None:
    build(archive, tmp_path)
    cited = archive / "200" / "Q200101.TXT"
    text = cited.read_text(encoding="cp1252")
    title_line = next(line for line in text.splitlines() if line.startswith("TITLE"))
    cited.write_text(text.replace(title_line, title_line + " Renamed"), "cp1252")
    report = build(archive, tmp_path)
    assert report.incremental
    assert 1 < report.written < report.pages
    citing = [
        page
        for page in (tmp_path / "site" / "kb").glob("*.html")
        if 'href="Q200101.html"' in page.read_text(encoding="utf-8") and page.stem != "Q200101"
    ]
    assert citing
    for page in citing:
        assert "Renamed" in page.read_text(encoding="utf-8")
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def test_added_and_deleted_articles_give_the_same_site_as_a_full_build(
    archive: Path, tmp_path: Path
) -> None:
    build(archive, tmp_path)
    new = archive / "200" / "Q200199.TXT"
    text = (archive / "200" / "Q200103.TXT").read_text(encoding="cp1252")
    new.write_text(text.replace("Q200103", "Q200199"), encoding="cp1252")
    report = build(archive, tmp_path)
    assert report.incremental and report.parsed == 1
    assert (tmp_path / "site" / "kb" / "Q200199.html").exists()
    assert_same_as_full_build(archive, tmp_path, tmp_path)
    (archive / "200" / "Q200102.TXT").unlink()
    report = build(archive, tmp_path)
    assert report.incremental and report.removed >= 1
    assert not (tmp_path / "site" / "kb" / "Q200102.html").exists()
    assert "Q200102" not in [hit.id for hit in search(tmp_path / "ix", "Q200102").hits]
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def test_changed_settings_or_templates_rewrite_every_page(archive: Path, tmp_path: Path) -> None:
    first = build(archive, tmp_path)
    retitled = build(archive, tmp_path, settings=Config(title="Another Archive"))
    assert not retitled.incremental and retitled.written == retitled.pages == first.pages
    assert any("templates or settings changed" in note for note in retitled.notes)
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "static").mkdir()
    (theme / "static" / "extra.css").write_text("body { color: teal }\n")
    themed = build(archive, tmp_path, settings=Config(title="Another Archive", templates=theme))
    assert not themed.incremental and themed.written == themed.pages
    assert (tmp_path / "site" / "static" / "extra.css").exists()


def assert_an_edit_rebuilds_from_scratch(
    archive: Path, tmp_path: Path, damaged: Path
) -> BuildReport:
    """After the cache file ``damaged`` was spoilt, an edit gives a full build that says why."""
    append_line(archive / "200" / "Q200104.TXT")
    report = build(archive, tmp_path)
    assert not report.incremental
    assert len(report.notes) == 1 and str(damaged) in report.notes[0]
    assert report.written == report.pages
    assert_same_as_full_build(archive, tmp_path, tmp_path)
    return report


@pytest.mark.parametrize(
    "damage",
    ["truncated", "garbage", "other version", "edited", "wrong shape", "empty"],
)
def test_a_damaged_or_foreign_cache_is_ignored(archive: Path, tmp_path: Path, damage: str) -> None:
    build(archive, tmp_path)
    path = cache_path(tmp_path / "site")
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(2000))
    elif damage == "other version":
        fields = json.loads(header)
        fields["kbsite"] = "0.0.1"
        path.write_bytes(json.dumps(fields).encode() + b"\n" + body)
    elif damage == "edited":
        path.write_bytes(header + b"\n" + body.replace(b"Q200101", b"Q200109", 1))
    elif damage == "wrong shape":
        from kbsite.incremental.cache import file_digest

        fields = json.loads(header)
        bad = marshal.dumps({"renderer": 1, "sources": []})
        fields["digest"] = file_digest(bad)
        path.write_bytes(json.dumps(fields).encode() + b"\n" + bad)
    else:
        path.write_bytes(b"")
    assert load_cache(tmp_path / "site")[0] is None
    assert_an_edit_rebuilds_from_scratch(archive, tmp_path, path)
    assert load_cache(tmp_path / "site")[0] is not None


@pytest.mark.parametrize("damage", ["missing", "edited"])
def test_a_damaged_cache_detail_is_found_when_an_edit_needs_it(
    archive: Path, tmp_path: Path, damage: str
) -> None:
    build(archive, tmp_path)
    detail = detail_path(tmp_path / "site")
    if damage == "missing":
        detail.unlink()
    else:
        detail.write_bytes(detail.read_bytes().replace(b"Q200101", b"Q200109", 1))
    report = assert_an_edit_rebuilds_from_scratch(archive, tmp_path, detail)
    assert report.parsed == report.articles
    again = build(archive, tmp_path)
    assert again.incremental and again.notes == [] and again.written == 0


def test_an_edit_within_the_same_second_as_the_last_build_is_seen(
    content_copy: Path, tmp_path: Path
) -> None:
    """Same size, same modification time: only the content digest can tell."""
    article = content_copy / "200" / "Q200106.TXT"
    os.utime(article)
    build(content_copy, tmp_path)
    stat = article.stat()
    data = article.read_bytes()
    index = data.index(b"the ")
    article.write_bytes(data[:index] + b"THE " + data[index + 4 :])
    os.utime(article, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    report = build(content_copy, tmp_path)
    assert report.incremental and report.parsed == 1
    assert_same_as_full_build(content_copy, tmp_path, tmp_path)


def test_a_lost_search_state_makes_the_browser_index_whole_again(
    archive: Path, tmp_path: Path
) -> None:
    build(archive, tmp_path)
    for postings in cache_folder(tmp_path / "site").glob(POSTINGS_FILES):
        postings.unlink()
    article = archive / "200" / "Q200107.TXT"
    append_line(article, "Appendix.")
    report = build(archive, tmp_path)
    assert report.web_index is not None and not report.web_index.patched
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def test_one_job_and_two_jobs_write_the_same_bytes(corpus: Path, tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    sample.mkdir()
    for path in sorted(corpus.rglob("*.TXT"))[:400]:
        shutil.copy(path, sample / path.name)
    shutil.copytree(Path(__file__).parents[2] / "content", sample / "content")
    one = build(sample, tmp_path / "one", jobs=1)
    two = build(sample, tmp_path / "two", jobs=2)
    assert one.pages == two.pages > 400
    assert files(tmp_path / "one" / "site") == files(tmp_path / "two" / "site")
    assert (tmp_path / "one" / "ix" / "words.txt").read_bytes() == (
        tmp_path / "two" / "ix" / "words.txt"
    ).read_bytes()
