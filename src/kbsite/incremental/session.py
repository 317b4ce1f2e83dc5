"""A build that keeps its state in memory between rebuilds: ``kbsite serve --watch``.

A CLI rebuild starts by reading the last build's cache from disk and looking at every
source file's size and time. A session keeps what its last build left instead (the
``BuildCache`` as built: records, site graph, related lists, page keys, search state)
and is told which files changed, as the watcher saw them: a rebuild after an edit
reads only those files (``plan.plan_changes``), walking the sources again only when a
file came, went or is not an article. It is the same build (``build.py``, the same
stages and plan), which publishes the pages it wrote before it makes the search
indexes (``SiteWriter.publish_written``), so the edited page is shown first; then the
build's own publish puts everything in place as a CLI build would have.

The memory is trusted only while the cache on disk is the one the session's last
build wrote: another build of the site (``kbsite build`` in a terminal) makes the
next rebuild read the cache again, as does a rebuild that failed.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from kbsite.build import BuildOptions, build_site, find_inputs
from kbsite.errors import Problem
from kbsite.incremental.cache import (
    RACY_SECONDS,
    BuildCache,
    cache_path,
    file_digest,
    load_cache_detail,
    save_cache,
)
from kbsite.incremental.keys import STATIC_KEY
from kbsite.incremental.plan import (
    BuildInputs,
    BuildPlan,
    plan_changes,
    plan_reading,
    up_to_date,
)
from kbsite.model import ArticleRecord
from kbsite.output.lock import SiteLocked, site_lock
from kbsite.output.write import SiteWriter
from kbsite.report import BuildReport
from kbsite.site.link import Site
from kbsite.site.related import PreviousLinks

SETTLE_SECONDS = 5.0
"""How long after the newest edit ``settle`` saves the cache. Saving it rewrites the
whole cache (most of a second at 57,000 articles), and an edit saved meanwhile waits
for it: so it waits for a pause in the editing, not only for the files to be older than
``RACY_SECONDS`` (which it must be at least)."""

Stamp = tuple[int, int, int]
"""A file's inode, size and modification time: whether it is still the one written."""


@dataclasses.dataclass(slots=True)
class HeldBuild:
    """What the session's last build left, as its cache on disk holds it."""

    inputs: BuildInputs
    cache: BuildCache
    """Its detail loaded: records, related lists, page keys, search state, graph."""
    found: list[Problem]
    """The problems of finding the source files (a folder that cannot be listed)."""
    names: dict[str, str]
    """Each article file's name as the build knows it, by its absolute path."""
    links: PreviousLinks
    """What its site was made of, and the site itself (none when read from disk)."""
    stamp: Stamp | None
    """``build.bin`` as this build left it."""
    settled: bool = False
    """No file it read is too recent for its cache to trust (``BuildSession.settle``)."""


