"""``kbsite serve``'s lines about each rebuild."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kbsite.build import BuildOptions
from kbsite.commands.serve import _print_rebuild
from kbsite.errors import KbsiteError
from kbsite.incremental.session import BuildSession
from kbsite.output.lock import SiteLocked, site_lock
from kbsite.report import BuildReport
from kbsite.search.index import IndexReport
from kbsite.serve.watch import Rebuild, _rebuild

from ..conftest import CONTENT


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


def test_a_rebuild_that_finds_the_site_locked_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    with site_lock(site):
        rebuild = _rebuild(BuildSession(BuildOptions([CONTENT], site, jobs=1)), [], 2)
    assert rebuild.report is None and isinstance(rebuild.error, SiteLocked)
    _print_rebuild(rebuild)
    out, err = capsys.readouterr()
    assert out == ""
    assert re.fullmatch(
        r"Not rebuilt after 2 changes: another build is writing this site \(pid \d+: kbsite[^)]*\);"
        r" wait for it to finish, or stop it; serving the previous site\.\n",
        err,
    ), err
    assert not site.exists()
