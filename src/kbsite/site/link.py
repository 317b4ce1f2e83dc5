"""Stage 3: the whole archive as a graph, built before any page is written.

Backlinks, related articles and listing pages all need every article, so this stage
runs after every file is parsed and before anything is rendered.
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from kbsite.model import Article, ArticleRecord, ArticleSummary, excerpt
from kbsite.read.syntax import id_number

MAX_RELATED = 10
FEATURE_END = "\n"
"""Ends each of a record's features (none spans lines)."""
PRODUCT_BONUS = 2.5
"""Added to a candidate's score when it is about the same product."""

FACET_KINDS: dict[str, tuple[str, str]] = {
    "category": ("Category", "Categories"),
    "product": ("Product", "Products"),
    "keyword": ("Keyword", "Keywords"),
    "type": ("Article type", "Article types"),
    "year": ("Year", "Years"),
}
"""Each browsable facet: the folder its pages live in, and its singular and plural label."""

_WORD = re.compile(r"[a-z0-9][a-z0-9.+#]*[a-z0-9+#]|[a-z0-9]")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "cannot",
        "do",
        "does",
        "for",
        "from",
        "how",
        "in",
        "is",
        "it",
        "its",
        "may",
        "not",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "using",
        "when",
        "with",
        "you",
        "your",
        "will",
        "after",
        "before",
        "during",
        "error",
        "message",
        "messages",
        "microsoft",
        "windows",
    ]
)


@dataclasses.dataclass(slots=True)
class Facet:
    """One value of a facet (a product, a keyword, a year) and the articles that have it."""

    kind: str
    """A key of FACET_KINDS, also the folder of its listing pages."""
    name: str
    """The value as shown (``Microsoft Windows NT``, ``kbbug``, ``2001``)."""
    slug: str
    """File-name-safe and unique within the kind: ``microsoft-windows-nt``."""
    ids: list[str]
    """The articles, newest first."""


@dataclasses.dataclass(slots=True)
class Site:
    """Everything that links articles to each other, without their bodies."""

    summaries: dict[str, ArticleSummary]
    """Every article in the archive by id, in id order."""
    backlinks: dict[str, list[str]]
    """For each article, the articles that reference it."""
    related: dict[str, list[str]]
    """For each article, up to ten articles on the same subject."""
    facets: dict[str, dict[str, Facet]]
    """Facet kind, then facet name, to the facet."""
    unresolved: dict[str, list[str]]
    """Referenced ids not in the archive, with the articles that reference them."""

    def facet(self, kind: str, name: str) -> Facet | None:
        return self.facets.get(kind, {}).get(name)

    def newest(self, count: int) -> list[ArticleSummary]:
        dated = (s for s in self.summaries.values() if s.date)
        return heapq.nlargest(count, dated, key=lambda s: (s.date, s.id))


def article_record(article: Article) -> ArticleRecord:
    """What linking and listing need of a parsed article."""
    return ArticleRecord(
        id=article.id,
        source=article.source,
        title=article.title,
        title_prefix=article.title_prefix,
        date=article.date,
        category=article.category,
        product=article.product,
        bare_title=article.bare_title,
        keywords=list(article.keywords),
        references=list(dict.fromkeys(ref.target for ref in article.references)),
        features="".join(f"{feature}{FEATURE_END}" for feature in sorted(_features(article))),
        excerpt=excerpt(article),
    )


def features_of(record: ArticleRecord) -> list[str]:
    """A record's features as a list."""
    return record.features.split(FEATURE_END)[:-1]


