"""``kbsite export --format zim``: the ZIM read back with libzim, and served by kiwix-serve."""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbsite.cli import main
from kbsite.model import Article, body_text
from kbsite.parallel import default_jobs
from kbsite.read.load import load_articles
from kbsite.read.source import find_sources
from kbsite.render.renderer import SEARCH_BUNDLE
from kbsite.report import BuildReport
from kbsite.site.link import link_site

from ..conftest import CONTENT

libzim = pytest.importorskip("libzim", reason="libzim is not installed: pip install 'kbsite[zim]'")

from libzim.reader import Archive  # noqa: E402
from libzim.search import Query, Searcher  # noqa: E402
from libzim.suggestion import SuggestionSearcher  # noqa: E402

from kbsite.output.icon import illustration_png  # noqa: E402
from kbsite.output.zim import ZimMetadata, ZimOptions, export_zim, write_zim  # noqa: E402

CYCLE = Path(__file__).parents[1] / "sites" / "cycle"
SEARCH_ONLY = {"search.html", SEARCH_BUNDLE}
SERVER_ONLY = {"404.html"}
"""A web server's page for paths it lacks; a ZIM reader has its own."""


@pytest.fixture(scope="session")
def sample_zim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    """The bundled sample exported once for the session, with two render workers."""
    output = tmp_path_factory.mktemp("zim") / "sample.zim"
    report = export_zim(ZimOptions([CONTENT], output, jobs=2))
    return output, report


# -- helpers ------------------------------------------------------------------------


def entries(archive: Archive) -> Iterator[tuple[str, str, str]]:
    """(path, title, mimetype) of every entry the archive's users see, redirects left out."""
    for number in range(archive.entry_count):
        entry = archive._get_entry_by_id(number)
        if not entry.is_redirect:
            yield entry.path, entry.title, entry.get_item().mimetype


def html_of(archive: Archive, path: str) -> str:
    return bytes(archive.get_entry_by_path(path).get_item().content).decode("utf-8")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links.extend(v for k, v in attrs if k in ("href", "src", "action") and v)


def dangling_links(archive: Archive) -> list[str]:
    """Every link of every HTML entry that names no entry of the archive, as 'page -> link'."""
    dangling = []
    for path, _, mimetype in entries(archive):
        if not mimetype.startswith("text/html"):
            continue
        parser = _Links()
        parser.feed(html_of(archive, path))
        parser.close()
        for link in parser.links:
            parts = urllib.parse.urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue  # a web address, or a place on the same page
            target = posixpath.normpath(
                posixpath.join(posixpath.dirname(path), urllib.parse.unquote(parts.path))
            )
            if target.startswith("../") or not archive.has_entry_by_path(target):
                dangling.append(f"{path} -> {link}")
    return dangling


def search_paths(archive: Archive, words: str, limit: int = 20) -> list[str]:
    search = Searcher(archive).search(Query().set_query(words))
    return list(search.getResults(0, limit))


def word_of_one_body(articles: list[Article]) -> tuple[str, Article]:
    """A word in exactly one article's text and not in its title: a fair full-text probe."""
    words_of = {a.id: set(re.findall(r"[a-z]{7,}", body_text(a).lower())) for a in articles}
    counts = Counter(word for words in words_of.values() for word in words)
    for article in articles:
        title = article.title.lower()
        unique = sorted(w for w in words_of[article.id] if counts[w] == 1 and w not in title)
        if unique:
            return unique[0], article
    raise AssertionError("no article has a word of its own")


def site_files(site: Path) -> set[str]:
    """The pages and static files of a built site, but its search page and index."""
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    return {
        f
        for f in files
        if (f.endswith(".html") or f.startswith("static/"))
        and f not in SEARCH_ONLY | SERVER_ONLY
        and not f.startswith("search/")
    }


# -- the file, read back ------------------------------------------------------------


