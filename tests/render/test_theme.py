"""Settings that change the pages: a theme folder overriding templates, page sizes, language."""

from __future__ import annotations

from pathlib import Path

from kbsite.build import BuildOptions, build_site
from kbsite.config import Config
from kbsite.render.renderer import SEARCH_BUNDLE, SEARCH_SCRIPTS

CONTENT = Path(__file__).parents[2] / "content"


def test_a_theme_overrides_templates_and_static_files_by_name(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    (theme / "static").mkdir(parents=True)
    (theme / "index.html").write_text(
        '{% extends "base.html" %}{% block main %}<p>Our own home, {{ page.article_count }} '
        "articles.</p>{% endblock %}",
        encoding="utf-8",
    )
    (theme / "static" / "kbsite.css").write_text("body { color: teal; }\n", encoding="utf-8")
    (theme / "static" / "logo.svg").write_text("<svg/>", encoding="utf-8")
    site = tmp_path / "site"
    settings = Config(templates=theme, per_page=5, language="en-GB", description="Ledger & co")
    report = build_site(BuildOptions([CONTENT], site, settings=settings))
    assert report.errors == 0
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "<p>Our own home, 35 articles.</p>" in home
    assert '<html lang="en-GB">' in home and 'content="Ledger &amp; co"' in home
    assert (site / "static" / "kbsite.css").read_text() == "body { color: teal; }\n"
    assert (site / "static" / "logo.svg").is_file()
    assert (site / SEARCH_BUNDLE).is_file()
    assert not any((site / script).exists() for script in SEARCH_SCRIPTS)
    article = (site / "kb" / "Q200101.html").read_text(encoding="utf-8")
    assert "Our own home" not in article and 'class="site-header"' in article
    letters = sorted(p.name for p in (site / "titles").glob("*.html"))
    assert any(".page2." in name for name in letters), "5 entries a page makes more pages"
