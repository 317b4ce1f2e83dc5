"""The packed table forked workers read the other articles from: the same links as the
site's dicts, and reading it writes to nothing the forking process holds."""

from __future__ import annotations

import sys
from pathlib import Path

from kbsite.model import Article
from kbsite.read.load import load_articles
from kbsite.report import BuildReport
from kbsite.site.link import Site, link_site
from kbsite.site.pages import ArticleLinker
from kbsite.site.table import LinkTable

CONTENT = Path(__file__).parents[2] / "content"
CYCLE = Path(__file__).parents[1] / "sites" / "cycle"


def _site(folder: Path) -> tuple[list[Article], Site]:
    report = BuildReport()
    articles = load_articles(sorted(folder.rglob("*.[Tt][Xx][Tt]")), 1, report)
    return articles, link_site(articles)


def test_table_links_equal_the_sites_for_every_article() -> None:
    for folder in (CONTENT, CYCLE):
        articles, site = _site(folder)
        from_dicts, from_table = ArticleLinker(site), ArticleLinker(site, LinkTable(site))
        for article in articles:
            references = [r.target for r in article.references] + ["Q999999"]
            assert from_table(article, article.id, references) == from_dicts(
                article, article.id, references
            )
        assert any(site.backlinks.values()) and any(site.related.values())


def test_an_unknown_id_has_no_links_and_is_not_known() -> None:
    _, site = _site(CYCLE)
    table = LinkTable(site)
    assert "Q399999" not in table
    assert table.linked("Q399999") == ([], [])
    assert ArticleLinker(site, table).known("Q300001")


def test_reading_the_table_holds_no_reference_to_the_sites_objects() -> None:
    _, site = _site(CYCLE)
    table = LinkTable(site)
    title = site.summaries["Q300001"].title
    before = sys.getrefcount(title)
    backlinks, _related = table.linked("Q300002")
    summary = table.summary("Q300001")
    assert summary == site.summaries["Q300001"] and backlinks
    assert sys.getrefcount(title) == before
    assert all(s is not site.summaries[s.id] for s in [*backlinks, summary])
