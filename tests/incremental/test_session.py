"""Live rebuilds (``BuildSession``): each edit read from memory and the changed files
alone, the pages shown first, and the site, index and cache on disk what CLI builds
would leave."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kbsite.build import BuildOptions
from kbsite.errors import OutputError
from kbsite.incremental import plan as plan_module
from kbsite.incremental.cache import RACY_SECONDS, cache_path, file_digest, load_cache
from kbsite.incremental.session import SETTLE_SECONDS, BuildSession
from kbsite.output import pages
from kbsite.output.publish import Publish
from kbsite.search.searcher import search

from .test_incremental import age, append_line, assert_same_as_full_build, build

ARTICLE = Path("kb") / "Q200101.html"


@pytest.fixture
def archive(content_copy: Path) -> Path:
    age(content_copy)
    return content_copy


def add_word(article: Path, word: str) -> None:
    text = article.read_text(encoding="cp1252")
    article.write_text(text.replace("RESOLUTION", f"RESOLUTION\n\n{word}.", 1), "cp1252")


def session_of(archive: Path, base: Path, shown: list[float]) -> BuildSession:
    options = BuildOptions([archive], base / "site", index=base / "ix")
    return BuildSession(options, lambda: shown.append(time.monotonic()))


def edited_live(archive: Path, base: Path, line: str) -> tuple[BuildSession, Path]:
    """A built site's session, after one live edit (``line`` added to an article);
    the session and the article."""
    build(archive, base)
    session = session_of(archive, base, [])
    assert session.prime()
    edited = archive / "200" / "Q200101.TXT"
    append_line(edited, line)
    session.rebuild([edited.resolve()])
    return session, edited


def no_disk_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make reading the cache from disk fail the test: a live rebuild holds it."""

    def refused(*_: object) -> None:
        raise AssertionError("the cache was read from disk")

    monkeypatch.setattr("kbsite.incremental.session.plan_reading", refused)


