"""Which listing pages exist, their paths, order and pagination."""

from __future__ import annotations

import datetime
from pathlib import Path

from kbsite.model import Article
from kbsite.site.link import link_site
from kbsite.site.pages import PAGE_SIZE, facet_index_pages, home_page, listing_pages


def archive(count: int) -> list[Article]:
    start = datetime.date(1999, 1, 1)
    return [
        Article(
            id=f"Q{100000 + n}",
            source=Path(f"Q{100000 + n}.TXT"),
            title=f"PRB: {'Zebra' if n % 2 else '3D'} article {n}",
            title_prefix="PRB",
            date=start + datetime.timedelta(days=n),
            category="winnt",
            product="Northwind Pager",
            keywords=["kbbug"],
        )
        for n in range(count)
    ]


def test_listings_are_paginated_newest_first() -> None:
    count = 2 * PAGE_SIZE + 50
    site = link_site(archive(count))
    pages = [p for p in listing_pages(site) if p.path.startswith("category/")]
    assert [p.path for p in pages] == [
        "category/winnt.html",
        "category/winnt.page2.html",
        "category/winnt.page3.html",
    ]
    assert [len(p.entries) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 50]
    assert pages[0].entries[0].id == f"Q{100000 + count - 1}"
    assert pages[-1].entries[-1].id == "Q100000"
    first, middle, last = (p.pager for p in pages)
    assert first is not None and middle is not None and last is not None
    assert first.previous is None and first.next == "../category/winnt.page2.html"
    assert middle.previous == "../category/winnt.html"
    assert last.next is None
    assert [link.current for link in middle.pages] == [False, True, False]
    assert pages[1].title == "Category: winnt (page 2)"


def test_title_index_groups_by_initial_of_the_bare_title() -> None:
    site = link_site(archive(10))
    titles = [p for p in listing_pages(site) if p.path.startswith("titles/")]
    assert [p.path for p in titles] == ["titles/0-9.html", "titles/z.html"]
    assert [e.id for e in titles[1].entries][:2] == ["Q100001", "Q100003"]
    assert [link.text for link in titles[0].letters] == ["#", "Z"]


def test_facet_index_and_home() -> None:
    site = link_site(archive(10))
    indexes = {p.path: p for p in facet_index_pages(site)}
    assert set(indexes) == {
        "category/index.html",
        "product/index.html",
        "keyword/index.html",
        "type/index.html",
        "year/index.html",
        "titles/index.html",
    }
    assert [(v.text, v.count) for v in indexes["keyword/index.html"].values] == [("kbbug", 10)]
    home = home_page(site, "Archive")
    assert home.article_count == 10
    assert (home.first_year, home.last_year) == (1999, 1999)
    assert [s.id for s in home.recent][:2] == ["Q100009", "Q100008"]
