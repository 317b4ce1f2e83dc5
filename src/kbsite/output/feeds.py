"""The files a site offers to machines rather than readers: an Atom feed of the newest
articles, ``sitemap.xml``, ``robots.txt`` and an OpenSearch description.

All XML is built with ElementTree, which escapes text and attributes. Absolute links
need the address the site is published at (``base_url``); without it the feed links
stay relative to the feed and there is no sitemap or OpenSearch description, since
both are only valid with absolute addresses. Dates come from the articles, never from
the clock, so two builds of one archive are identical.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

from kbsite.config import Config
from kbsite.incremental.keys import text_digest
from kbsite.model import ArticleRecord
from kbsite.output.write import SiteWriter
from kbsite.site.link import Site
from kbsite.site.pages import article_href

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
SITEMAP_LIMIT = 50_000
"""URLs one sitemap file may hold (sitemaps.org); more go into numbered files."""


@dataclasses.dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str
    title: str
    href: str
    """Relative to the site's top: ``kb/Q315817.html``."""
    date: datetime.date
    summary: str
    category: str = ""


def atom_feed(
    title: str, description: str, base_url: str, entries: list[FeedEntry], language: str = "en"
) -> str:
    """The feed, newest first; ``entries`` already chosen and ordered."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": language})
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}subtitle").text = description
    ET.SubElement(feed, f"{{{ATOM}}}id").text = base_url or f"urn:kbsite:{_slug(title)}"
    newest = max((e.date for e in entries), default=datetime.date(1970, 1, 1))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _timestamp(newest)
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": base_url + "feed.xml"})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "href": base_url + "index.html"})
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "kbsite"
    for entry in entries:
        item = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(item, f"{{{ATOM}}}title").text = f"{entry.id}: {entry.title}"
        ET.SubElement(item, f"{{{ATOM}}}link", {"href": base_url + entry.href})
        ET.SubElement(item, f"{{{ATOM}}}id").text = (
            base_url + entry.href if base_url else f"urn:kbsite:{_slug(title)}:{entry.id}"
        )
        ET.SubElement(item, f"{{{ATOM}}}updated").text = _timestamp(entry.date)
        if entry.category:
            ET.SubElement(item, f"{{{ATOM}}}category", {"term": entry.category})
        ET.SubElement(item, f"{{{ATOM}}}summary").text = entry.summary
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = title
    return _xml(feed)


def sitemaps(
    base_url: str, pages: list[tuple[str, datetime.date | None]]
) -> Iterator[tuple[str, str]]:
    """``(path, xml)`` for ``sitemap.xml`` and, past 50,000 pages, the files it indexes."""
    ET.register_namespace("", SITEMAP)
    chunks = [pages[i : i + SITEMAP_LIMIT] for i in range(0, len(pages), SITEMAP_LIMIT)] or [[]]
    names = (
        ["sitemap.xml"]
        if len(chunks) == 1
        else [f"sitemap-{n}.xml" for n in range(1, len(chunks) + 1)]
    )
    for name, chunk in zip(names, chunks, strict=True):
        urlset = ET.Element(f"{{{SITEMAP}}}urlset")
        for path, date in chunk:
            url = ET.SubElement(urlset, f"{{{SITEMAP}}}url")
            ET.SubElement(url, f"{{{SITEMAP}}}loc").text = base_url + path
            if date is not None:
                ET.SubElement(url, f"{{{SITEMAP}}}lastmod").text = date.isoformat()
        yield name, _xml(urlset)
    if len(chunks) > 1:
        index = ET.Element(f"{{{SITEMAP}}}sitemapindex")
        for name in names:
            ET.SubElement(
                ET.SubElement(index, f"{{{SITEMAP}}}sitemap"), f"{{{SITEMAP}}}loc"
            ).text = base_url + name
        yield "sitemap.xml", _xml(index)


def robots_txt(base_url: str) -> str:
    lines = ["User-agent: *", "Allow: /"]
    if base_url:
        lines.append(f"Sitemap: {base_url}sitemap.xml")
    return "\n".join(lines) + "\n"


def opensearch_description(title: str, description: str, base_url: str) -> str:
    """Lets a browser add the archive's search (its address bar then searches it)."""
    ET.register_namespace("", OPENSEARCH)
    root = ET.Element(f"{{{OPENSEARCH}}}OpenSearchDescription")
    ET.SubElement(root, f"{{{OPENSEARCH}}}ShortName").text = title[:16]
    ET.SubElement(root, f"{{{OPENSEARCH}}}Description").text = description[:1024]
    ET.SubElement(root, f"{{{OPENSEARCH}}}InputEncoding").text = "UTF-8"
    ET.SubElement(
        root,
        f"{{{OPENSEARCH}}}Url",
        {
            "type": "text/html",
            "method": "get",
            "template": base_url + "search.html?q={searchTerms}",
        },
    )
    self_link = {"type": "application/opensearchdescription+xml", "rel": "self"}
    ET.SubElement(
        root, f"{{{OPENSEARCH}}}Url", {**self_link, "template": base_url + "opensearch.xml"}
    )
    return _xml(root)


def _xml(element: ET.Element) -> str:
    ET.indent(element)
    return ET.tostring(element, encoding="unicode", xml_declaration=True) + "\n"


def _timestamp(date: datetime.date) -> str:
    return f"{date.isoformat()}T00:00:00Z"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "archive"


# -- into the site ------------------------------------------------------------------


def write_feeds(
    site: Site,
    records: list[ArticleRecord],
    writer: SiteWriter,
    settings: Config,
    files: dict[str, str],
) -> dict[str, str]:
    """The feed, robots.txt and, when the site's address is known, the sitemap and the
    OpenSearch description; made after every other page, as the sitemap lists them all.
    Each is written only when its content changed; returns their paths and keys."""
    by_id = {r.id: r for r in records}
    entries = [
        FeedEntry(s.id, s.title, article_href(s.id), s.date, by_id[s.id].excerpt, s.category)
        for s in site.newest(settings.feed_size)
        if s.date is not None
    ]
    base = settings.base_url
    description = settings.description
    made = {
        "feed.xml": atom_feed(settings.title, description, base, entries, settings.language),
        "robots.txt": robots_txt(base),
    }
    if base:
        made["opensearch.xml"] = opensearch_description(settings.title, description, base)
        dates = {article_href(r.id): r.date for r in records}
        pages = sorted(p for p in files if p.endswith(".html") and p != "404.html")
        for name, xml in sitemaps(base, [(p, dates.get(p)) for p in pages]):
            made[name] = xml
    keys = {}
    for name, text in made.items():
        keys[name] = text_digest(text)
        if not writer.in_place or not _same_text(writer.live_path(name), text):
            writer.write_text(name, text)
    return keys


def _same_text(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False
