"""End to end over the shared 11,339-article corpus: every page, every word, every link.

Runs in CI (where ../shared is present) and skips with a reason in a fresh clone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kbsite.build import BuildOptions, BuildReport, build_site

from .conftest import TOOLS
from .test_render import Page

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def corpus_site(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    output = tmp_path_factory.mktemp("corpus") / "site"
    return output, build_site(BuildOptions([corpus], output, jobs=2))


def test_every_article_has_its_page(corpus: Path, corpus_site: tuple[Path, BuildReport]) -> None:
    site, report = corpus_site
    assert report.errors == 0
    sources = {p.stem.upper() for p in corpus.rglob("*") if p.suffix.upper() == ".TXT"}
    pages = {p.stem for p in (site / "kb").glob("*.html")}
    assert report.articles == len(sources) == 11339
    assert sources == pages


def _kbcheck(mode: str, corpus: Path, site: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(TOOLS / "kbcheck"), mode, str(corpus), str(site)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_no_word_is_lost(corpus: Path, corpus_site: tuple[Path, BuildReport]) -> None:
    assert " 0/" in _kbcheck("lossless", corpus, corpus_site[0]).splitlines()[-1]


def test_every_reference_in_the_archive_is_a_link(
    corpus: Path, corpus_site: tuple[Path, BuildReport]
) -> None:
    last = _kbcheck("links", corpus, corpus_site[0]).splitlines()[-1]
    found, wanted = last.split()[1].split("/")
    assert found == wanted and int(wanted) > 1000


def test_links_resolve_on_a_sample_of_pages(corpus_site: tuple[Path, BuildReport]) -> None:
    site = corpus_site[0]
    pages = sorted(site.rglob("*.html"))[::25]
    for path in pages:
        for ref in Page(path).attrs("a", "href"):
            if ref.startswith(("http:", "https:", "ftp:", "mailto:")) or ref.startswith("#"):
                continue
            assert (path.parent / ref.split("#")[0]).resolve().is_file(), f"{path}: {ref}"
