"""Pages built for the render tests beside the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbsite.build import BuildOptions, build_site

OUTLINE_ARTICLE = """\
DOCUMENT:Q300190  02-MAY-2002  [ledger]
TITLE   :HOWTO: Move the Ledger Server Backup Folder
PRODUCT :Northwind Ledger Server

======================================================================

Before You Start
----------------

Stop the Ledger Server service.

STEPS
=====

1. Create the new folder.

   Permissions
   ===========

   Give the service account full control.

2. Change the BackupDays value.

Checking the Move
-----------------

Run a backup by hand.
"""
"""An article whose first section is a ``----`` one and whose steps hold a heading."""


@pytest.fixture(scope="module")
def outline_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page of ``OUTLINE_ARTICLE``, built alone."""
    folder = tmp_path_factory.mktemp("outline")
    (folder / "content").mkdir()
    (folder / "content" / "Q300190.TXT").write_text(OUTLINE_ARTICLE, encoding="utf-8")
    build_site(BuildOptions([folder / "content"], folder / "site", jobs=1))
    return folder / "site" / "kb" / "Q300190.html"
