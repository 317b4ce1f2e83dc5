"""Writing the pages: the other pages, shared out among the workers."""

from __future__ import annotations

import os

import pytest

from kbsite.output.pages import OtherPages
from kbsite.parallel import Finish, parallel_map
from kbsite.site.pages import MarkdownPage

_shared = OtherPages([])


def _nothing(item: int) -> int:
    return item


def _take_pages() -> tuple[int, list[str]]:
    return os.getpid(), [page.path for page in _shared.take()]


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_every_other_page_is_taken_once_whichever_process_takes_it(jobs: int) -> None:
    """The workers take the other pages from one shared count: none is written twice,
    none is left."""
    global _shared
    pages = [MarkdownPage(f"pages/{n}.html", "../", f"Page {n}", "") for n in range(500)]
    _shared = OtherPages(pages)
    finish = Finish(_take_pages)
    list(parallel_map(_nothing, list(range(64)), jobs, chunksize=4, finish=finish))
    taken = [path for _, paths in finish.results() for path in paths]
    assert sorted(taken) == sorted(page.path for page in pages)
    assert len({pid for pid, _ in finish.results()}) == jobs
    assert list(_shared.take()) == []
