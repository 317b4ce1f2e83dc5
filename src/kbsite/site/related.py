"""Related articles for a whole archive, in parallel, and reused where an edit cannot
change them; and the site graph made again from the last build's when no link changed.

Scoring one article's list is ``link.related_to``; this module decides which lists to
score and spreads the scoring over forked workers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kbsite.model import ArticleRecord
from kbsite.parallel import parallel_map
from kbsite.read.syntax import id_number
from kbsite.site.link import (
    RelatedIndex,
    Site,
    features_of,
    link_site,
    related_index,
    related_to,
    relink_site,
)
from kbsite.worker import context, inherited


@dataclasses.dataclass(slots=True)
class PreviousLinks:
    """What the last build's site was made of, for an incremental rebuild to reuse."""

    records: dict[str, ArticleRecord] = dataclasses.field(default_factory=dict)
    """The records the related lists were computed from, by id."""
    related: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    graph: dict[str, Any] = dataclasses.field(default_factory=dict)
    """``link.site_graph`` of that site; usable only when no link changed."""
    site: Site | None = None
    """That site itself, when a build kept it in memory (``incremental.session``)."""


def linked_site(
    records: list[ArticleRecord], previous: PreviousLinks, same_links: bool, jobs: int
) -> Site:
    """The site graph: made again from the previous one when the records' links are the
    ones it was made of (``same_links``), or that site itself when it is at hand, else
    by linking the archive."""
    if same_links and previous.site is not None:
        return previous.site
    if same_links and previous.graph:
        return relink_site(records, previous.graph, related_lists(records, previous, jobs))
    return link_site(records, related=lambda rs: related_lists(rs, previous, jobs))


def related_lists(
    records: list[ArticleRecord], previous: PreviousLinks, jobs: int
) -> dict[str, list[str]]:
    """Every article's related articles: the previous lists, recomputed only for the
    articles whose lists an edit can change, or all of them (in parallel) when articles
    came or went.

    An article's list depends on the holders of its features and their products; when
    one article's features or product change, the lists that can change are its own and
    those of every article sharing a feature it had or has. Those that held one of its
    old features before hold it still, unless they changed too: the new index tells them.
    """
    ids = [r.id for r in records]
    old = previous.records
    if not _lists_reusable(previous, ids):
        return dict(zip(ids, related_all(related_index(records), ids, jobs), strict=True))
    changed = [
        r.id for r in records if (old[r.id].features, old[r.id].product) != (r.features, r.product)
    ]
    related = {i: previous.related[i] for i in ids}
    if changed:
        index = related_index(records)
        affected: set[str] = set(changed)
        for article_id in changed:
            affected |= index.holders(features_of(old[article_id]))
            affected |= index.holders(index.features[article_id])
        ordered = sorted(affected, key=id_number)
        related.update(zip(ordered, related_all(index, ordered, jobs), strict=True))
    return related


def _lists_reusable(previous: PreviousLinks, ids: list[str]) -> bool:
    """Whether the previous lists are of the same articles, every one of them kept."""
    old = previous.records
    return bool(old) and old.keys() == set(ids) and not previous.related.keys() < old.keys()


def related_all(index: RelatedIndex, ids: list[str], jobs: int) -> list[list[str]]:
    """The related lists of ``ids``, scored by forked workers. Their ids are the
    index's own strings, not the copies the workers sent back: the lists stay in memory
    for the whole build, a few bytes an entry rather than a string's fifty."""
    own, place = index.ids, index.place
    with inherited(dataclasses.replace(context(), related=index)):
        return [
            [own[place[i]] for i in related]
            for related in parallel_map(_related_of, ids, jobs, chunksize=256)
        ]


def _related_of(article_id: str) -> list[str]:
    index = context().related
    assert index is not None, "related_all sets the index"
    return related_to(index, article_id)
