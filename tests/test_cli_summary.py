"""The summary line a build prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import CONTENT


def test_a_rebuild_counts_the_files_it_read_against_the_files_found(tmp_path: Path) -> None:
    """Three copies of one article: three files read, one article, never "3 of 1"."""
    article = (CONTENT / "200" / "Q200101.TXT").read_bytes()
    for folder in ("a", "b", "c"):
        (tmp_path / "content" / folder).mkdir(parents=True)
        (tmp_path / "content" / folder / "Q200101.TXT").write_bytes(article)
    build = [sys.executable, "-m", "kbsite", "build", str(tmp_path / "content"), "--jobs", "1"]
    build += ["-o", str(tmp_path / "site")]
    subprocess.run(build, check=True, capture_output=True)
    for path in (tmp_path / "content").rglob("*.TXT"):
        path.write_bytes(article + b"\nEdited.\n")
    rebuild = subprocess.run(build, check=True, capture_output=True, text=True)
    assert ": 3 of 3 files read (1 articles), " in rebuild.stdout
