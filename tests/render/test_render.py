"""Rendered pages of the bundled sample: structure, links, escaping, design rules."""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

import jinja2
import pytest

import kbsite.render.renderer
from kbsite.model import Heading, ListBlock, ListItem, Paragraph, Preformatted, Rule
from kbsite.render.renderer import SEARCH_BUNDLE, FragmentCache, PageRenderer, reflow
from kbsite.report import BuildReport
from kbsite.site.link import Site


class Page(html.parser.HTMLParser):
    """Collects the tags, hrefs, srcs and visible text of one page."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = 0
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    def attrs(self, tag: str, name: str) -> list[str]:
        return [a[name] or "" for t, a in self.tags if t == tag and name in a]

    @property
    def visible(self) -> str:
        return " ".join(self.text)


@pytest.fixture(scope="module")
def site(sample_site: tuple[Path, BuildReport]) -> Path:
    return sample_site[0]


def test_sample_builds_without_problems(sample_site: tuple[Path, BuildReport]) -> None:
    _, report = sample_site
    assert report.errors == 0
    assert report.warnings == 0
    assert report.articles >= 25


def test_article_page_shows_header_sections_and_toc(site: Path) -> None:
    page = Page(site / "kb" / "Q200119.html")
    assert ("h1", {}) in page.tags
    assert "Q200119" in page.visible
    assert page.attrs("time", "datetime")[0] == "1999-03-03"
    assert "../product/northwind-harbor-basic.html" in page.attrs("a", "href")
    assert "../keyword/kbprb.html" in page.attrs("a", "href")
    assert "#steps-to-reproduce-behavior" in page.attrs("a", "href")
    assert "steps-to-reproduce-behavior" in page.attrs("section", "id")


def test_articles_link_each_other_and_show_backlinks(site: Path) -> None:
    page = Page(site / "kb" / "Q200110.html")
    hrefs = page.attrs("a", "href")
    assert "Q200111.html" in hrefs
    text = page.visible
    assert "Referenced by" in text
    assert "Related articles" in text


def test_unresolved_reference_is_shown_not_linked(site: Path) -> None:
    page = Page(site / "kb" / "Q200101.html")
    assert not any("Q123456" in h for h in page.attrs("a", "href"))
    assert "Not in this archive" in page.visible
    assert "Q123456" in page.visible


def test_markup_in_an_article_stays_text(site: Path) -> None:
    source = (site / "kb" / "Q200122.html").read_text(encoding="utf-8")
    page = Page(site / "kb" / "Q200122.html")
    scripts = ["../static/theme.js", "../" + SEARCH_BUNDLE]
    assert page.attrs("script", "src") == scripts
    assert not any(h.lower().startswith("javascript:") for h in page.attrs("a", "href"))
    assert "&lt;script&gt;" in source
    assert "{{ x }}" in page.visible
    assert "*stars*" in page.visible
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)


def test_every_link_is_relative_and_resolves(site: Path) -> None:
    pages = sorted(p for p in site.rglob("*.html") if p.name != "404.html")
    assert len(pages) > 100
    for path in pages:
        page = Page(path)
        for ref in page.attrs("a", "href") + page.attrs("link", "href"):
            if ref.startswith(("http:", "https:", "ftp:", "mailto:")):
                continue
            assert not ref.startswith("/"), f"{path}: absolute link {ref}"
            target = ref.split("#")[0]
            if target:
                assert (path.parent / target).resolve().is_file(), f"{path}: broken link {ref}"


def test_the_404_page_links_from_the_server_top(site: Path) -> None:
    """A server shows 404.html at any depth, so its links cannot be relative."""
    page = Page(site / "404.html")
    refs = page.attrs("a", "href") + page.attrs("link", "href") + page.attrs("script", "src")
    refs = [ref for ref in refs if not ref.startswith("#")]
    assert refs and all(ref.startswith("/") for ref in refs), refs
    for ref in refs:
        assert (site / ref.removeprefix("/")).is_file(), ref


def test_no_external_requests(site: Path) -> None:
    for path in [site / "index.html", site / "kb" / "Q200101.html"]:
        page = Page(path)
        for url in (
            page.attrs("link", "href") + page.attrs("script", "src") + page.attrs("img", "src")
        ):
            assert not re.match(r"[a-z]+:", url), url
    css = (site / "static" / "kbsite.css").read_text()
    assert "url(" not in css and "@import" not in css
    assert "prefers-color-scheme: dark" in css and "@media print" in css


def test_only_the_search_page_waits_for_its_scripts_to_be_drawn(site: Path) -> None:
    """search.html is drawn once its scripts have asked for the query's index files;
    every other page is drawn without waiting for the search script."""
    waits = {
        src
        for t, a in Page(site / "search.html").tags
        if t == "script" and (src := a.get("src")) and a.get("blocking") == "render"
    }
    assert waits == {SEARCH_BUNDLE, "search/meta.js"}
    for path in [site / "index.html", site / "kb" / "Q200101.html", site / "stats.html"]:
        assert all(a.get("blocking") is None for t, a in Page(path).tags if t == "script"), path


def test_article_headings_never_skip_a_level(outline_page: Path) -> None:
    headings = [
        (tag, text)
        for tag, text in re.findall(r"<(h[1-6])>(.*?)</h[1-6]>", outline_page.read_text("utf-8"))
        if text != "Contents"
    ]
    assert headings == [
        ("h1", "HOWTO: Move the Ledger Server Backup Folder"),
        ("h2", "Before You Start"),
        ("h2", "STEPS"),
        ("h3", "Permissions"),
        ("h3", "Checking the Move"),
    ]


def test_listing_pages(site: Path) -> None:
    for path in [
        "index.html",
        "category/index.html",
        "category/hmail.html",
        "product/index.html",
        "keyword/kbbug.html",
        "type/fix.html",
        "year/2001.html",
        "titles/index.html",
    ]:
        assert (site / path).is_file(), path
    home = Page(site / "index.html")
    assert "Recent articles" in home.visible
    listing = Page(site / "year" / "2001.html")
    assert len([h for h in listing.attrs("a", "href") if h.startswith("../kb/")]) == 10


def test_reflow_joins_words_split_by_hyphenation() -> None:
    assert (
        reflow(["non-", "paged pool", "server-to-", "-server"])
        == "non-paged pool server-to- -server"
    )


def test_missing_page_lists_cited_but_absent_articles(site: Path) -> None:
    page = Page(site / "missing.html")
    assert "Q123456" in page.visible
    assert "kb/Q200101.html" in [h.removeprefix("./") for h in page.attrs("a", "href")]
    assert "missing.html" in Page(site / "index.html").attrs("a", "href")


def test_article_text_is_written_as_markdown_it_renders_its_tokens() -> None:
    """The HTML markdown-it's renderer made of the equivalent block tokens, which the
    renderer used to build: tight and loose items, markers, rules, an empty list."""
    blocks = [
        Paragraph(["Hard-wrapped lines of a para-", "graph with <markup> & Q123456."], 1),
        Paragraph(["Short line", "kept apart"], 3, reflow=False),
        Preformatted("C:\\> dir  /w\n  see http://example.com/x.", 5),
        ListBlock(
            [
                ListItem("1.", [Paragraph(["Tight item."], 7)], 7),
                ListItem("2.", [Paragraph(["Indented item."], 8, indented=True)], 8),
                ListItem("3.", [Paragraph(["First."], 9), Rule(10), Heading("Sub", 11)], 9),
                ListItem("4.", [], 12),
            ],
            ordered=True,
            line=7,
            start=3,
        ),
        ListBlock(
            [
                ListItem("-", [Paragraph(["Bullet."], 13)], 13),
                ListItem("-", [Preformatted("code", 14)], 14),
                ListItem(
                    "-",
                    [
                        ListBlock(
                            [ListItem("a)", [Paragraph(["Letter."], 15)], 15)],
                            ordered=True,
                            line=15,
                            style="letter",
                        )
                    ],
                    15,
                ),
            ],
            ordered=False,
            line=13,
        ),
        ListBlock(
            [ListItem("Q123456", [Paragraph(["Q123456 A title"], 16)], 16)],
            ordered=False,
            line=16,
            style="references",
        ),
        ListBlock([], ordered=False, line=17),
    ]
    renderer = PageRenderer(Site(summaries={}, backlinks={}, related={}, facets={}, unresolved={}))
    missing = '<span class="ref-missing" title="Not in this archive">Q123456</span>'
    assert renderer.blocks(blocks, {}, 3) == (
        f"<p>Hard-wrapped lines of a para-graph with &lt;markup&gt; &amp; {missing}.</p>\n"
        "<p>Short line<br>\nkept apart</p>\n"
        "<pre>C:\\&gt; dir  /w\n"
        '  see <a href="http://example.com/x" class="external">http://example.com/x</a>.</pre>\n'
        '<ol start="3" class="marked">\n'
        '<li>\n<span class="marker">1.</span>Tight item.</li>\n'
        '<li>\n<span class="marker">2.</span><p class="indented">Indented item.</p>\n</li>\n'
        '<li>\n<span class="marker">3.</span><p>First.</p>\n<hr>\n<h3>Sub</h3>\n</li>\n'
        '<li>\n<span class="marker">4.</span></li>\n'
        "</ol>\n"
        "<ul>\n"
        "<li>Bullet.</li>\n"
        "<li>\n<pre>code</pre>\n</li>\n"
        '<li>\n<ol type="a" class="marked">\n<li>\n<span class="marker">a)</span>Letter.</li>\n'
        "</ol>\n</li>\n"
        "</ul>\n"
        f'<ul class="references">\n<li>{missing} A title</li>\n</ul>\n'
        "<ul></ul>\n"
    )


def test_the_cache_tag_renders_its_body_once_per_key() -> None:
    env = jinja2.Environment(extensions=[FragmentCache])
    rendered: list[str] = []
    env.globals["shown"] = lambda name: rendered.append(name) or name
    template = env.from_string(
        "{% for n in names %}{% cache 'item', n %}[{{ shown(n) }}]{% endcache %}{% endfor %}"
    )
    assert template.render(names=["a", "b", "a"]) == "[a][b][a]"
    assert template.render(names=["b", "c"]) == "[b][c]"
    assert rendered == ["a", "b", "c"]


def test_the_cache_tag_keeps_a_bounded_number_of_fragments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every worker has a cache: past ``FRAGMENTS_KEPT`` it starts afresh, same output."""
    monkeypatch.setattr(kbsite.render.renderer, "FRAGMENTS_KEPT", 2)
    env = jinja2.Environment(extensions=[FragmentCache])
    template = env.from_string(
        "{% for n in names %}{% cache 'item', n %}[{{ n }}]{% endcache %}{% endfor %}"
    )
    names = ["a", "b", "c", "a", "d", "b"]
    assert template.render(names=names) == "".join(f"[{n}]" for n in names)
    cache = next(e for e in env.extensions.values() if isinstance(e, FragmentCache))
    assert 0 < len(cache.fragments) <= 2
