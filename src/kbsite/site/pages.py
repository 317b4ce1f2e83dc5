"""Which pages the site has, where each goes, and what each shows: no HTML here.

Every page object carries its output path and ``root``, the relative prefix back to
the site's top (``""`` or ``"../"``), so every link in the site is relative and works
from file:// and from any sub-path of a web server.

What an article page shows of the site around it is ``ArticleLinks``, which the
renderer reads and the page key digests; the kinds of the other pages are listed in
``kinds.py``.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Iterable, Iterator

from kbsite.model import ArticleSummary, TextPage
from kbsite.read.syntax import id_number
from kbsite.site.link import FACET_KINDS, Facet, Faceted, Site, article_facets
from kbsite.site.table import LinkTable

PAGE_SIZE = 200
"""Entries per listing page."""


@dataclasses.dataclass(slots=True)
class Link:
    href: str
    text: str
    count: int | None = None
    current: bool = False


@dataclasses.dataclass(slots=True)
class Pager:
    """Links between the pages of one paginated listing."""

    number: int
    pages: list[Link]
    previous: str | None
    next: str | None


@dataclasses.dataclass(slots=True)
class ListingPage:
    """One page of articles under one facet value or letter."""

    path: str
    root: str
    title: str
    kind_label: str
    """What the listing is of, e.g. ``Product``."""
    index_href: str
    """The page listing every value of this facet."""
    entries: list[ArticleSummary]
    total: int
    pager: Pager | None
    letters: list[Link] = dataclasses.field(default_factory=list)
    """The A-Z navigation, on title-index pages."""


@dataclasses.dataclass(slots=True)
class FacetIndexPage:
    """Every value of one facet with its article count."""

    path: str
    root: str
    title: str
    kind: str
    values: list[Link]


@dataclasses.dataclass(slots=True)
class HomePage:
    path: str
    root: str
    title: str
    article_count: int
    reference_count: int
    unresolved_count: int
    first_year: int | None
    last_year: int | None
    browse: list[Link]
    categories: list[Link]
    products: list[Link]
    years: list[Link]
    recent: list[ArticleSummary]


@dataclasses.dataclass(slots=True)
class MissingArticle:
    """An id cited by articles in the archive but not itself in the archive."""

    id: str
    cited_by: list[ArticleSummary]


@dataclasses.dataclass(slots=True)
class MissingPage:
    """The articles the archive cites but lacks, most cited first: a list to go and find."""

    path: str
    root: str
    title: str
    missing: list[MissingArticle]


@dataclasses.dataclass(slots=True)
class SearchPage:
    """The search form; ``search-page.js`` fills in the results from the index in ``search/``."""

    path: str
    root: str
    title: str
    articles: str
    """How many articles there are to search, formatted."""


def search_page(site: Site) -> SearchPage:
    return SearchPage("search.html", "", "Search", f"{len(site.summaries):,}")


def missing_page(site: Site) -> MissingPage:
    missing = [
        MissingArticle(i, [site.summaries[s] for s in sources])
        for i, sources in site.unresolved.items()
    ]
    missing.sort(key=lambda m: (-len(m.cited_by), id_number(m.id)))
    return MissingPage("missing.html", "", "Cited but not in this archive", missing)


@dataclasses.dataclass(slots=True)
class MarkdownPage:
    """A Markdown page of the archive's own, at ``pages/<slug>.html``."""

    path: str
    root: str
    title: str
    text: str


def markdown_pages(pages: list[TextPage]) -> list[MarkdownPage]:
    """One page each, in title order; two files with one name get ``-2``, ``-3``."""
    used: set[str] = set()
    result = []
    for page in sorted(pages, key=lambda p: (p.title.casefold(), str(p.source))):
        slug, n = page.slug, 1
        while slug in used:
            n += 1
            slug = f"{page.slug}-{n}"
        used.add(slug)
        result.append(MarkdownPage(f"pages/{slug}.html", "../", page.title, page.text))
    return result


@dataclasses.dataclass(slots=True)
class StatsPage:
    """The archive in numbers: articles per year and per category, the most cited."""

    path: str
    root: str
    title: str
    article_count: int
    years: list[Link]
    """Every year, oldest first, with its article count."""
    categories: list[Link]
    """The largest categories, largest first."""
    most_cited: list[Link]
    """The articles other articles refer to most, with how many refer to them."""


