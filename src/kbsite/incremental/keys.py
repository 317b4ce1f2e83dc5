"""Page keys: a digest of everything a page shows, so a rebuild rewrites only the pages
whose key changed.

An article page's key digests the renderer's fingerprint (templates, settings, kbsite's
version), its source file's digest and its ``ArticleLinks``; any other page's key, its
page object whole. An edit that changes no link (``links_unchanged``) keeps the keys
of every page made from the site graph alone (``kept_page_keys``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kbsite import __version__
from kbsite.config import Config
from kbsite.errors import OutputError
from kbsite.incremental.cache import BuildCache
from kbsite.model import ArticleRecord, ArticleSummary
from kbsite.render.renderer import templates_dir
from kbsite.site.kinds import Page
from kbsite.site.link import Site
from kbsite.site.pages import ArticleLinker, ArticleLinks, Link, MarkdownPage, article_href

STATIC_KEY = "static"
"""The key of a static file: copied whole by every build that writes the site whole."""


def renderer_fingerprint(settings: Config, nav: list[Link]) -> str:
    """Everything every page depends on: kbsite's version, the templates and static
    files (packaged and theme), the settings and the navigation. When it changes,
    every page is written again."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{__version__}\0{settings!r}\0{nav!r}\0".encode())
    folders = [templates_dir()] + ([settings.templates] if settings.templates else [])
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(folder)}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def page_keys(
    site: Site,
    records: Iterable[ArticleRecord],
    digests: dict[str, str],
    others: Sequence[Page],
    renderer_key: str,
) -> dict[str, str]:
    """Every page's path and key: a digest of all that the page shows.

    An article page shows its source (``digests``: each article's source digest) and
    its ``ArticleLinks``; other pages show their page object entire.
    """
    keys: dict[str, str] = {}
    shown = _ShownText(site)
    linker = ArticleLinker(site)
    for record in records:
        links = linker(record, record.id, record.references)
        text = f"{renderer_key}\x1d{digests[record.id]}\x1d{shown(links)}"
        keys[article_href(record.id)] = text_digest(text)
    for page in others:
        path = page.path
        if path in keys:
            raise OutputError(f"two pages would be written to {path}", Path(path))
        keys[path] = text_digest(f"{renderer_key}\x1d{shown(page)}")
    return keys


def kept_page_keys(
    site: Site,
    records: list[ArticleRecord],
    edited: list[ArticleRecord],
    digests: dict[str, str],
    texts: list[MarkdownPage],
    previous: BuildCache,
    renderer_key: str,
) -> dict[str, str] | None:
    """``page_keys`` when ``links_unchanged``: the previous build's key of every page
    made from the site graph alone, and of every article not read again; the keys of
    the ``edited`` (read again) made anew. None when the cache lacks one of them (the
    caller makes them all)."""
    made = page_keys(site, edited, digests, texts, renderer_key)
    keys: dict[str, str] = {}
    try:
        for record in records:
            href = article_href(record.id)
            keys[href] = made.get(href) or previous.pages[href]
        for page in texts:
            keys[page.path] = made[page.path]
        for path in previous.generated:
            keys[path] = previous.pages[path]
    except KeyError:
        return None
    return keys


_LINK_FIELDS = operator.attrgetter(
    "title", "title_prefix", "date", "category", "product", "bare_title", "keywords",
    "references", "features",
)  # fmt: skip
"""What of a record the site graph (``link.Site``) is made from: all but its source and
excerpt."""


def links_unchanged(
    records: list[ArticleRecord], old: dict[str, ArticleRecord], read_again: list[ArticleRecord]
) -> bool:
    """Whether the site graph is the one the cached records made: the same articles, each
    with the same ``_LINK_FIELDS``, so every page but those of edited articles is the same.

    A record read again is a new object; the others are the cached ones themselves, so
    only the ``read_again`` (those of ``records`` that are not ``old``'s) are compared.
    """
    if len(records) != len(old):
        return False
    for record in read_again:
        before = old.get(record.id)
        if before is None or _LINK_FIELDS(before) != _LINK_FIELDS(record):
            return False
    return True


class _ShownText:
    """What a page object shows, as text for its key: its ``repr``, but with each article
    summary as its digest, made once and reused. A summary recurs on many pages (every
    listing the article is in, the pages citing it), and spelling it anew each time,
    through the dataclass ``repr``, would cost more than the rest of an edit's rebuild."""

    def __init__(self, site: Site) -> None:
        self.digests = _SummaryDigests(site.summaries)
        self.fields: dict[type, tuple[str, ...]] = {}

    def summary(self, summary: ArticleSummary) -> str:
        digest = self.digests.get(summary.id)
        if digest is None:
            digest = self.digests[summary.id] = _summary_digest(summary)
        return digest

    def summaries(self, ids: Iterable[str]) -> str:
        return "\x1e".join(map(self.digests.__getitem__, ids))

    def __call__(self, value: Any) -> str:
        kind = type(value)
        if kind is ArticleSummary:
            return self.summary(value)
        if kind is Link:  # a listing's pager has a link to each of its pages
            return _link_text(value)
        if kind is ArticleLinks:
            return self.article_links(value)
        return self.walk(value)

    def article_links(self, links: ArticleLinks) -> str:
        """``walk``'s text for an article's links, spelled in one step: a build spells one
        for every article, and the walk's tests for each value's type were most of the
        plan's time."""
        facets = "\x1e".join(
            [
                f"FacetLink({facet.label!r}\x1f[" + "\x1e".join(map(_link_text, facet.links)) + "])"
                for facet in links.facets
            ]
        )
        backlinks = self.summaries(map(_ID, links.backlinks))
        related = self.summaries(map(_ID, links.related))
        unresolved = "\x1e".join(map(repr, links.unresolved))
        return f"ArticleLinks([{facets}]\x1f[{backlinks}]\x1f[{related}]\x1f[{unresolved}])"

    def walk(self, value: Any) -> str:
        """Any value's text: a dataclass's fields and a list's items each spelled by
        ``__call__``, anything else its ``repr``."""
        if isinstance(value, list | tuple):
            if set(map(type, value)) == {ArticleSummary}:  # a listing's entries
                return "[" + self.summaries(map(_ID, value)) + "]"
            return "[" + "\x1e".join([self(item) for item in value]) + "]"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            names = self.fields.get(type(value))
            if names is None:
                names = self.fields[type(value)] = tuple(f.name for f in dataclasses.fields(value))
            parts = [self(getattr(value, name)) for name in names]
            return f"{type(value).__name__}(" + "\x1f".join(parts) + ")"
        return repr(value)


_ID = operator.attrgetter("id")


def _link_text(link: Link) -> str:
    return f"Link({link.href!r}\x1f{link.text!r}\x1f{link.count!r}\x1f{link.current!r})"


class _SummaryDigests(dict[str, str]):
    """Each article's ``_summary_digest`` by id, made when first asked for."""

    def __init__(self, summaries: dict[str, ArticleSummary]) -> None:
        super().__init__()
        self.summaries = summaries

    def __missing__(self, article_id: str) -> str:
        digest = self[article_id] = _summary_digest(self.summaries[article_id])
        return digest


def _summary_digest(summary: ArticleSummary) -> str:
    """A summary's digest: a page key spells the summaries it shows this way, shorter
    than the summary itself, as the page keys of a whole archive spell many."""
    date = summary.date.isoformat() if summary.date else ""
    text = "\x1f".join(
        (summary.id, summary.title, date, summary.category, summary.product, summary.bare_title)
    )
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
