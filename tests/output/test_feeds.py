from __future__ import annotations

import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from kbsite.build import BuildOptions, build_site
from kbsite.config import Config
from kbsite.output import feeds
from kbsite.output.feeds import FeedEntry, atom_feed, opensearch_description, robots_txt, sitemaps
from kbsite.report import BuildReport

CONTENT = Path(__file__).parents[2] / "content"
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


def test_a_build_with_an_address_writes_every_machine_file(tmp_path: Path) -> None:
    settings = Config(
        title="Northwind Archive", base_url="https://kb.example.org/nw/", feed_size=10
    )
    site = tmp_path / "site"
    report = build_site(BuildOptions([CONTENT], site, settings=settings))
    assert report.errors == 0
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")} - {"404.html"}
    listed = {
        loc.text.removeprefix("https://kb.example.org/nw/")
        for loc in ET.parse(site / "sitemap.xml").getroot().iter(f"{S}loc")
        if loc.text
    }
    assert listed == pages
    feed = ET.parse(site / "feed.xml").getroot()
    dates = [e.findtext(f"{A}updated") for e in feed.findall(f"{A}entry")]
    assert len(dates) == 10 and dates == sorted(dates, reverse=True)
    assert (site / "opensearch.xml").is_file()
    assert "Sitemap: https://kb.example.org/nw/sitemap.xml" in (site / "robots.txt").read_text()
    assert 'href="feed.xml"' in (site / "index.html").read_text()


def test_a_build_without_an_address_has_no_sitemap(sample_site: tuple[Path, BuildReport]) -> None:
    site, _ = sample_site
    assert (site / "feed.xml").is_file() and (site / "robots.txt").is_file()
    assert not (site / "sitemap.xml").exists() and not (site / "opensearch.xml").exists()
