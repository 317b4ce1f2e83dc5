"""Every rebuild decision, made once, into a typed plan the build then carries out.

A build decides in three steps, each as soon as what it depends on is known:

1. before reading (``plan_reading``): is the last build's cache usable (else why not),
   is the site already up to date (the build stops there), which files are read;
2. once the records are read (``plan_linking``): did any link change, so the site
   graph and related lists can be taken from the last build;
3. once the site is linked (``plan_pages``): is the site rewritten in place or staged
   whole, which page keys are kept or made, which pages are written, and what the
   search stage starts from.

The checks are the small predicates below; the build itself never asks about the cache.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from kbsite.config import Config
from kbsite.incremental.cache import BuildCache, SourceState, load_cache, load_cache_detail
from kbsite.incremental.keys import kept_page_keys, links_unchanged, page_keys
from kbsite.incremental.sources import ToRead, source_digests, stat_sources, unique_records
from kbsite.model import ArticleRecord
from kbsite.output.write import MARKER, read_site_marker
from kbsite.search.integrity import damage, index_files
from kbsite.search.work import SearchState
from kbsite.site.kinds import PAGE_KINDS, Page, site_pages
from kbsite.site.link import Site
from kbsite.site.pages import Link, MarkdownPage, article_href
from kbsite.site.related import PreviousLinks


@dataclasses.dataclass(slots=True)
class BuildInputs:
    """What a build is made from besides the articles' records: found before any
    decision, as every decision depends on them."""

    output: Path
    articles: list[Path]
    """The article files, in the order problems are reported."""
    texts: list[MarkdownPage]
    settings: Config
    nav: list[Link]
    """The Markdown pages' links, in every page's navigation."""
    renderer_key: str
    """``keys.renderer_fingerprint``: templates, settings, navigation, kbsite version."""
    text_pages_key: str
    """A digest of the Markdown pages: an edited one is something to do."""
    index_dir: Path
    """The whoosh index folder."""


@dataclasses.dataclass(slots=True)
class BuildPlan:
    """What a build does, as decided by ``plan_reading``, ``plan_linking`` and
    ``plan_pages`` in turn."""

    previous: BuildCache
    """The last build's cache, its detail loaded; an empty one when none is usable."""
    usable: bool
    """There is a usable cache of the last build of this site."""
    notes: list[str]
    """Why the cache is not used, or why every page is written: said to the user."""
    fresh_index: bool = False
    """The whoosh index is written anew: ``--full``, or its files are not the ones its
    manifest records (``search.integrity``)."""
    up_to_date: bool = False
    """Nothing changed since the last build: the build stops after checking."""
    unchanged: dict[str, SourceState] = dataclasses.field(default_factory=dict)
    """Files taken from the cache, by path."""
    todo: ToRead = dataclasses.field(default_factory=list)
    """Files read, each with its cached content digest (an unchanged content is not parsed)."""
    links: PreviousLinks = dataclasses.field(default_factory=PreviousLinks)
    """What the last build's site graph and related lists were made of."""
    read_again: list[ArticleRecord] = dataclasses.field(default_factory=list)
    """The records that are not the last build's own objects (read again, or new): the
    only ones whose links or page can have changed."""
    same_links: bool = False
    """No record changed what the site graph is made of: graph and lists are reused."""
    order: SearchState | None = None
    """The last build's archive order, which is this one's when no link changed."""
    in_place: bool = False
    """The site is updated in place (the same templates and settings), not staged whole."""
    old_keys: dict[str, str] = dataclasses.field(default_factory=dict)
    """The key each page of the site was written under; empty when staged whole."""
    keys: dict[str, str] = dataclasses.field(default_factory=dict)
    """Every page's key in this build."""
    others: list[Page] = dataclasses.field(default_factory=list)
    """The pages besides the articles' that are written (their key changed): of all of
    them, or only of the Markdown pages when the rest keep their keys."""
    generated: list[str] = dataclasses.field(default_factory=list)
    """The pages made from the site graph alone (``PageKind.from_graph``)."""
    render: set[str] = dataclasses.field(default_factory=set)
    """The articles whose page is written (its key changed)."""
    digests: dict[str, str] = dataclasses.field(default_factory=dict)
    """Each article's source digest, by id."""
    search: SearchState = dataclasses.field(default_factory=SearchState)
    """What the search stage starts from: the last build's state when in place."""


def plan_reading(inputs: BuildInputs, full: bool) -> BuildPlan:
    """Step 1: the cache (unless ``full``), whether the site is up to date, which files
    are read."""
    previous, why = (None, None) if full else load_cache(inputs.output)
    notes = [why] if why is not None else []
    fresh = full or index_damaged(inputs.index_dir, notes)
    if previous is None:
        return _from_scratch(inputs, notes, fresh)
    unchanged, todo = stat_sources(inputs.articles, previous)
    if not fresh and up_to_date(previous, unchanged, todo, inputs):
        return BuildPlan(previous, True, notes, up_to_date=True, unchanged=unchanged, todo=todo)
    why = load_cache_detail(inputs.output, previous, {str(p): p for p in inputs.articles})
    if why is not None:
        return _from_scratch(inputs, [*notes, why], fresh)
    return BuildPlan(previous, True, notes, fresh, unchanged=unchanged, todo=todo)