def link_site(
    articles: Iterable[Article | ArticleRecord],
    related: Callable[[list[ArticleRecord]], dict[str, list[str]]] | None = None,
) -> Site:
    """Build the reference graph, the facets and the related-article lists.

    ``related`` computes the related-article lists (default: ``related_articles``);
    a build passes one that works in parallel or reuses what did not change.
    """
    records = sorted(
        (a if isinstance(a, ArticleRecord) else article_record(a) for a in articles),
        key=lambda r: id_number(r.id),
    )
    summaries = {r.id: ArticleSummary.of(r) for r in records}
    backlinks: dict[str, list[str]] = collections.defaultdict(list)
    unresolved: dict[str, list[str]] = collections.defaultdict(list)
    for record in records:
        for target in record.references:
            (backlinks if target in summaries else unresolved)[target].append(record.id)
    return Site(
        summaries=summaries,
        backlinks=dict(backlinks),
        related=(related or related_articles)(records),
        facets=_facets(records, summaries),
        unresolved=dict(sorted(unresolved.items(), key=lambda item: id_number(item[0]))),
    )


def site_graph(site: Site) -> dict[str, Any]:
    """The site as data, but what its records hold (summaries) and the related lists
    (kept apart): for ``relink_site``."""
    return {
        "backlinks": site.backlinks,
        "facets": {
            kind: {name: [facet.slug, facet.ids] for name, facet in by_name.items()}
            for kind, by_name in site.facets.items()
        },
        "unresolved": site.unresolved,
    }


def relink_site(
    records: Iterable[ArticleRecord], graph: dict[str, Any], related: dict[str, list[str]]
) -> Site:
    """The site ``link_site`` would make of ``records``, from the ``site_graph`` of a site
    made of records with the same links (``build.links_unchanged``), without linking
    the whole archive again."""
    ordered = sorted(records, key=lambda r: id_number(r.id))
    return Site(
        summaries={r.id: ArticleSummary.of(r) for r in ordered},
        backlinks=graph["backlinks"],
        related=related,
        facets={
            kind: {name: Facet(kind, name, slug, ids) for name, (slug, ids) in by_name.items()}
            for kind, by_name in graph["facets"].items()
        },
        unresolved=graph["unresolved"],
    )


class Faceted(Protocol):
    category: str
    product: str
    keywords: list[str]
    title_prefix: str | None

    @property
    def year(self) -> int | None: ...


def article_facets(article: Faceted) -> dict[str, list[str]]:
    """The facet values an article is listed under, by kind."""
    return {
        "category": [article.category] if article.category else [],
        "product": [article.product] if article.product else [],
        "keyword": list(article.keywords),
        "type": [article.title_prefix] if article.title_prefix else [],
        "year": [str(article.year)] if article.year else [],
    }


def _facets(
    records: list[ArticleRecord], summaries: dict[str, ArticleSummary]
) -> dict[str, dict[str, Facet]]:
    """Each facet's articles, newest first: the records are visited in that order."""
    members: dict[str, dict[str, list[str]]] = {
        kind: collections.defaultdict(list) for kind in FACET_KINDS
    }
    for record in sorted(records, key=lambda r: newest_first(summaries[r.id])):
        for kind, names in article_facets(record).items():
            for name in names:
                members[kind][name].append(record.id)
    facets: dict[str, dict[str, Facet]] = {}
    for kind, by_name in members.items():
        used = {"index"}  # the kind's own index page, kind/index.html
        facets[kind] = {}
        for name in sorted(by_name, key=lambda n: (n.casefold(), n)):
            facets[kind][name] = Facet(kind, name, _unique_slug(name, used), by_name[name])
    return facets


def newest_first(summary: ArticleSummary) -> tuple[int, int]:
    """Sort key: newest date first, undated last, then by id number."""
    ordinal = summary.date.toordinal() if summary.date else 0
    return (-ordinal, id_number(summary.id))


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-") or "x"


def _unique_slug(name: str, used: set[str]) -> str:
    base = slugify(name)
    slug, n = base, 1
    while slug in used:
        n += 1
        slug = f"{base}-{n}"
    used.add(slug)
    return slug


