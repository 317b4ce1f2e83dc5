"""Abbreviations and short forms of this domain, applied at query time in both engines.

The table (``synonyms.txt`` in the package) maps a
short form to the words it stands for; ``#`` in an entry stands for a version number.
A query word found in the table also matches an article holding all those words
(``query.with_alternatives``). A site's own entries (kbsite.toml's ``[synonyms]``) go in
front of the packaged ones; the build writes the site's whole table beside its whoosh
index (``TABLE_FILE``, for ``kbsite search``) and into the browser's ``meta.js``, so both
engines expand the same words.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

VERSION = "([0-9]+[a-z]?)"
TABLE_FILE = "synonyms.txt"
"""In the whoosh index folder: the site's table, as the build made it."""

Table = tuple[tuple[str, str], ...]


@functools.cache
def packaged_table() -> tuple[tuple[str, str], ...]:
    """The package's table: (short form, what it stands for), in file order."""
    text = resources.files("kbsite.search").joinpath("synonyms.txt").read_text("utf-8")
    return parse_table(text)


def site_table(own: Table) -> Table:
    """A site's table: its own entries (kbsite.toml), then the packaged ones."""
    return (*own, *packaged_table())


def write_table(index_dir: Path, table: Table) -> None:
    """Keep the site's table beside its index, as ``index_table`` reads it."""
    lines = [f"{short} = {long}" for short, long in table]
    temporary = index_dir / (TABLE_FILE + ".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.replace(index_dir / TABLE_FILE)  # never into a file the live index shares


def index_table(index_dir: Path) -> Table:
    """The table the build kept beside an index; the packaged one for an index without."""
    try:
        text = (index_dir / TABLE_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return packaged_table()
    return parse_table(text)


def parse_table(text: str) -> tuple[tuple[str, str], ...]:
    entries: list[tuple[str, str]] = []
    for line in text.splitlines():
        short, equals, long = line.partition("=")
        if equals and not line.lstrip().startswith("#"):
            entries.append((short.strip().lower(), " ".join(long.split()).lower()))
    return tuple(entries)


def expansion(word: str, table: tuple[tuple[str, str], ...]) -> str | None:
    """What ``word`` (lowercased) stands for, by the first entry that fits; else None."""
    for short, long in table:
        if "#" not in short:
            if short == word:
                return long
            continue
        match = re.fullmatch(re.escape(short).replace("\\#", VERSION).replace("#", VERSION), word)
        if match:
            return long.replace("#", match.group(1))
    return None