def plan_changes(
    inputs: BuildInputs, previous: BuildCache, changed: set[str], links: PreviousLinks
) -> BuildPlan:
    """Step 1 for a build that holds the last build in memory (``incremental.session``):
    its cache, detail included, and what its site was made of (``links``), and knows
    which files changed since: those are read, and the files new to the cache; every
    other one is taken as that build read it, without a look at the disk."""
    known = previous.sources
    unchanged: dict[str, SourceState] = {}
    todo: ToRead = []
    for path in inputs.articles:
        name = str(path)
        old = known.get(name)
        if old is None or name in changed:
            todo.append((path, old.digest if old else None))
        else:
            unchanged[name] = old
    done = (
        not todo
        and unchanged.keys() == known.keys()
        and (previous.renderer, previous.text_pages) == (inputs.renderer_key, inputs.text_pages_key)
    )
    plan = BuildPlan(previous, True, [], up_to_date=done, unchanged=unchanged, todo=todo)
    plan.links = links
    return plan


def _from_scratch(inputs: BuildInputs, notes: list[str], fresh: bool) -> BuildPlan:
    todo: ToRead = [(path, None) for path in inputs.articles]
    return BuildPlan(BuildCache(), False, notes, fresh, todo=todo)


def index_damaged(index_dir: Path, notes: list[str]) -> bool:
    """Whether the whoosh index's files are not the ones its manifest records (an index
    with none, written by an older kbsite, included), so it must be written anew; a
    note says why, unless there is no index yet."""
    why = damage(index_dir)
    if why is not None and index_dir.exists():
        notes.append(f"the search index is damaged ({why}); rebuilding it")
    return why is not None


def up_to_date(
    previous: BuildCache, unchanged: dict[str, SourceState], todo: ToRead, inputs: BuildInputs
) -> bool:
    """Whether the last build's site is this build's: every source file the one it read
    (as ``stat_sources`` tells), the same templates, settings and Markdown pages, and the
    site and whoosh index as it left them (the index's files also as its manifest says,
    ``index_damaged``)."""
    return (
        not todo
        and unchanged.keys() == previous.sources.keys()
        and (previous.renderer, previous.text_pages) == (inputs.renderer_key, inputs.text_pages_key)
        and index_files(inputs.index_dir) == previous.index_files
        and (read_site_marker(inputs.output) or {}).get("index")
        == index_note(inputs.index_dir, inputs.output)
    )


def plan_linking(plan: BuildPlan, records: list[ArticleRecord]) -> None:
    """Step 2: what the last build's site was made of (unless ``plan_changes`` had it
    at hand), and whether any link changed."""
    if not plan.usable:
        return
    old = plan.previous
    if not plan.links.records:
        old_records = {r.id: r for r in unique_records(old.sources)[0]}
        plan.links = PreviousLinks(old_records, old.related, old.graph)
    cached = plan.links.records
    plan.read_again = [r for r in records if cached.get(r.id) is not r]
    plan.same_links = links_unchanged(records, cached, plan.read_again)
    plan.order = old.search if plan.same_links else None


def plan_pages(
    plan: BuildPlan,
    site: Site,
    records: list[ArticleRecord],
    states: dict[str, SourceState],
    inputs: BuildInputs,
) -> None:
    """Step 3: in place or staged, every page's key (kept or made), what is written."""
    old = plan.previous
    plan.in_place = plan.usable and writes_in_place(old, inputs)
    plan.digests = source_digests(states)
    kept = None
    candidates = records
    if plan.in_place:
        plan.old_keys = old.pages
        plan.search = old.search
        if plan.same_links:
            kept = kept_page_keys(
                site, records, plan.read_again, plan.digests, inputs.texts, old,
                inputs.renderer_key,
            )  # fmt: skip
    elif plan.usable:
        plan.notes.append("the templates or settings changed: writing every page")
    if kept is not None:
        plan.others, plan.keys, plan.generated = list(inputs.texts), kept, old.generated
        candidates = plan.read_again  # every other article kept its page's key
    else:
        plan.others = site_pages(site, inputs.settings, inputs.texts)
        plan.keys = page_keys(site, records, plan.digests, plan.others, inputs.renderer_key)
        plan.generated = [page.path for page in plan.others if _from_graph(page)]
    plan.render = {r.id for r in candidates if page_changed(plan, article_href(r.id))}
    plan.others = [page for page in plan.others if page_changed(plan, page.path)]


def writes_in_place(previous: BuildCache, inputs: BuildInputs) -> bool:
    """Whether the site's pages were written with this build's templates and settings,
    into a site that is still there: only the pages whose key changed are rewritten."""
    return previous.renderer == inputs.renderer_key and (inputs.output / MARKER).exists()


def page_changed(plan: BuildPlan, path: str) -> bool:
    return plan.old_keys.get(path) != plan.keys[path]


_GRAPH_KINDS = tuple(kind.page for kind in PAGE_KINDS if kind.from_graph)


def _from_graph(page: Page) -> bool:
    return isinstance(page, _GRAPH_KINDS)


def index_note(index: Path, output: Path) -> str:
    """Where the index is, as the site's marker says it for later commands."""
    return os.path.relpath(index.absolute(), output.resolve())