# -- related articles ---------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class RelatedIndex:
    """What scoring related articles needs of the whole archive: which articles hold
    each feature and what the feature weighs."""

    features: dict[str, list[str]]
    postings: dict[str, list[str]]
    idf: dict[str, float]
    cap: int
    """Features held by more articles than this are skipped."""
    product: dict[str, str]
    ids: list[str] = dataclasses.field(default_factory=list)
    """Every article by id number: scoring works on places in this list, whose sets are
    faster than sets of id strings, and whose order breaks ties (the lower id first)."""
    scored: dict[str, frozenset[int]] = dataclasses.field(default_factory=dict)
    """The holders of each feature that counts (held by 2 to ``cap`` articles), as sets:
    scoring intersects them rather than counting holder by holder."""
    by_product: dict[str, frozenset[int]] = dataclasses.field(default_factory=dict)
    place: dict[str, int] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = sorted(self.features, key=lambda i: (id_number(i), i))
        self.place = {article_id: n for n, article_id in enumerate(self.ids)}
        place = self.place
        self.scored = {
            f: frozenset(place[i] for i in ids)
            for f, ids in self.postings.items()
            if 2 <= len(ids) <= self.cap
        }
        groups: dict[str, list[int]] = collections.defaultdict(list)
        for article_id, product in self.product.items():
            if product:
                groups[product].append(place[article_id])
        self.by_product = {p: frozenset(ids) for p, ids in groups.items()}

    def holders(self, features: Iterable[str]) -> set[str]:
        """The articles whose lists can change when these features gain or lose holders."""
        found: set[str] = set()
        for feature in features:
            found.update(self.postings.get(feature, ()))
        return found


def related_index(records: Sequence[ArticleRecord]) -> RelatedIndex:
    features = {r.id: features_of(r) for r in records}
    postings: dict[str, list[str]] = collections.defaultdict(list)
    for article_id, feats in features.items():
        for feature in feats:
            postings[feature].append(article_id)
    total = max(len(records), 1)
    return RelatedIndex(
        features=features,
        postings=dict(postings),
        idf={f: math.log(1 + total / len(ids)) for f, ids in postings.items()},
        cap=max(50, min(400, total // 50)),
        product={r.id: r.product for r in records},
    )


def related_articles(records: Sequence[ArticleRecord]) -> dict[str, list[str]]:
    """For each article, the articles most related to it (``related_to``)."""
    index = related_index(records)
    return {r.id: related_to(index, r.id) for r in records}


def related_to(index: RelatedIndex, article_id: str, limit: int = MAX_RELATED) -> list[str]:
    """The articles most related to one article, best first.

    Each shared feature counts its inverse document frequency, and sharing the product
    adds PRODUCT_BONUS. A candidate must share two features, or one and the product: one
    common title word alone ("Purpose") relates nothing. Features held by very many
    articles are skipped: they say little and would make the pairing quadratic. Features
    are visited in sorted order so the float sums, and so the ties, come out the same in
    every process whatever the string hash seed.
    """
    usable = [f for f in index.features[article_id] if f in index.scored]
    seen: set[int] = set()
    twice: set[int] = set()
    for feature in usable:
        holders = index.scored[feature]
        twice |= seen & holders
        seen |= holders
    mine = index.product[article_id]
    same_product = seen & index.by_product[mine] if mine else set()
    candidates = twice | same_product
    candidates.discard(index.place[article_id])
    scores = dict.fromkeys(candidates, 0.0)
    for feature in usable:
        weight = index.idf[feature]
        for other in index.scored[feature] & candidates:
            scores[other] += weight
    for other in same_product & candidates:
        scores[other] += PRODUCT_BONUS
    ranked = heapq.nlargest(limit, [(score, -other) for other, score in scores.items()])
    return [index.ids[-other] for _, other in ranked]


def _features(article: Article) -> set[str]:
    """Title words (and the parts of dotted names like ``autoexec.fs3``), keywords, technologies."""
    words: set[str] = set()
    for word in _WORD.findall(article.bare_title.lower()):
        words.update(p for p in {word, *re.split(r"[.+#]+", word)} if len(p) > 2)
    words -= _STOPWORDS
    keywords = set(article.keywords)
    for field in article.footer:
        if field.name.lower() in ("keywords", "technology"):
            keywords.update(field.value.split())
    return {"t:" + w for w in words} | {"k:" + k.lower() for k in keywords}