def test_every_page_of_the_site_is_an_entry(
    sample_zim: tuple[Path, BuildReport], sample_site: tuple[Path, BuildReport]
) -> None:
    path, report = sample_zim
    archive = Archive(path)
    paths = {p for p, _, _ in entries(archive)}
    assert paths == site_files(sample_site[0])
    assert archive.entry_count == report.pages == len(paths)
    assert report.articles == 35 and report.errors == 0
    assert not paths & SEARCH_ONLY


def test_the_home_page_is_the_main_entry(sample_zim: tuple[Path, BuildReport]) -> None:
    archive = Archive(sample_zim[0])
    assert archive.has_main_entry
    assert archive.main_entry.get_item().path == "index.html"


def test_articles_are_front_articles_with_their_kb_titles(
    sample_zim: tuple[Path, BuildReport], content_articles: dict[str, Article]
) -> None:
    archive = Archive(sample_zim[0])
    assert archive.article_count == len(content_articles)
    for article in content_articles.values():
        entry = archive.get_entry_by_path(f"kb/{article.id}.html")
        assert entry.title == f"{article.id}: {article.title}"
    assert archive.has_title_index
    suggested = SuggestionSearcher(archive).suggest("Q200124")
    assert "kb/Q200124.html" in list(suggested.getResults(0, 10))


def test_listing_pages_are_not_front_articles_nor_searched(
    sample_zim: tuple[Path, BuildReport], content_articles: dict[str, Article]
) -> None:
    archive = Archive(sample_zim[0])
    titles = {p: t for p, t, _ in entries(archive)}
    assert titles["product/index.html"] == "Products"
    listed = next(a for a in content_articles.values() if a.product).title.split()[-1]
    assert all(p.startswith("kb/") for p in search_paths(archive, listed))


def test_metadata_kiwix_needs(sample_zim: tuple[Path, BuildReport]) -> None:
    archive = Archive(sample_zim[0])
    for key in (
        "Name",
        "Title",
        "Description",
        "Language",
        "Creator",
        "Publisher",
        "Date",
        "Tags",
        "Illustration_48x48@1",
    ):
        assert archive.get_metadata(key), key
    assert archive.get_metadata("Title") == b"Knowledge Base Archive"
    assert archive.get_metadata("Language") == b"eng"
    assert archive.get_metadata("Name") == b"knowledge-base-archive_en_all"
    assert archive.get_metadata("Description") == b"35 knowledge-base articles, cross-linked"
    assert re.fullmatch(rb"\d{4}-\d\d-\d\d", archive.get_metadata("Date"))
    assert archive.has_illustration(48)
    png = bytes(archive.get_illustration_item(48).content)
    assert png == illustration_png(48)


def test_the_illustration_is_a_48_pixel_png() -> None:
    png = illustration_png(48)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    assert int.from_bytes(png[16:20], "big") == int.from_bytes(png[20:24], "big") == 48


def test_full_text_search_finds_an_article_by_a_word_of_its_body(
    sample_zim: tuple[Path, BuildReport], content_articles: dict[str, Article]
) -> None:
    archive = Archive(sample_zim[0])
    assert archive.has_fulltext_index
    word, article = word_of_one_body(list(content_articles.values()))
    assert f"kb/{article.id}.html" in search_paths(archive, word)


def test_every_link_resolves_inside_the_file(sample_zim: tuple[Path, BuildReport]) -> None:
    assert dangling_links(Archive(sample_zim[0])) == []


def test_pages_have_no_site_search_and_missing_articles_stay_unresolved(
    sample_zim: tuple[Path, BuildReport],
) -> None:
    archive = Archive(sample_zim[0])
    home = html_of(archive, "index.html")
    assert "site-search" not in home and SEARCH_BUNDLE not in home
    cited = [
        p
        for p, _, _ in entries(archive)
        if p.startswith("kb/") and 'class="ref-missing"' in html_of(archive, p)
    ]
    assert cited, "the sample cites articles it does not hold"


def test_the_site_keeps_its_search_box(sample_site: tuple[Path, BuildReport]) -> None:
    home = (sample_site[0] / "index.html").read_text(encoding="utf-8")
    assert 'class="site-search"' in home and SEARCH_BUNDLE in home


