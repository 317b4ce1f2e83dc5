"""The link stage over a small site: three articles citing each other in a cycle."""

from __future__ import annotations

from pathlib import Path

from kbsite.model import Article
from kbsite.read.load import load_articles
from kbsite.report import BuildReport
from kbsite.site.link import link_site, slugify

CYCLE = Path(__file__).parents[1] / "sites" / "cycle"


def load(folder: Path) -> list[Article]:
    report = BuildReport()
    articles = load_articles(sorted(folder.glob("*.TXT")), 1, report)
    assert report.problems == []
    return articles


def test_backlinks_follow_the_cycle_and_ignore_self_references() -> None:
    site = link_site(load(CYCLE))
    assert site.backlinks == {
        "Q300002": ["Q300001"],
        "Q300003": ["Q300002"],
        "Q300001": ["Q300003"],
    }


def test_dead_reference_is_unresolved() -> None:
    site = link_site(load(CYCLE))
    assert site.unresolved == {"Q399999": ["Q300003"]}


def test_facets_list_newest_first_with_unique_slugs() -> None:
    site = link_site(load(CYCLE))
    assert site.facets["keyword"]["kbcycle"].ids == ["Q300003", "Q300002", "Q300001"]
    assert site.facets["type"]["FIX"].slug == "fix"
    assert site.facets["year"]["2001"].ids == ["Q300003", "Q300002", "Q300001"]
    assert site.facets["product"]["Northwind Cycle Tester"].slug == "northwind-cycle-tester"


def test_related_articles_share_rare_features() -> None:
    site = link_site(load(CYCLE))
    assert set(site.related["Q300001"]) <= {"Q300002", "Q300003"}
    assert "Q300001" not in site.related["Q300001"]


def test_slugify() -> None:
    assert slugify("Microsoft Windows NT") == "microsoft-windows-nt"
    assert slugify("C++ / Visual C++ 6.0") == "c-visual-c-6-0"
    assert slugify("???") == "x"