class BuildSession:
    """Builds of one site, each handed the files changed since the last."""

    def __init__(self, options: BuildOptions, shown: Callable[[], None] | None = None) -> None:
        """``shown`` is called once a build's pages are in place (the open pages reload)."""
        self.options = options
        self.shown = shown
        self.held: HeldBuild | None = None
        self.changed: list[Path] = []
        self.found: list[Problem] = []
        self.pages_shown = False
        self.roots = [(str(p.resolve()), os.path.abspath(p)) for p in options.sources]
        """Each source as the watcher names it (resolved) and as the build does."""

    def rebuild(self, changed: Iterable[Path]) -> BuildReport:
        """Build the site again after ``changed`` (absolute paths) changed."""
        self.changed = list(changed)
        self.pages_shown = False
        try:
            report = build_site(self.options, session=self)
        except BaseException:
            self.held = None
            raise
        if not self.pages_shown and self.shown is not None:
            self.shown()
        return report

    def prime(self) -> bool:
        """Take the last build's state from disk, when the site is up to date with its
        sources; whether it was (a site being built elsewhere is left alone)."""
        try:
            with site_lock(self.options.output, wait=0):
                report = BuildReport()
                inputs = find_inputs(self.options, report)
                plan = plan_reading(inputs, full=False)
                paths = {str(p): p for p in inputs.articles}
                if plan.up_to_date:
                    why = load_cache_detail(inputs.output, plan.previous, paths)
                    up_to_date = why is None
                else:
                    up_to_date = plan.usable and _only_touched(plan, inputs)
                if up_to_date:
                    self.found = report.problems
                    self.built(inputs, plan.previous)
        except SiteLocked:
            return False
        return self.held is not None

    def settle(self) -> None:
        """Once the files the last build read are older than ``SETTLE_SECONDS``, save
        its cache again as of now, so that a CLI build trusts their size and time (and finds
        nothing to do) rather than reading them again; a file that changed since is
        left for the rebuild the watcher will ask for."""
        held = self._usable()
        if held is None or held.settled:
            return
        cache = held.cache
        trusted_before = (cache.started - RACY_SECONDS) * 1e9
        racy = [
            (n, state) for n, state in cache.sources.items() if state.mtime_ns >= trusted_before
        ]
        held.settled = not racy
        if not racy or max(s.mtime_ns for _, s in racy) >= (time.time() - SETTLE_SECONDS) * 1e9:
            return
        now = time.time()
        for name, state in racy:
            try:
                stat = os.stat(name)
                same = (stat.st_size, stat.st_mtime_ns) == (state.size, state.mtime_ns)
                if not same or file_digest(Path(name).read_bytes()) != state.digest:
                    return
            except OSError:
                return
        try:
            with site_lock(self.options.output, wait=0):
                if self._usable() is held:
                    cache.started = now
                    save_cache(self.options.output, cache)
                    held.stamp = _stamp(cache_path(self.options.output))
                    held.settled = True
        except SiteLocked:
            return

    # -- the build's side -------------------------------------------------------------

    def plan_reading(
        self, options: BuildOptions, report: BuildReport
    ) -> tuple[BuildInputs, BuildPlan]:
        """``find_inputs`` and step 1 of the plan, from the held build when there is one."""
        held = self._usable()
        if held is None or options.full:
            return (inputs := self._find_inputs(report)), plan_reading(inputs, options.full)
        changed = [self._as_given(path) for path in self.changed]
        names = held.names
        if all(name in names and os.path.isfile(name) for name in changed):
            inputs = held.inputs
            self.found = held.found
            report.sources = len(inputs.articles)
            report.problems.extend(held.found)
        else:  # a file came or went, or one that is not an article changed
            inputs = self._find_inputs(report)
            names = _names(inputs)
        read = {names[name] for name in changed if name in names}
        return inputs, plan_changes(inputs, held.cache, read, held.links)

    def _find_inputs(self, report: BuildReport) -> BuildInputs:
        before = len(report.problems)
        inputs = find_inputs(self.options, report)
        self.found = report.problems[before:]
        return inputs

    def pages_written(self, writer: SiteWriter, plan: BuildPlan) -> None:
        """Put the pages written so far in place, and take away those gone, before the
        build goes on to the search indexes and the cache."""
        if not writer.in_place:
            return
        gone = [
            path
            for path, key in plan.old_keys.items()
            if key != STATIC_KEY and path.endswith(".html") and path not in plan.keys
        ]
        writer.publish_written(gone)
        self.pages_shown = True
        if self.shown is not None:
            self.shown()

    def built(
        self,
        inputs: BuildInputs,
        cache: BuildCache,
        records: list[ArticleRecord] | None = None,
        site: Site | None = None,
    ) -> None:
        """Keep what the build left (``cache`` as it saved it, its ``records`` and
        ``site``) for the next one."""
        stamp = _stamp(cache_path(inputs.output))
        held = self.held
        names = held.names if held is not None and held.inputs is inputs else _names(inputs)
        links = PreviousLinks()
        if records is not None and site is not None:
            links = PreviousLinks({r.id: r for r in records}, cache.related, cache.graph, site)
        self.held = HeldBuild(inputs, cache, self.found, names, links, stamp)

    def _usable(self) -> HeldBuild | None:
        held = self.held
        if held is None or _stamp(cache_path(self.options.output)) != held.stamp:
            self.held = None
            return None
        return held

    def _as_given(self, path: Path) -> str:
        """A path the watcher gave, as ``os.path.abspath`` of the build's name for it."""
        text = str(path)
        for resolved, given in self.roots:
            if text == resolved or text.startswith(resolved + os.sep):
                return given + text[len(resolved) :]
        return text


def _only_touched(plan: BuildPlan, inputs: BuildInputs) -> bool:
    """Whether the files the plan reads again hold what the cache says (their time
    changed, or was too close to the last build's to be trusted), and the site is
    otherwise up to date; the cache then records them as they are, as a build would."""
    previous = plan.previous
    states = dict(plan.unchanged)
    for path, digest in plan.todo:
        try:
            stat = path.stat()
            same = digest is not None and file_digest(path.read_bytes()) == digest
        except OSError:
            return False
        if not same:
            return False
        states[str(path)] = dataclasses.replace(
            previous.sources[str(path)], size=stat.st_size, mtime_ns=stat.st_mtime_ns
        )
    if not up_to_date(previous, states, [], inputs):
        return False
    previous.sources = {name: states[name] for name in previous.sources}
    return True


def _names(inputs: BuildInputs) -> dict[str, str]:
    return {os.path.abspath(p): str(p) for p in inputs.articles}


def _stamp(path: Path) -> Stamp | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
