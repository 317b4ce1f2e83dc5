"""The kinds of page besides the articles': the one list of them.

The site's pages, their keys, the writer and the ZIM export all take the kinds from
``PAGE_KINDS``: a new kind of page is a class and a factory in ``pages.py``, a
template, and a row here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from kbsite.config import Config
from kbsite.site.link import Site
from kbsite.site.pages import (
    FacetIndexPage,
    HomePage,
    ListingPage,
    MarkdownPage,
    MissingPage,
    NotFoundPage,
    SearchPage,
    StatsPage,
    facet_index_pages,
    home_page,
    listing_pages,
    missing_page,
    not_found_page,
    search_page,
    stats_page,
)

Page = (
    MarkdownPage | ListingPage | FacetIndexPage | HomePage | MissingPage | SearchPage | StatsPage
    | NotFoundPage
)  # fmt: skip
"""A page object of one of the ``PAGE_KINDS``."""


@dataclasses.dataclass(frozen=True, slots=True)
class PageKind:
    """One kind of page besides the articles'."""

    name: str
    page: type
    """The class of its page objects."""
    template: str
    pages: Callable[[Site, Config, Sequence[MarkdownPage]], Iterable[Page]]
    """Every page of the kind, from the site, its settings and its Markdown pages."""
    from_graph: bool = True
    """Made from the site graph alone: an edit that changes no link keeps their keys."""
    in_zim: bool = True
    """Part of the ZIM export (a reader like Kiwix brings its own search and 404)."""


PAGE_KINDS: tuple[PageKind, ...] = (
    PageKind("markdown", MarkdownPage, "page.html", lambda _s, _c, texts: texts, from_graph=False),
    PageKind("listing", ListingPage, "listing.html", lambda s, c, _t: listing_pages(s, c.per_page)),
    PageKind("facets", FacetIndexPage, "facets.html", lambda s, _c, _t: facet_index_pages(s)),
    PageKind("home", HomePage, "index.html", lambda s, c, _t: [home_page(s, c.title)]),
    PageKind("missing", MissingPage, "missing.html", lambda s, _c, _t: [missing_page(s)]),
    PageKind("search", SearchPage, "search.html", lambda s, _c, _t: [search_page(s)], in_zim=False),
    PageKind("stats", StatsPage, "stats.html", lambda s, _c, _t: [stats_page(s)]),
    PageKind(
        "404",
        NotFoundPage,
        "404.html",
        lambda _s, c, _t: [not_found_page(c.base_url)],
        in_zim=False,
    ),
)
KIND_OF: dict[type, PageKind] = {kind.page: kind for kind in PAGE_KINDS}
"""Each page class's kind."""


def site_pages(
    site: Site, settings: Config, texts: Sequence[MarkdownPage], zim: bool = False
) -> list[Page]:
    """Every page but the articles', in ``PAGE_KINDS`` order; ``zim``: only those the
    ZIM export holds."""
    return [
        page
        for kind in PAGE_KINDS
        if kind.in_zim or not zim
        for page in kind.pages(site, settings, texts)
    ]
