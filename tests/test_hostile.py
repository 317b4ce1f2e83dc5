"""Hostile and broken input, end to end: each case in ``fixtures/hostile`` builds into a
page or a clear problem, never a traceback, and nothing from an article becomes markup,
script or a path.

The cases that cannot live in git (a multi-megabyte line, an unreadable file) are made
by the ``hostile_source`` fixture next to a copy of the folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from kbsite.build import BuildOptions, build_site
from kbsite.cli import main
from kbsite.render.renderer import SEARCH_BUNDLE, SEARCH_META
from kbsite.report import BuildReport

from .search.test_search_js import serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"

LONG_LINE_WORDS = 300_000
"""About 2 MB on one line."""

OUTCOMES: dict[str, tuple[str | None, list[str]]] = {
    # file: (the page it gives, or None; the problems it gives, as "level: message" regexes)
    "Q310001.TXT": ("Q310001", []),
    "empty.TXT": (None, [r"1: error: empty file"]),
    "binary.TXT": (None, [r"1: error: binary file, not text \(byte 0x00 at offset 5\)"]),
    "Q310004.TXT": ("Q310004", [r"5: warning: article has no body"]),
    "Q310005.TXT": ("Q310005", [r"1: warning: article has no TITLE; using its first heading"]),
    "Q310006.TXT": (
        "Q310006",
        [
            r"2: warning: misspelled header field 'TITEL', read as TITLE",
            r"3: warning: misspelled header field 'PRODCUT', read as PRODUCT",
            r"4: warning: misspelled header field 'KEYWRODS', read as KEYWORDS",
        ],
    ),
    "old/Q310007.TXT": (
        None,
        [r"warning: duplicate article id Q310007: also in .*new/Q310007.TXT; keeping .*new"],
    ),
    "new/Q310007.TXT": ("Q310007", []),
    "Q310008.TXT": ("Q310008", []),
    "Q310009.TXT": ("Q310009", []),
    "Q310010.TXT": ("Q310010", []),
    "Q310011.TXT": ("Q310011", []),
    "Q310012.TXT": (
        "Q310012",
        [r"1: error: invalid article id 'Q310012/\.\./\.\./escape'; using Q310012 from the file"],
    ),
    "Q310013.TXT": (None, [r"error: cannot read file: No such file or directory"]),
    "traversal.TXT": (None, [r"1: error: invalid article id '\.\./\.\./\.\./pwned'"]),
    "Q310014.TXT": ("Q310014", []),
    "notes.txt": (None, [r"1: error: not a KB article"]),
    "Q310015.TXT": ("Q310015", []),
    "Q310016.TXT": ("Q310016", [r"1: warning: no DOCUMENT line; using the id Q310016"]),
    "Q310017.TXT": ("Q310017", [r"1: warning: article has no TITLE; using its id as the title"]),
    "Q310018.TXT": ("Q310018", []),
    "Q123456789.TXT": (None, [r"1: error: invalid article id 'Q123456789'"]),
    "Q310019.TXT": ("Q310019", [r"2: warning: no '=====' rule after the header"]),
    "Q310020.TXT": ("Q310020", [r"1: warning: unreadable date '31-FEB-2001'"]),
}


@pytest.fixture(scope="module")
def hostile_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("hostile") / "archive"
    shutil.copytree(HOSTILE, source)
    words = " ".join(f"ledgerword{n % 997}" for n in range(LONG_LINE_WORDS))
    (source / "Q310008.TXT").write_text(
        "DOCUMENT:Q310008  22-JUN-2001  [ledger]\nTITLE   :A Report Exported as One Line\n\n"
        + "=" * 70
        + f"\n\n{words} lastwordofthelongline\n",
        encoding="utf-8",
    )
    (source / "Q310013.TXT").symlink_to(source / "nowhere" / "Q310013.TXT")
    return source


@pytest.fixture(scope="module")
def hostile_build(
    hostile_source: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, BuildReport]:
    output = tmp_path_factory.mktemp("hostile-site") / "site"
    return output, build_site(BuildOptions([hostile_source], output, jobs=2))


def test_every_case_gives_its_page_or_its_problem(
    hostile_source: Path, hostile_build: tuple[Path, BuildReport]
) -> None:
    site, report = hostile_build
    problems = [str(p) for p in report.problems]
    for name, (page, expected) in OUTCOMES.items():
        path = hostile_source / name
        mine = [p for p in problems if p.startswith(f"{path}:")]
        assert len(mine) == len(expected), (name, mine)
        for line, pattern in zip(mine, expected, strict=True):
            assert re.search(pattern, line), (name, line)
        if page is not None:
            assert (site / "kb" / f"{page}.html").is_file(), name
    assert sorted(problems) == sorted(
        p for name in OUTCOMES for p in problems if p.startswith(f"{hostile_source / name}:")
    ), "a problem from a file not in OUTCOMES"
    pages = sorted(p.stem for p in (site / "kb").glob("*.html"))
    assert pages == sorted({page for page, _ in OUTCOMES.values() if page})
    assert report.articles == len(pages)


def test_every_source_file_is_a_case(hostile_source: Path) -> None:
    files = {p.relative_to(hostile_source).as_posix() for p in hostile_source.rglob("*")}
    assert {f for f in files if f.upper().endswith(".TXT")} == set(OUTCOMES)


def test_recovered_articles_keep_their_text(hostile_build: tuple[Path, BuildReport]) -> None:
    site, _ = hostile_build

    def text(article_id: str) -> str:
        return (site / "kb" / f"{article_id}.html").read_text(encoding="utf-8")

    assert "<h1>Moving the Ledger Journal to Another Drive</h1>" in text("Q310005")
    assert "<h1>Ledger Setup Stops at 42 Percent</h1>" in text("Q310006")
    assert "revised version" in text("Q310007") and "first version" not in text("Q310007")
    assert "lastwordofthelongline" in text("Q310008")
    assert "Zürich" in text("Q310009")
    assert "café’s report shows ‘quotes’ and an en dash –" in text("Q310010")
    assert "a lone CR," in text("Q310011") and "as old Macintosh editors did" in text("Q310011")
    assert "Ωmega" in text("Q310014")
    assert "\u241b&amp;l1O" in text("Q310018")


def test_article_text_never_becomes_markup(hostile_build: tuple[Path, BuildReport]) -> None:
    site, _ = hostile_build
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        audit = MarkupAudit()
        audit.feed(html)
        assert audit.problems == [], page
        assert "<svg" not in html or page.name == "stats.html", page
        assert audit.csp, f"{page} has no Content-Security-Policy"
    article = (site / "kb" / "Q310001.html").read_text(encoding="utf-8")
    assert "{{ config }}" in article and "{{ 7*7 }}" in article
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in article
    assert "&amp;lt;b&amp;gt; stays as typed" in article


def test_nothing_is_written_outside_the_output(hostile_build: tuple[Path, BuildReport]) -> None:
    site, _ = hostile_build
    beside = sorted(p.name for p in site.parent.iterdir())
    assert beside == [".site.kbsite-cache", "site"]
    for folder, dirs, files in os.walk(site):
        for name in dirs + files:
            path = Path(folder, name)
            assert not path.is_symlink()
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*|\.kbsite-site", name), path
    assert not (site / "kb" / "pwned.html").exists()
    assert (site / "product" / "index.html").is_file()


def test_check_reports_the_same_problems_and_writes_nothing(
    hostile_source: Path,
    hostile_build: tuple[Path, BuildReport],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, report = hostile_build
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "-q", str(hostile_source)])
    assert result.exit_code == 1
    printed = [line for line in result.stderr.splitlines() if line]
    assert sorted(printed) == sorted(str(p) for p in report.problems)
    assert result.stdout.startswith(f"Checked {report.articles} articles: 7 errors, 10 warnings,")
    assert list(tmp_path.iterdir()) == []


def test_check_strict_fails_on_warnings_only(tmp_path: Path) -> None:
    shutil.copy(HOSTILE / "Q310004.TXT", tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["check", "-q", str(tmp_path)]).exit_code == 0
    strict = runner.invoke(main, ["check", "-q", "--strict", str(tmp_path)])
    assert strict.exit_code == 1
    assert "warning: article has no body" in strict.stderr


class MarkupAudit(HTMLParser):
    """Collects anything in a page that could run or load something kbsite did not put
    there: inline or foreign scripts, event handlers, script URLs, embedded content."""

    ALLOWED_SCRIPTS = re.compile(
        r"(/|(\.\./)*)("
        + "|".join(map(re.escape, (SEARCH_BUNDLE, SEARCH_META, "static/theme.js")))
        + ")"
    )
    FORBIDDEN_TAGS = frozenset(
        {"iframe", "object", "embed", "style", "base", "img", "frame", "applet"}
    )
    URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data", "srcset"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.csp = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in self.FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script":
            self._in_script = True
            if not self.ALLOWED_SCRIPTS.fullmatch(values.get("src", "")):
                self.problems.append(f"script {values}")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.problems.append("meta refresh")
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.csp = "script-src 'self'" in values.get("content", "")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            scheme = re.sub(r"[\s\x00-\x1f]", "", value).lower().split(":", 1)[0]
            if name in self.URL_ATTRIBUTES and scheme in {"javascript", "vbscript", "data"}:
                self.problems.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data[:40]!r}")


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<script src="http://evil.example/x.js"></script>',
        '<p onclick="x()">',
        '<a href=" JaVaScRiPt:alert(1)">',
        '<a href="data:text/html,x">',
        "<img src=x>",
        '<meta http-equiv="refresh" content="0">',
    ],
)
def test_the_audit_catches_live_markup(html: str) -> None:
    audit = MarkupAudit()
    audit.feed(html)
    assert audit.problems


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files and folders whatever their mode")
def test_unreadable_file_and_folder_are_errors(tmp_path: Path) -> None:
    source = tmp_path / "archive"
    (source / "locked").mkdir(parents=True)
    shutil.copy(HOSTILE / "Q310009.TXT", source / "locked")
    shutil.copy(HOSTILE / "Q310010.TXT", source)
    shutil.copy(HOSTILE / "Q310011.TXT", source)
    (source / "Q310011.TXT").chmod(0)
    (source / "locked").chmod(0)
    try:
        report = build_site(BuildOptions([source], tmp_path / "site"))
    finally:
        (source / "locked").chmod(0o755)
    messages = sorted(str(p) for p in report.problems)
    assert messages == [
        f"{source / 'Q310011.TXT'}: error: cannot read file: Permission denied",
        f"{source / 'locked'}: error: cannot list folder: Permission denied; "
        "its articles are skipped",
    ]
    assert report.articles == 1


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_pages_obey_their_content_security_policy(
    browser: Browser, hostile_build: tuple[Path, BuildReport], scheme: str
) -> None:
    site, _ = hostile_build
    with contextlib.ExitStack() as stack:
        base = site.as_uri() + "/" if scheme == "file" else stack.enter_context(serve(site))
        context = browser.new_context()
        stack.callback(context.close)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        refused: list[str] = []
        tab.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
        tab.on("dialog", lambda d: refused.append(f"dialog {d.message}"))
        for path in ("index.html", "kb/Q310001.html?q=script", "search.html?q=alert+script"):
            tab.goto(base + path)
            tab.wait_for_load_state("load")
        tab.wait_for_function("() => document.querySelectorAll('#kb-results li').length > 0")
        assert refused == [], "the site's own pages broke their policy"
        injected = tab.evaluate(
            """() => { const s = document.createElement("script");
                       s.textContent = "window.kbPwned = 1"; document.head.append(s);
                       return window.kbPwned; }"""
        )
        assert injected is None
        assert any("Security Policy" in message for message in refused)
