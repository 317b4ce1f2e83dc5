"""Which source files a build reads, and reading them: a file whose size and time are
the ones the last build saw is taken from the cache; the others are read and parsed in
parallel, the articles parsed put in the spool for the writing stage.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import sys
from pathlib import Path

from kbsite.errors import Problem
from kbsite.incremental.cache import RACY_SECONDS, BuildCache, SourceState, file_digest
from kbsite.model import ArticleRecord
from kbsite.output.spool import Place
from kbsite.parallel import parallel_map
from kbsite.read import load
from kbsite.read.syntax import id_number
from kbsite.report import BuildReport, Progress, progress_of
from kbsite.site.link import article_record
from kbsite.worker import context

ToRead = list[tuple[Path, str | None]]
"""Files to read, each with its content digest in the cache, if any."""


def stat_sources(files: list[Path], previous: BuildCache) -> tuple[dict[str, SourceState], ToRead]:
    """The files whose size and time are the ones ``previous`` saw, with their cached
    state; and the others, to read, with their cached content digest if any."""
    known = previous.sources
    trusted_before = (previous.started - RACY_SECONDS) * 1e9
    unchanged: dict[str, SourceState] = {}
    todo: ToRead = []
    for path in files:
        name = str(path)
        old = known.get(name)
        try:
            stat = os.stat(name)
        except OSError:
            old = None
        else:
            if (
                old is not None
                and old.size == stat.st_size
                and old.mtime_ns == stat.st_mtime_ns < trusted_before
            ):
                unchanged[name] = old
                continue
        todo.append((path, old.digest if old else None))
    return unchanged, todo


def read_sources(
    files: list[Path],
    unchanged: dict[str, SourceState],
    todo: ToRead,
    previous: BuildCache,
    jobs: int,
    report: BuildReport,
    progress: Progress | None = None,
) -> dict[str, SourceState]:
    """Every article file's state (as ``stat_sources`` sorted them): the cached one, or
    read and parsed (in parallel). Problems go to ``report`` in file order."""
    states = dict(unchanged)
    spool = context().spool
    dates: dict[datetime.date, datetime.date] = {}
    with progress_of(progress, "Reading", len(files)) as advance:
        advance(len(files) - len(todo))
        read = contextlib.closing(parallel_map(_source_state, todo, jobs, chunksize=64))
        with read as results:
            for (path, _), (state, size, mtime_ns, place) in zip(todo, results, strict=True):
                advance(1)
                if place is not None and spool is not None:
                    spool.places[str(path)] = place
                if state is None:
                    old = previous.sources[str(path)]
                    state = dataclasses.replace(old, size=size, mtime_ns=mtime_ns)
                else:
                    report.parsed += 1
                    if state.record is not None:
                        share_fields(state.record, path, dates)
                states[str(path)] = state
    ordered = {str(path): states[str(path)] for path in files}
    for state in ordered.values():
        report.problems.extend(state.problems)
    return ordered


def share_fields(
    record: ArticleRecord, path: Path, dates: dict[datetime.date, datetime.date]
) -> None:
    """Make a record that came from a reading process share what it has in common with
    the others: the build holds every record to the end, and a record arrives with its
    own copy of every string (pickled one by one), where most articles' category,
    product, keywords and date are another's, and most bare titles are the title."""
    if record.source == path:
        record.source = path
    record.category = sys.intern(record.category)
    record.product = sys.intern(record.product)
    if record.title_prefix is not None:
        record.title_prefix = sys.intern(record.title_prefix)
    if record.bare_title == record.title:
        record.bare_title = record.title
    record.keywords = [sys.intern(keyword) for keyword in record.keywords]
    if record.date is not None:
        record.date = dates.setdefault(record.date, record.date)


def _source_state(
    item: tuple[Path, str | None],
) -> tuple[SourceState | None, int, int, Place | None]:
    """Read and parse one file, with its size and time, and where the spool keeps the
    article; no state when its content is the cached one (``digest``)."""
    path, digest = item
    try:
        stat = path.stat()
        data = path.read_bytes()
    except OSError:
        return SourceState(-1, -1, "", None, load.load_article(path).problems), -1, -1, None
    new_digest = file_digest(data)
    if new_digest == digest:
        return None, stat.st_size, stat.st_mtime_ns, None
    result = load.load_article(path, data)
    record = article_record(result.article) if result.article is not None else None
    state = SourceState(stat.st_size, stat.st_mtime_ns, new_digest, record, result.problems)
    spool = context().spool
    place = spool.put(result.article) if spool is not None and result.article else None
    return state, stat.st_size, stat.st_mtime_ns, place


def unique_records(
    states: dict[str, SourceState],
) -> tuple[list[ArticleRecord], list[Problem]]:
    """One record per id, in id order; duplicates keep the newer article, and the
    warnings about them."""
    by_id: dict[str, ArticleRecord] = {}
    duplicates: list[Problem] = []
    for state in states.values():
        if state.record is not None:
            load.keep_newer(by_id, state.record, duplicates)
    return sorted(by_id.values(), key=lambda r: id_number(r.id)), duplicates


def source_digests(states: dict[str, SourceState]) -> dict[str, str]:
    """Each article's source file digest, by id."""
    return {state.record.id: state.digest for state in states.values() if state.record}
