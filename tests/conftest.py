"""Shared test fixtures: the bundled sample, the shared corpus, built sites."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbsite.build import BuildOptions, BuildReport, build_site

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