def stats_page(site: Site, top: int = 20) -> StatsPage:
    years = sorted(site.facets.get("year", {}).values(), key=lambda f: f.name)
    categories = sorted(
        site.facets.get("category", {}).values(), key=lambda f: (-len(f.ids), f.name)
    )
    cited = sorted(site.backlinks.items(), key=lambda item: (-len(item[1]), id_number(item[0])))
    return StatsPage(
        path="stats.html",
        root="",
        title="The archive in numbers",
        article_count=len(site.summaries),
        years=[Link(facet_href(f), f.name, len(f.ids)) for f in years],
        categories=[Link(facet_href(f), f.name, len(f.ids)) for f in categories[:top]],
        most_cited=[
            Link(article_href(i), f"{i}: {site.summaries[i].title}", len(sources))
            for i, sources in cited[:top]
            if sources
        ],
    )


@dataclasses.dataclass(slots=True)
class NotFoundPage:
    """What a web server shows for a missing path (``404.html``, by convention).

    It is served at any depth, so its links start from the site's address when known,
    else from the server's top (``/``).
    """

    path: str
    root: str
    title: str


def not_found_page(base_url: str) -> NotFoundPage:
    return NotFoundPage("404.html", base_url or "/", "Page not found")


def facet_href(facet: Facet, page: int = 1) -> str:
    """Path of a facet listing page, relative to the site root."""
    suffix = "" if page == 1 else f".page{page}"
    return f"{facet.kind}/{facet.slug}{suffix}.html"


def article_href(article_id: str) -> str:
    return f"kb/{article_id}.html"


def listing_pages(site: Site, per_page: int = PAGE_SIZE) -> Iterator[ListingPage]:
    """Every facet value's listing, paginated, then the A-Z title index."""
    for kind, facets in site.facets.items():
        label = FACET_KINDS[kind][0]
        for facet in facets.values():
            entries = [site.summaries[i] for i in facet.ids]
            pages = _page_count(len(entries), per_page)
            hrefs = [facet_href(facet, n) for n in range(1, pages + 1)]
            yield from _paginate(
                entries, hrefs, f"{label}: {facet.name}", label, f"{kind}/index.html", per_page
            )
    yield from title_index_pages(site, per_page)


def title_index_pages(site: Site, per_page: int = PAGE_SIZE) -> Iterator[ListingPage]:
    """The A-Z index: one listing per initial letter, by title without its type prefix."""
    by_letter: dict[str, list[ArticleSummary]] = {}
    for summary in site.summaries.values():
        by_letter.setdefault(_initial(summary.bare_title), []).append(summary)
    letters = [k for k in _LETTER_ORDER if k in by_letter]
    for letter in letters:
        entries = sorted(by_letter[letter], key=lambda s: (s.bare_title.casefold(), s.id))
        slug = "0-9" if letter == "#" else letter.lower()
        hrefs = [
            f"titles/{slug}{'' if n == 1 else f'.page{n}'}.html"
            for n in range(1, _page_count(len(entries), per_page) + 1)
        ]
        nav = [
            Link(
                f"../titles/{'0-9' if k == '#' else k.lower()}.html",
                k,
                len(by_letter[k]),
                k == letter,
            )
            for k in letters
        ]
        title = f"Titles: {letter}"
        for page in _paginate(entries, hrefs, title, "Titles", "titles/index.html", per_page):
            page.letters = nav
            yield page


_LETTER_ORDER = ["#", *string.ascii_uppercase]


def _initial(title: str) -> str:
    first = next((ch for ch in title.upper() if ch.isalnum()), "#")
    return first if first in string.ascii_uppercase else "#"


