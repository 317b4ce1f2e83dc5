"""What an article page shows of other articles, packed for the processes that render it.

The processes that write the article pages are forked from the one holding the linked
site, and share its memory until either writes to it. Reading a Python object writes to
it (its reference count), which copies the page of memory it lives on: rendering every
article through the site's dicts, each page touching a dozen summaries and their
titles, copied most of the parent's records into every worker (some 100 MiB a worker at
57,000 articles, 400 at 250,000). ``LinkTable`` holds each article's summary and its
citing and related articles in one bytes object instead: reading a row makes new
objects and writes to nothing the parent holds but one small int an article.
"""

from __future__ import annotations

import datetime
import itertools
import marshal
from array import array

from kbsite.model import ArticleSummary
from kbsite.site.link import Site

_Row = tuple[str, str, int, str, str, str, list[str], list[str]]
"""id, title, date (ordinal, 0 for none), category, product, bare title, the ids citing
it, the ids related to it."""


class LinkTable:
    """Every article's ``ArticleSummary``, backlinks and related ids, a row each, made
    from one ``Site`` before the workers are forked (``ArticleLinker`` reads it)."""

    def __init__(self, site: Site) -> None:
        self._rows = {article_id: n for n, article_id in enumerate(site.summaries)}
        backlinks, related = site.backlinks, site.related
        packed = [
            marshal.dumps(
                (
                    s.id,
                    s.title,
                    s.date.toordinal() if s.date else 0,
                    s.category,
                    s.product,
                    s.bare_title,
                    backlinks.get(s.id, []),
                    related.get(s.id, []),
                )
            )
            for s in site.summaries.values()
        ]
        self._starts = array("Q", itertools.accumulate(map(len, packed), initial=0))
        self._data = b"".join(packed)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._rows

    def summary(self, article_id: str) -> ArticleSummary:
        return _summary(self._row(self._rows[article_id]))

    def linked(self, article_id: str) -> tuple[list[ArticleSummary], list[ArticleSummary]]:
        """The summaries of the articles citing it and of those related to it."""
        number = self._rows.get(article_id)
        if number is None:
            return [], []
        *_, citing, related = self._row(number)
        return [self.summary(i) for i in citing], [self.summary(i) for i in related]

    def _row(self, number: int) -> _Row:
        row: _Row = marshal.loads(self._data[self._starts[number] : self._starts[number + 1]])
        return row


def _summary(row: _Row) -> ArticleSummary:
    article_id, title, ordinal, category, product, bare_title, *_ = row
    date = datetime.date.fromordinal(ordinal) if ordinal else None
    return ArticleSummary(article_id, title, date, category, product, bare_title)
