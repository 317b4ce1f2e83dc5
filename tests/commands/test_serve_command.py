"""``kbsite serve``'s lines about each rebuild."""

from __future__ import annotations

import pytest

from kbsite.commands.serve import _print_rebuild
from kbsite.errors import KbsiteError
from kbsite.report import BuildReport
from kbsite.search.index import IndexReport
from kbsite.serve.watch import Rebuild


def test_a_rebuild_is_one_line_after_its_notes(capsys: pytest.CaptureFixture[str]) -> None:
    report = BuildReport(articles=3, pages=40, notes=["moved the search index"])
    report.index = IndexReport(changed=1)
    _print_rebuild(Rebuild(2, report))
    out, err = capsys.readouterr()
    assert err == "Note: moved the search index\n"
    assert out == (
        "Rebuilt 3 articles (40 pages) after 2 changes in 0.0 s: 0 errors, 0 warnings; "
        "search index 0 added, 1 changed, 0 removed.\n"
    )


def test_a_failed_rebuild_says_the_previous_site_is_served(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _print_rebuild(Rebuild(1, None, KbsiteError("cannot write")))
    out, err = capsys.readouterr()
    assert err == "ERROR cannot write\n"
    assert out == "Rebuild failed after 1 change; serving the previous site.\n"
