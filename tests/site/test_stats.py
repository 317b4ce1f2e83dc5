"""The statistics page: charts drawn as inline SVG at build time, each bar a link."""

from __future__ import annotations

import re
from pathlib import Path

from kbsite.model import Article
from kbsite.report import BuildReport

from ..render.test_render import Page


def test_the_charts_show_the_archive(
    sample_site: tuple[Path, BuildReport], content_articles: dict[str, Article]
) -> None:
    site = sample_site[0]
    html = (site / "stats.html").read_text(encoding="utf-8")
    page = Page(site / "stats.html")
    assert html.count("<svg ") == 3 and "style=" not in html and "<script>" not in html
    years = sorted({a.date.year for a in content_articles.values() if a.date})
    bars = re.findall(
        r'<a href="(year/\d{4}\.html)"[^>]*><rect [^>]*><title>(\d{4}): (\d+)</title>', html
    )
    assert [int(year) for _, year, _ in bars] == years
    for href, year, count in bars:
        assert int(count) == sum(
            1 for a in content_articles.values() if a.date and a.date.year == int(year)
        )
        assert (site / href).is_file()
    cited = re.findall(
        r'<a href="kb/(Q\d+)\.html"[^>]*><rect [^>]*><title>[^<]*: (\d+)</title>', html
    )
    counts = [int(n) for _, n in cited]
    assert counts and counts == sorted(counts, reverse=True)
    backlinks = {
        target: sum(target in {r.target for r in a.references} for a in content_articles.values())
        for target, _ in cited
    }
    assert [backlinks[t] for t, _ in cited] == counts
    assert "stats.html" in Page(site / "index.html").attrs("a", "href")
    assert page.attrs("figcaption", "id")
