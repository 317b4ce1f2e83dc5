"""Markdown pages beside the articles: the site's layout, its navigation, its links."""

from __future__ import annotations

from pathlib import Path

from kbsite.build import BuildOptions, build_site
from kbsite.report import BuildReport

from ..render.test_render import Page


def test_the_sample_about_page(sample_site: tuple[Path, BuildReport]) -> None:
    site = sample_site[0]
    html = (site / "pages" / "about.html").read_text(encoding="utf-8")
    page = Page(site / "pages" / "about.html")
    assert "<h1>About this archive</h1>" in html and "<strong>Northwind Software</strong>" in html
    assert "../kb/Q200104.html" in page.attrs("a", "href")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert '<span class="ref-missing"' in html and "Q999999" in html
    assert "https://example.com/northwind" in page.attrs("a", "href")
    for other in (site / "index.html", site / "kb" / "Q200101.html"):
        hrefs = Page(other).attrs("a", "href")
        assert any(h.endswith("pages/about.html") for h in hrefs), other


def test_pages_with_one_name_and_without_a_heading(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "a").mkdir(parents=True)
    (source / "b").mkdir()
    (source / "a" / "notes.md").write_text("# Notes from A\n\nText.\n", encoding="utf-8")
    (source / "b" / "notes.md").write_text("Just text, no heading.\n", encoding="utf-8")
    (source / "b" / "empty.md").write_bytes(b"")
    (source / "Q300001.TXT").write_text(
        "DOCUMENT:Q300001  01-JAN-2000  [x]\nTITLE   :One\n\n" + "=" * 70 + "\n\nBody.\n",
        encoding="utf-8",
    )
    report = build_site(BuildOptions([source], tmp_path / "site"))
    pages = sorted(p.name for p in (tmp_path / "site" / "pages").iterdir())
    assert pages == ["notes-2.html", "notes.html"]
    untitled = (tmp_path / "site" / "pages" / "notes-2.html").read_text(encoding="utf-8")
    assert "<h1>notes</h1>" in untitled or "<h1>Notes from A</h1>" in untitled
    assert [p.message for p in report.problems] == ["empty file: no article in it"]
