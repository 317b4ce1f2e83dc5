"""Where a site's whoosh index is: its own, in the site's build cache folder, and how an
index left in the place the sites of one folder used to share is taken over."""

from __future__ import annotations

import os
from pathlib import Path

from kbsite.output.write import read_site_marker, recover_leftovers
from kbsite.places import cache_folder


def default_index_dir(output: Path) -> Path:
    """The site's own index: in its build cache folder, so two sites built side by side
    never share one, and the index goes wherever the site's cache goes."""
    return cache_folder(output) / "index"


SHARED_INDEX = ".kbsite-index"
"""Where, beside them, the sites of one folder all kept their index before each had its own."""


def claim_index_dir(output: Path, notes: list[str]) -> Path:
    """``default_index_dir(output)``, with the index this site kept in the old shared
    place moved there first, and a note saying so.

    The site takes the old index only when its marker names it and no other site beside
    it does: an index two sites wrote to holds whichever was built last, so then the
    site's own is built anew (and the old one left to the others).
    """
    own = default_index_dir(output)
    shared = output.absolute().parent / SHARED_INDEX
    if own.exists() or marked_index_dir(output) != shared.resolve():
        return own
    recover_leftovers(shared)
    if not shared.is_dir():
        return own
    sharing = sorted(
        site.name
        for site in shared.parent.iterdir()
        if site.name != output.absolute().name and marked_index_dir(site) == shared.resolve()
    )
    if sharing:
        notes.append(
            f"the search index {shared} is shared with {', '.join(sharing)}; "
            f"this site's own is built anew in {own}"
        )
        return own
    own.parent.mkdir(parents=True, exist_ok=True)
    shared.rename(own)
    notes.append(f"moved the search index from {shared} to {own}, this site's own")
    return own


def marked_index_dir(site: Path) -> Path | None:
    """The index the site's marker file names (as the build that wrote it left it)."""
    marker = read_site_marker(site)
    recorded = marker.get("index") if marker else None
    if not recorded:
        return None
    return Path(recorded) if os.path.isabs(recorded) else (site / recorded).resolve()
