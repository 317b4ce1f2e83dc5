from __future__ import annotations

import datetime
from xml.etree import ElementTree as ET

import pytest

from kbsite import feeds
from kbsite.feeds import FeedEntry, atom_feed, opensearch_description, robots_txt, sitemaps

A = "{http://www.w3.org/2005/Atom}"
S = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def entries() -> list[FeedEntry]:
    return [
        FeedEntry(
            "Q310002",
            "Newer <b>& bold</b>",
            "kb/Q310002.html",
            datetime.date(2002, 5, 8),
            "x < y",
            "ledger",
        ),
        FeedEntry("Q310001", "Older", "kb/Q310001.html", datetime.date(2001, 1, 2), "first"),
    ]


def test_atom_feed_with_a_base_url_is_absolute_and_escaped() -> None:
    feed = ET.fromstring(
        atom_feed("Ledger & Co", "All of it", "https://kb.example.org/", entries())
    )
    assert feed.findtext(f"{A}title") == "Ledger & Co"
    assert feed.findtext(f"{A}updated") == "2002-05-08T00:00:00Z"
    first = feed.findall(f"{A}entry")[0]
    assert first.findtext(f"{A}title") == "Q310002: Newer <b>& bold</b>"
    assert first.findtext(f"{A}id") == "https://kb.example.org/kb/Q310002.html"
    assert first.find(f"{A}link").get("href") == "https://kb.example.org/kb/Q310002.html"
    assert first.findtext(f"{A}summary") == "x < y"
    assert first.find(f"{A}category").get("term") == "ledger"


def test_atom_feed_without_a_base_url_is_relative_with_urn_ids() -> None:
    feed = ET.fromstring(atom_feed("Ledger Archive", "d", "", entries()))
    first = feed.findall(f"{A}entry")[0]
    assert first.find(f"{A}link").get("href") == "kb/Q310002.html"
    assert first.findtext(f"{A}id") == "urn:kbsite:ledger-archive:Q310002"


def test_one_sitemap_or_an_index_of_several(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [(f"kb/Q{310000 + n}.html", datetime.date(2001, 1, 1 + n)) for n in range(5)]
    [(name, text)] = list(sitemaps("https://kb.example.org/", pages))
    urls = ET.fromstring(text).findall(f"{S}url")
    assert name == "sitemap.xml" and len(urls) == 5
    assert urls[0].findtext(f"{S}loc") == "https://kb.example.org/kb/Q310000.html"
    assert urls[0].findtext(f"{S}lastmod") == "2001-01-01"
    monkeypatch.setattr(feeds, "SITEMAP_LIMIT", 2)
    files = dict(sitemaps("https://kb.example.org/", pages))
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml", "sitemap.xml"]
    index = ET.fromstring(files["sitemap.xml"])
    assert [e.findtext(f"{S}loc") for e in index.findall(f"{S}sitemap")] == [
        f"https://kb.example.org/sitemap-{n}.xml" for n in (1, 2, 3)
    ]


def test_robots_and_opensearch() -> None:
    assert robots_txt("") == "User-agent: *\nAllow: /\n"
    assert robots_txt("https://kb.example.org/").endswith(
        "Sitemap: https://kb.example.org/sitemap.xml\n"
    )
    root = ET.fromstring(
        opensearch_description("Northwind Support Archive", "d", "https://kb.example.org/")
    )
    url = root.find("{http://a9.com/-/spec/opensearch/1.1/}Url")
    assert url.get("template") == "https://kb.example.org/search.html?q={searchTerms}"
