"""What forked worker processes inherit: one typed context, set before a pool forks.

Workers are forked (``parallel.py``), so they get the parent's state without pickling
it; the stage that starts a pool puts what its workers read here with ``inherited``,
and the workers' entry points read it back with ``context()``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kbsite.config import Config
from kbsite.model import Article
from kbsite.output.spool import ArticleSpool
from kbsite.output.write import SiteWriter
from kbsite.render.renderer import PageRenderer
from kbsite.search.work import SearchShare
from kbsite.site.link import RelatedIndex, Site
from kbsite.site.pages import Link
from kbsite.site.table import LinkTable

if TYPE_CHECKING:
    from kbsite.output.pages import OtherPages


@dataclasses.dataclass(slots=True)
class WorkerContext:
    """Everything a worker may read of the process that forked it."""

    spool: ArticleSpool | None = None
    """Where the build's processes put the articles they parse, to take them back when
    writing them (``spool.py``); None outside a build."""
    related: RelatedIndex | None = None
    """The index related articles are scored with, while they are."""
    site: Site | None = None
    """The linked site the pages are rendered from, while they are."""
    links: LinkTable | None = None
    """The site's ``LinkTable``, which the workers rendering article pages read the other
    articles from, while they do (``output.pages.write_pages`` makes it when the pages
    are written by forked workers)."""
    settings: Config = dataclasses.field(default_factory=Config)
    nav: list[Link] = dataclasses.field(default_factory=list)
    """The Markdown pages the navigation links to."""
    site_search: bool = True
    """False for a reader with a search of its own (the ZIM): ``PageRenderer``'s."""
    writer: SiteWriter | None = None
    """The site's writer, which workers write the article pages with."""
    articles: dict[str, Article] = dataclasses.field(default_factory=dict)
    """Every article whole, by id, for an export (a build's workers read the spool)."""
    search: SearchShare | None = None
    """The search stage's part in the process (its own whoosh segment), while articles
    are analyzed."""
    others: OtherPages | None = None
    """The pages besides the articles' that the workers write once their articles are
    done, while they are (``output.pages.write_pages``)."""
    renderer: PageRenderer | None = None
    """Made by each worker when it first renders (``page_renderer``), then reused."""

    def page_renderer(self) -> PageRenderer:
        if self.renderer is None:
            if self.site is None:
                raise RuntimeError("no site to render: the worker context was not set")
            self.renderer = PageRenderer(
                self.site,
                self.settings,
                site_search=self.site_search,
                nav_pages=self.nav,
                table=self.links,
            )
        return self.renderer


_current = WorkerContext()


def context() -> WorkerContext:
    """The context set by the innermost ``inherited``."""
    return _current


@contextlib.contextmanager
def inherited(new: WorkerContext) -> Iterator[WorkerContext]:
    """Make ``new`` the context of the workers forked within (usually ``context()``
    with a few fields replaced); the previous one is back afterwards."""
    global _current
    previous, _current = _current, new
    try:
        yield new
    finally:
        _current = previous
