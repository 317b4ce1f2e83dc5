"""Every kind of page passes the W3C Nu HTML checker (npm's ``vnu-jar``, run with Java)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kbsite.report import BuildReport
from kbsite.site.link import FACET_KINDS

from ..conftest import ROOT

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
PAGE_KINDS = (
    "index.html",
    "kb/Q200101.html",
    *(f"{folder}/index.html" for folder in [*FACET_KINDS, "titles"]),
    "missing.html",
    "search.html",
    "stats.html",
    "404.html",
    "pages/about.html",
)
"""A page of each kind the sample must hold; every other page of the sample is checked too."""
FILE_URL_CSP = "Resource violates Content Security Policy"
"""Checked from disk, the pages' own files are ``file:`` URLs, which the policy's
``'self'`` does not name; served, they are the site itself."""


@pytest.fixture(scope="module")
def nu_checker() -> Path:
    """The Nu checker's jar; skipped where missing, but failed if KBSITE_REQUIRE_NU=1."""
    if shutil.which("java") is None:
        reason = "java is not installed (Debian: default-jre-headless)"
    elif not VNU.is_file():
        reason = f"the Nu checker is not at {VNU} (npm install --no-save vnu-jar)"
    else:
        return VNU
    if os.environ.get("KBSITE_REQUIRE_NU") == "1":
        pytest.fail(f"KBSITE_REQUIRE_NU=1 but {reason}")
    pytest.skip(reason)


def nu_problems(jar: Path, pages: list[Path]) -> list[str]:
    """Errors and warnings of every page, from one run (the JVM is slow to start)."""
    run = subprocess.run(
        ["java", "-jar", str(jar), "--format", "json", "--exit-zero-always", *map(str, pages)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        f"{m.get('url', '')}:{m.get('lastLine', '')}: {m['type']}: {m['message']}"
        for m in json.loads(run.stderr)["messages"]
        if (m["type"] != "info" or m.get("subType") == "warning")
        and not m["message"].startswith(FILE_URL_CSP)
    ]


def test_every_page_kind_is_valid_html(
    nu_checker: Path, sample_site: tuple[Path, BuildReport], outline_page: Path
) -> None:
    site = sample_site[0]
    assert all((site / kind).is_file() for kind in PAGE_KINDS)
    pages = [*sorted(site.rglob("*.html")), outline_page]
    assert nu_problems(nu_checker, pages) == []
