"""Shared test fixtures: the bundled sample, the shared corpus, built sites, a browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kbsite.build import BuildOptions, build_site, load_articles
from kbsite.model import Article
from kbsite.read.source import find_sources
from kbsite.report import BuildReport
from kbsite.search.searcher import index_dir_for_site

from .browser import browser_unavailable, launch_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "kb-corpus" / "txt"
TOOLS = SHARED / "tools"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared 11,339-article corpus; skipped in a clone without ../shared."""
    if not CORPUS.is_dir():
        pytest.skip(
            f"the shared KB corpus is not at {CORPUS} (it is only there in CI and "
            "developer checkouts beside ../shared)"
        )
    return CORPUS


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    """The bundled sample archive, built once for the whole session."""
    output = tmp_path_factory.mktemp("sample") / "site"
    report = build_site(BuildOptions([CONTENT], output, jobs=1))
    return output, report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium, once; skipped where missing, but failed if KBSITE_REQUIRE_BROWSER=1."""
    reason = browser_unavailable()
    if reason is not None:
        if os.environ.get("KBSITE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"KBSITE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    with launch_browser() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def content_articles() -> dict[str, Article]:
    """The bundled sample's articles by id, parsed once, for checking search results."""
    articles = load_articles(find_sources([CONTENT]), 1, BuildReport())
    return {article.id: article for article in articles}


@pytest.fixture(scope="session")
def sample_index(sample_site: tuple[Path, BuildReport]) -> Path:
    """The whoosh index of ``sample_site``, found as ``kbsite search --site`` finds it."""
    return index_dir_for_site(sample_site[0])


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled sample, for tests that edit, add or delete articles."""
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    return copy
