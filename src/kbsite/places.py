"""Where a site's companions live, decided once: they sit beside the site, never inside
it, as they name local paths and are not for publishing.

    _site/                      the site
    ._site.kbsite-cache/        the build cache (``incremental/cache.py``), the search
                                stage's postings files, the site's whoosh index and its lock
"""

from __future__ import annotations

from pathlib import Path


def cache_folder(output: Path) -> Path:
    """The build cache's folder for the site at ``output``."""
    output = output.absolute()
    return output.parent / f".{output.name.lstrip('.')}.kbsite-cache"
