"""Abbreviations and short forms of this domain, applied at query time in both engines.

The table (``synonyms.txt`` in the package) maps a
short form to the words it stands for; ``#`` in an entry stands for a version number.
A query word found in the table also matches an article holding all those words
(``query.with_alternatives``). The browser gets the same table in ``meta.js``.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

VERSION = "([0-9]+[a-z]?)"


@functools.cache
def packaged_table() -> tuple[tuple[str, str], ...]:
    """The package's table: (short form, what it stands for), in file order."""
    text = resources.files("kbsite.search").joinpath("synonyms.txt").read_text("utf-8")
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