def _page_count(entries: int, per_page: int) -> int:
    return max(1, -(-entries // per_page))


def _paginate(
    entries: list[ArticleSummary],
    hrefs: list[str],
    title: str,
    kind_label: str,
    index_href: str,
    per_page: int,
) -> Iterator[ListingPage]:
    links = [Link("../" + h, str(n)) for n, h in enumerate(hrefs, 1)]
    for number, path in enumerate(hrefs, 1):
        pager = None
        if len(hrefs) > 1:
            pager = Pager(
                number,
                [dataclasses.replace(link, current=n == number) for n, link in enumerate(links, 1)],
                links[number - 2].href if number > 1 else None,
                links[number].href if number < len(hrefs) else None,
            )
        chunk = entries[(number - 1) * per_page : number * per_page]
        page_title = title if number == 1 else f"{title} (page {number})"
        yield ListingPage(
            path, "../", page_title, kind_label, "../" + index_href, chunk, len(entries), pager
        )


def facet_index_pages(site: Site) -> Iterator[FacetIndexPage]:
    """One page per facet kind listing all its values; years and types by name, others A-Z."""
    for kind, facets in site.facets.items():
        plural = FACET_KINDS[kind][1]
        values = [Link("../" + facet_href(f), f.name, len(f.ids)) for f in facets.values()]
        if kind == "year":
            values.reverse()
        yield FacetIndexPage(f"{kind}/index.html", "../", plural, kind, values)
    letters = sorted(
        {_initial(s.bare_title) for s in site.summaries.values()}, key=_LETTER_ORDER.index
    )
    yield FacetIndexPage(
        "titles/index.html",
        "../",
        "Titles A\u2013Z",
        "titles",
        [Link(f"../titles/{'0-9' if k == '#' else k.lower()}.html", k) for k in letters],
    )


def home_page(site: Site, title: str, recent: int = 25) -> HomePage:
    def top(kind: str, count: int | None = None) -> list[Link]:
        facets = sorted(site.facets.get(kind, {}).values(), key=lambda f: (-len(f.ids), f.name))
        return [Link(facet_href(f), f.name, len(f.ids)) for f in facets[:count]]

    years = sorted(site.facets.get("year", {}).values(), key=lambda f: f.name, reverse=True)
    year_numbers = [int(f.name) for f in years]
    return HomePage(
        path="index.html",
        root="",
        title=title,
        article_count=len(site.summaries),
        reference_count=sum(len(v) for v in site.backlinks.values()),
        unresolved_count=len(site.unresolved),
        first_year=min(year_numbers, default=None),
        last_year=max(year_numbers, default=None),
        browse=[
            Link(f"{kind}/index.html", FACET_KINDS[kind][1], len(site.facets.get(kind, {})))
            for kind in FACET_KINDS
        ]
        + [Link("titles/index.html", "Titles A\u2013Z")],
        categories=top("category"),
        products=top("product", 30),
        years=[Link(facet_href(f), f.name, len(f.ids)) for f in years],
        recent=site.newest(recent),
    )


# -- what an article page shows of the site ---------------------------------------


@dataclasses.dataclass(slots=True)
class FacetLink:
    """The values of one facet an article is listed under, linked to their listings."""

    label: str
    """The facet's singular or plural label, as there are one or more values."""
    links: list[Link]


@dataclasses.dataclass(slots=True)
class ArticleLinks:
    """What an article page shows of the rest of the site, beside its own text.

    Declared once: the renderer puts these fields on the page and the page key digests
    them all, so a page is rewritten whenever any of them changes.
    """

    facets: list[FacetLink]
    """The listings the article is in, by facet kind."""
    backlinks: list[ArticleSummary]
    """The articles citing it."""
    related: list[ArticleSummary]
    """The articles on the same subject."""
    unresolved: list[str]
    """Referenced ids not in the archive, each once, by number."""


class ArticleLinker:
    """Makes each article's ``ArticleLinks`` from one site; each facet link made once.

    Given the site's ``LinkTable``, it reads the other articles from the table, not the
    site's dicts: what a forked worker does (``table.py`` says why)."""

    def __init__(self, site: Site, table: LinkTable | None = None) -> None:
        self.site = site
        self.table = table
        self._facet_links = {
            (kind, name): Link("../" + facet_href(facet), facet.name)
            for kind, facets in site.facets.items()
            for name, facet in facets.items()
        }

    def __call__(
        self, article: Faceted, article_id: str, references: Iterable[str]
    ) -> ArticleLinks:
        """``article``: the article or its record; ``references``: the ids it cites."""
        facets = []
        for kind, names in article_facets(article).items():
            links = [link for n in names if (link := self._facet_links.get((kind, n)))]
            if links:
                facets.append(FacetLink(FACET_KINDS[kind][0 if len(links) == 1 else 1], links))
        if self.table is not None:
            backlinks, related = self.table.linked(article_id)
        else:
            summaries, site = self.site.summaries, self.site
            backlinks = [summaries[i] for i in site.backlinks.get(article_id, ())]
            related = [summaries[i] for i in site.related.get(article_id, ())]
        return ArticleLinks(
            facets=facets,
            backlinks=backlinks,
            related=related,
            unresolved=sorted({r for r in references if not self.known(r)}, key=id_number),
        )

    def known(self, article_id: str) -> bool:
        """Whether the article is in the archive."""
        return article_id in (self.site.summaries if self.table is None else self.table)
