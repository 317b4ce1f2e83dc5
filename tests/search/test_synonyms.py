"""A site's own short forms (kbsite.toml ``[synonyms]``) reach both search engines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbsite.cli import main
from kbsite.search.searcher import index_dir_for_site, search

from ..conftest import CONTENT

LONG = "lighthouse database 3.0"


def _meta_synonyms(site: Path) -> list[list[str]]:
    text = (site / "search" / "meta.js").read_text(encoding="utf-8")
    payload = text[text.index("{") : text.rindex("}") + 1]
    synonyms: list[list[str]] = json.loads(payload)["synonyms"]
    return synonyms


def _build(root: Path, toml: str) -> Path:
    (root / "kbsite.toml").write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "content", "-o", "site", "--jobs", "1", "-q"])
    assert result.exit_code == 0, result.output
    return root / "site"


def test_a_sites_short_forms_are_searched_by_the_cli_and_the_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(CONTENT, tmp_path / "content")
    monkeypatch.chdir(tmp_path)
    site = _build(tmp_path, f"[synonyms]\nldb3 = {LONG!r}\nbeacondb = {LONG!r}\n")
    for short in ("ldb3", "beacondb"):
        found = {hit.id for hit in search(index_dir_for_site(site), short, 50).hits}
        assert "Q1000001" in found  # "Obtain and Install Lighthouse Database 3.0 Service Pack 1"
    assert _meta_synonyms(site)[:2] == [["ldb3", LONG], ["beacondb", LONG]]
    site = _build(tmp_path, "")  # a settings change rewrites the site, the table with it
    assert search(index_dir_for_site(site), "beacondb", 50).hits == []
    assert ["beacondb", LONG] not in _meta_synonyms(site)
