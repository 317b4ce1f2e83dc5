"""What a build, a check or an export did, and how a stage shows its progress.

Kept apart from the build so the command line, the exports and the preview server can
speak of a build without importing it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from kbsite.errors import Level, Problem
from kbsite.search.index import IndexReport
from kbsite.search.webindex import WebIndexReport

Advance = Callable[[int], None]
Progress = Callable[[str, int], AbstractContextManager[Advance]]
"""Makes a progress display for a stage: given a label and a total, yields an advance function."""


@dataclasses.dataclass(slots=True)
class BuildReport:
    """What a build did, for the summary line and the exit status."""

    articles: int = 0
    pages: int = 0
    """Files the site holds."""
    written: int = 0
    """Files this build wrote (all of them unless it was incremental)."""
    removed: int = 0
    sources: int = 0
    """Article files found in the sources; duplicates and unreadable ones make it more
    than ``articles``."""
    parsed: int = 0
    """Source files read and parsed (the rest were unchanged since the last build)."""
    incremental: bool = False
    problems: list[Problem] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    """Things worth saying that are not problems of the archive (an ignored cache)."""
    unresolved: int = 0
    """Distinct referenced ids that are not in the archive."""
    unresolved_mentions: int = 0
    seconds: float = 0.0
    index: IndexReport | None = None
    web_index: WebIndexReport | None = None

    @property
    def errors(self) -> int:
        return sum(p.level is Level.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.level is Level.WARNING for p in self.problems)


def progress_of(
    progress: Progress | None, label: str, total: int
) -> AbstractContextManager[Advance]:
    """The stage's progress display, or one that shows nothing."""
    if progress is None:
        return nullcontext(lambda _n: None)
    return progress(label, total)
