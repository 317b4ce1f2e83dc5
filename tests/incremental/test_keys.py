"""Page keys: what a page shows, spelled as text for its digest."""

from __future__ import annotations

from kbsite.incremental.keys import _ShownText
from kbsite.model import Article
from kbsite.site.link import link_site
from kbsite.site.pages import ArticleLinker


def test_article_links_are_spelled_as_the_generic_walk_spells_them(
    content_articles: dict[str, Article],
) -> None:
    """The one-step spelling of an article's links is the walk's, to the character, so the
    keys a previous build cached stay valid; for the sample's every article, with each of
    facets, backlinks, related and unresolved references present on some."""
    articles = list(content_articles.values())
    site = link_site(articles)
    linker, shown = ArticleLinker(site), _ShownText(site)
    spelled = []
    for article in articles:
        references = [r.target for r in article.references] + ["Q999999"]
        links = linker(article, article.id, references)
        assert shown(links) == shown.walk(links), article.id
        spelled.append(links)
    assert all(links.facets and links.unresolved for links in spelled)
    assert any(links.backlinks for links in spelled) and any(links.related for links in spelled)