def test_live_edits_give_a_full_builds_site_and_leave_a_cli_build_nothing_to_do(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(archive, tmp_path)
    shown: list[float] = []
    session = session_of(archive, tmp_path, shown)
    assert session.prime()
    no_disk_plan(monkeypatch)
    site = tmp_path / "site"

    edited = archive / "200" / "Q200101.TXT"
    add_word(edited, "Liveword")
    report = session.rebuild([edited.resolve()])
    assert (report.parsed, report.incremental, len(shown)) == (1, True, 1)
    assert "Liveword" in (site / ARTICLE).read_text(encoding="utf-8")
    assert [hit.id for hit in search(tmp_path / "ix", "Liveword").hits] == ["Q200101"]

    text = edited.read_text(encoding="cp1252")
    title = next(line for line in text.splitlines() if line.startswith("TITLE"))
    edited.write_text(text.replace(title, title + " Renamed Live"), "cp1252")
    session.rebuild([edited.resolve()])
    citing = [
        page
        for page in (site / "kb").glob("*.html")
        if 'href="Q200101.html"' in page.read_text(encoding="utf-8") and page.stem != "Q200101"
    ]
    assert citing
    assert all("Renamed Live" in page.read_text(encoding="utf-8") for page in citing)

    added = archive / "200" / "Q200199.TXT"
    model = (archive / "200" / "Q200103.TXT").read_text(encoding="cp1252")
    added.write_text(model.replace("Q200103", "Q200199"), encoding="cp1252")
    session.rebuild([added.resolve()])
    assert (site / "kb" / "Q200199.html").exists()

    (archive / "200" / "Q200102.TXT").unlink()
    report = session.rebuild([(archive / "200" / "Q200102.TXT").resolve()])
    assert report.removed >= 1 and not (site / "kb" / "Q200102.html").exists()
    assert len(shown) == 4

    monkeypatch.setattr("kbsite.incremental.session.SETTLE_SECONDS", RACY_SECONDS)
    time.sleep(RACY_SECONDS + 0.1)  # the edited files are old enough to be trusted
    session.settle()
    written = cache_path(site).stat().st_mtime_ns
    monkeypatch.undo()
    again = build(archive, tmp_path)
    assert (again.parsed, again.written, again.removed) == (0, 0, 0)
    assert cache_path(site).stat().st_mtime_ns == written, "a rebuild with nothing to do"
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def test_the_cache_is_settled_only_after_a_pause_in_the_editing(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving the settled cache takes a while on a large archive, and an edit saved
    meanwhile would wait for it: not while the files are merely old enough to trust."""
    session, _ = edited_live(archive, tmp_path, "A live edit.")
    saved = cache_path(tmp_path / "site").stat().st_mtime_ns
    assert SETTLE_SECONDS > RACY_SECONDS + 1
    time.sleep(RACY_SECONDS + 0.5)
    session.settle()
    assert cache_path(tmp_path / "site").stat().st_mtime_ns == saved, "settled too soon"
    monkeypatch.setattr("kbsite.incremental.session.SETTLE_SECONDS", RACY_SECONDS)
    session.settle()
    assert cache_path(tmp_path / "site").stat().st_mtime_ns != saved, "never settled"


def test_a_cli_build_between_live_edits_is_seen(archive: Path, tmp_path: Path) -> None:
    session, edited = edited_live(archive, tmp_path, "First live edit.")
    append_line(edited, "Edited behind its back.")
    build(archive, tmp_path)  # not through the session, which must not trust its memory
    append_line(archive / "200" / "Q200103.TXT", "Second live edit.")
    session.rebuild([(archive / "200" / "Q200103.TXT").resolve()])
    assert "behind its back" in (tmp_path / "site" / ARTICLE).read_text(encoding="utf-8")
    cache, _ = load_cache(tmp_path / "site")
    assert cache is not None
    assert cache.sources[str(edited)].digest == file_digest(edited.read_bytes())
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def test_a_build_stopped_after_showing_its_pages_is_finished_by_the_next(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(archive, tmp_path)
    shown: list[float] = []
    session = session_of(archive, tmp_path, shown)
    assert session.prime()
    edited = archive / "200" / "Q200101.TXT"
    add_word(edited, "Shownword")
    (archive / "200" / "Q200102.TXT").unlink()

    def stopped(self: Publish) -> None:
        raise OutputError("stopped before the search indexes and cache", self.output)

    monkeypatch.setattr(Publish, "run", stopped)
    changed = [edited.resolve(), (archive / "200" / "Q200102.TXT").resolve()]
    with pytest.raises(OutputError):
        session.rebuild(changed)
    monkeypatch.undo()
    site = tmp_path / "site"
    assert len(shown) == 1
    assert "Shownword" in (site / ARTICLE).read_text(encoding="utf-8")
    assert not (site / "kb" / "Q200102.html").exists()
    assert search(tmp_path / "ix", "Shownword").hits == [], "the index is the old one"
    assert session.held is None, "a failed build leaves nothing in memory"
    again = build(archive, tmp_path)
    assert again.written >= 1, "the page's key in the cache is still the old one"
    assert [hit.id for hit in search(tmp_path / "ix", "Shownword").hits] == ["Q200101"]
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def test_changes_plan_reads_only_the_changed_and_new_files(archive: Path, tmp_path: Path) -> None:
    build(archive, tmp_path)
    session = session_of(archive, tmp_path, [])
    assert session.prime() and session.held is not None
    held = session.held
    first, second = held.inputs.articles[:2]
    plan = plan_module.plan_changes(held.inputs, held.cache, {str(second)}, held.links)
    assert [path for path, _ in plan.todo] == [second]
    assert plan.todo[0][1] == held.cache.sources[str(second)].digest
    assert str(first) in plan.unchanged and not plan.up_to_date
    assert plan_module.plan_changes(held.inputs, held.cache, set(), held.links).up_to_date


def test_a_site_built_just_after_an_edit_is_primed_and_one_changed_since_is_not(
    archive: Path, tmp_path: Path
) -> None:
    edited = archive / "200" / "Q200101.TXT"
    add_word(edited, "Justbefore")
    build(archive, tmp_path)  # the edit is too recent for the cache to trust its time
    assert session_of(archive, tmp_path, []).prime()
    add_word(edited, "Since")
    assert not session_of(archive, tmp_path, []).prime()


def test_an_added_articles_page_is_shown_before_the_archive_is_analyzed_again(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(archive, tmp_path)
    processed: list[str] = []
    process = pages._process_article

    def counted(task: pages.ArticleTask) -> pages.ArticleResult:
        processed.append(task.id)
        return process(task)

    monkeypatch.setattr(pages, "_process_article", counted)
    page = tmp_path / "site" / "kb" / "Q200199.html"
    seen: list[tuple[int, bool]] = []
    options = BuildOptions([archive], tmp_path / "site", index=tmp_path / "ix", jobs=1)
    session = BuildSession(options, lambda: seen.append((len(processed), page.exists())))
    assert session.prime()
    added = archive / "200" / "Q200199.TXT"
    model = (archive / "200" / "Q200103.TXT").read_text(encoding="cp1252")
    added.write_text(model.replace("Q200103", "Q200199"), encoding="cp1252")
    report = session.rebuild([added.resolve()])
    assert report.web_index is not None and not report.web_index.patched, "written whole"
    assert len(seen) == 1 and seen[0][1], "the page was in place when shown"
    assert seen[0][0] < len(processed) == report.articles, "before the others were analyzed"
    assert_same_as_full_build(archive, tmp_path, tmp_path)


def test_an_edited_page_is_in_place_when_shown_and_the_index_follows(
    archive: Path, tmp_path: Path
) -> None:
    build(archive, tmp_path)
    page = tmp_path / "site" / ARTICLE
    seen: list[tuple[bool, list[str]]] = []

    def shown() -> None:
        hits = [hit.id for hit in search(tmp_path / "ix", "Firstword").hits]
        seen.append(("Firstword" in page.read_text(encoding="utf-8"), hits))

    options = BuildOptions([archive], tmp_path / "site", index=tmp_path / "ix")
    session = BuildSession(options, shown)
    assert session.prime()
    edited = archive / "200" / "Q200101.TXT"
    add_word(edited, "Firstword")
    session.rebuild([edited.resolve()])
    assert seen == [(True, [])], "the page first, the search index after"
    assert [hit.id for hit in search(tmp_path / "ix", "Firstword").hits] == ["Q200101"]


def test_a_live_build_killed_once_its_pages_are_shown_is_brought_in_line_by_the_next(
    archive: Path, tmp_path: Path
) -> None:
    build(archive, tmp_path)
    edited = archive / "200" / "Q200101.TXT"
    add_word(edited, "Killedword")
    killed_when_shown = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from kbsite.build import BuildOptions\n"
        "from kbsite.incremental.session import BuildSession\n"
        "archive, base, edited = map(Path, sys.argv[1:])\n"
        "options = BuildOptions([archive], base / 'site', index=base / 'ix')\n"
        "session = BuildSession(options, lambda: os.kill(os.getpid(), signal.SIGKILL))\n"
        "session.rebuild([edited])\n"
    )
    command = [sys.executable, "-c", killed_when_shown, str(archive), str(tmp_path), str(edited)]
    assert subprocess.run(command, check=False).returncode == -signal.SIGKILL
    assert "Killedword" in (tmp_path / "site" / ARTICLE).read_text(encoding="utf-8")
    assert search(tmp_path / "ix", "Killedword").hits == []
    again = build(archive, tmp_path)
    assert again.parsed == 1 and again.written >= 1
    assert [hit.id for hit in search(tmp_path / "ix", "Killedword").hits] == ["Q200101"]
    assert sorted(p.name for p in tmp_path.iterdir() if ".building-" in p.name) == []
    assert_same_as_full_build(archive, tmp_path, tmp_path)