def test_an_article_that_fails_to_render_is_reported_and_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kbsite.render.renderer import PageRenderer

    real = PageRenderer.article_page

    def failing(self: PageRenderer, article: Article) -> str:
        if article.id == "Q300002":
            raise ValueError("boom")
        return real(self, article)

    monkeypatch.setattr(PageRenderer, "article_page", failing)
    output = tmp_path / "cycle.zim"
    report = export_zim(ZimOptions([CYCLE], output, jobs=1))
    assert [(p.path.name if p.path else None, p.message) for p in report.problems] == [
        ("Q300002.TXT", "internal error while rendering: ValueError('boom')")
    ]
    archive = Archive(output)
    assert archive.article_count == 2
    assert not archive.has_entry_by_path("kb/Q300002.html")


# -- the command line ---------------------------------------------------------------


def test_the_zim_has_the_sites_pages_with_its_page_size_and_theme(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    (theme / "static").mkdir(parents=True)
    css = b"/* the theme's */ body { color: teal; }\n"
    (theme / "static" / "kbsite.css").write_bytes(css)
    (tmp_path / "kbsite.toml").write_text('per_page = 2\ntemplates = "theme"\n')
    config = ["--config", str(tmp_path / "kbsite.toml")]
    output, site = tmp_path / "cycle.zim", tmp_path / "site"
    command = ["export", "--format", "zim", str(CYCLE), "-o", str(output), "-q", *config]
    assert CliRunner().invoke(main, command).exit_code == 0
    built = CliRunner().invoke(main, ["build", str(CYCLE), "-o", str(site), "-q", *config])
    assert built.exit_code == 0, built.output
    archive = Archive(output)
    assert {path for path, _, _ in entries(archive)} == site_files(site)
    assert "category/cyc.page2.html" in site_files(site)  # 3 articles, 2 a page
    for page in ("category/cyc.html", "category/cyc.page2.html"):
        assert html_of(archive, page).count('href="../kb/Q') == (
            (site / page).read_text(encoding="utf-8").count('href="../kb/Q')
        )
    assert bytes(archive.get_entry_by_path("static/kbsite.css").get_item().content) == css


def test_export_command_prints_the_build_summary(tmp_path: Path) -> None:
    output = tmp_path / "cycle.zim"
    result = CliRunner().invoke(
        main, ["export", "--format", "zim", str(CYCLE), "-o", str(output), "-q", "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 3 articles (" in result.output and str(output) in result.output
    assert "1 unresolved references (1 mentions)" in result.output
    assert Archive(output).article_count == 3
    assert not [p for p in tmp_path.iterdir() if p != output], "no leftovers beside the file"


def test_export_warnings_and_strict_as_build(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(CYCLE, source)
    broken = source / "Q300002.TXT"
    broken.write_bytes(broken.read_bytes().replace(b"02-MAR-2001", b"31-FEB-2001"))
    command = ["export", "--format", "zim", str(source), "-o", str(tmp_path / "a.zim"), "-q"]
    assert CliRunner().invoke(main, command).exit_code == 0
    result = CliRunner().invoke(main, [*command, "--strict"])
    assert result.exit_code == 1
    assert f"{broken}:1: warning: unreadable date '31-FEB-2001'" in result.output


def test_export_refuses_to_replace_a_file_that_is_not_a_zim(tmp_path: Path) -> None:
    notes = tmp_path / "notes.zim"
    notes.write_text("mine")
    result = CliRunner().invoke(main, ["export", "--format", "zim", str(CYCLE), "-o", str(notes)])
    assert result.exit_code == 1
    assert result.output.startswith(f"ERROR {notes}: output exists and is not a ZIM file")
    assert notes.read_text() == "mine"


def test_export_bad_usage_exits_2(tmp_path: Path) -> None:
    out = str(tmp_path / "x.zim")
    runner = CliRunner()
    assert runner.invoke(main, ["export", str(CYCLE), "-o", out]).exit_code == 2
    assert runner.invoke(main, ["export", "--format", "pdf", str(CYCLE), "-o", out]).exit_code == 2
    result = runner.invoke(main, ["export", "--format", "zim", "--title", "x" * 31, "-o", out])
    assert result.exit_code == 2
    assert "--title is longer than 30 characters" in result.output


@pytest.mark.parametrize(("module", "package"), [("libzim.writer", "libzim"), ("zstandard", None)])
def test_export_without_its_libraries_says_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, package: str | None
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.delitem(sys.modules, "kbsite.output.zim")
    monkeypatch.delitem(sys.modules, "kbsite.output.zimfile")
    out = str(tmp_path / "x.zim")
    result = CliRunner().invoke(main, ["export", "--format", "zim", str(CYCLE), "-o", out])
    assert result.exit_code == 1
    expected = f"ERROR writing ZIM files needs {package or module}: pip install 'kbsite[zim]'\n"
    assert result.output == expected


def test_metadata_defaults_and_limits() -> None:
    assert ZimMetadata(title="Old KB").values(7)["Name"] == "old-kb_en_all"
    assert ZimMetadata(description="d" * 81).problems() == [
        "--description is longer than 80 characters, the most Kiwix shows"
    ]
    assert ZimMetadata().problems() == []


# -- a real client: kiwix-serve -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


@pytest.fixture(scope="session")
def kiwix(sample_zim: tuple[Path, BuildReport]) -> Iterator[tuple[str, str]]:
    """kiwix-serve serving the sample ZIM on 127.0.0.1: (base address, book name)."""
    executable = shutil.which("kiwix-serve")
    if executable is None:
        reason = "kiwix-serve is not installed (Debian: apt-get install kiwix-tools)"
        if os.environ.get("KBSITE_REQUIRE_KIWIX") == "1":
            pytest.fail(f"KBSITE_REQUIRE_KIWIX=1 but {reason}")
        pytest.skip(reason)
    zim = sample_zim[0]
    base = f"http://127.0.0.1:{_free_port()}"
    port = base.rsplit(":", 1)[1]
    server = subprocess.Popen(
        [executable, "--address=127.0.0.1", f"--port={port}", str(zim)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                _get(base + "/")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"kiwix-serve did not start (exit status {server.poll()})")
                time.sleep(0.1)
        yield base, zim.stem
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_kiwix_serve_shows_the_home_page_and_an_article(kiwix: tuple[str, str]) -> None:
    base, book = kiwix
    home = _get(f"{base}/{book}/index.html")
    assert "Knowledge Base Archive" in home and 'href="kb/Q' in home
    article = _get(f"{base}/{book}/kb/Q200124.html")
    assert "Harbor BASIC 2000 Compiler Switches" in article
    assert "--accent" in _get(f"{base}/{book}/static/kbsite.css")


def test_kiwix_serve_full_text_search_finds_the_article(
    kiwix: tuple[str, str], content_articles: dict[str, Article]
) -> None:
    base, book = kiwix
    word, article = word_of_one_body(list(content_articles.values()))
    query = urllib.parse.urlencode({"content": book, "pattern": word})
    results = _get(f"{base}/search?{query}")
    assert f'href="/{book}/kb/{article.id}.html"' in results


# -- the shared corpus --------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_export(corpus: Path, tmp_path: Path) -> None:
    """The stages of ``export_zim`` run one by one, to keep the articles for the probe."""
    report = BuildReport()
    articles = load_articles(find_sources([corpus]), default_jobs(), report)
    assert len(articles) > 11_000 and report.errors == 0
    site = link_site(articles)
    output = tmp_path / "corpus.zim"
    added = write_zim(site, articles, output, ZimOptions([corpus], output, jobs=default_jobs()))
    archive = Archive(output)
    assert archive.entry_count == added
    assert archive.article_count == len(articles)
    assert archive.main_entry.get_item().path == "index.html"
    assert dangling_links(archive) == []
    word, article = word_of_one_body(articles)
    assert f"kb/{article.id}.html" in search_paths(archive, word)
