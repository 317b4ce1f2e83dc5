"""The table of page kinds: each kind its class, its template and its pages."""

from __future__ import annotations

from kbsite.config import Config
from kbsite.model import Article
from kbsite.render.renderer import templates_dir
from kbsite.site.kinds import KIND_OF, PAGE_KINDS, site_pages
from kbsite.site.link import link_site
from kbsite.site.pages import MarkdownPage


def test_each_kind_has_its_own_class_and_a_packaged_template() -> None:
    assert len(KIND_OF) == len({kind.name for kind in PAGE_KINDS}) == len(PAGE_KINDS)
    for kind in PAGE_KINDS:
        assert (templates_dir() / kind.template).is_file(), kind.name


def test_the_site_has_a_page_of_every_kind_and_the_zim_those_it_holds(
    content_articles: dict[str, Article],
) -> None:
    site = link_site(content_articles.values())
    texts = [MarkdownPage("pages/about.html", "../", "About", "Text.")]
    pages = site_pages(site, Config(per_page=5), texts)
    assert {type(page) for page in pages} == set(KIND_OF)
    assert len({page.path for page in pages}) == len(pages)
    in_zim = {type(page) for page in site_pages(site, Config(), texts, zim=True)}
    assert in_zim == {kind.page for kind in PAGE_KINDS if kind.in_zim}
    assert len(site_pages(site, Config(per_page=5), texts)) > len(site_pages(site, Config(), texts))
