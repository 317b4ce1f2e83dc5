"""The KB syntax that can appear anywhere in an article's text: references and URLs.

One definition, used by the parser (to build the reference graph) and by the
markdown-it plugin (to make links), so both always agree on what a reference is.
"""

from __future__ import annotations

import re

ID_DIGITS = r"\d{5,8}"
"""Five to eight digits: the KB's own ids have up to seven, scaled and later archives eight."""

ARTICLE_ID = re.compile(f"Q{ID_DIGITS}")
"""A valid article id, the only thing ever used to name an article's output file."""

REFERENCE = re.compile(f"Q(?<![A-Za-z0-9_]Q)({ID_DIGITS})(?![A-Za-z0-9_])")
"""``Q123456`` standing as a word of its own.

The pattern opens with its ``Q`` and only then looks behind it, so that the regex engine
scans a text for the letter instead of trying the lookbehind at every position.
"""

URL = re.compile(
    r"(?<![A-Za-z0-9_])(?:(?:https?|ftp)://|mailto:)[^\s<>\"'`\x00-\x1f]+", re.IGNORECASE
)
"""A URL with one of the schemes kbsite links: http, https, ftp and mailto."""

_TRAILING = ".,;:!?*"
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def trim_url(candidate: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from a URL's end."""
    while candidate:
        last = candidate[-1]
        if last in _TRAILING or (
            last in _CLOSERS and candidate.count(last) > candidate.count(_CLOSERS[last])
        ):
            candidate = candidate[:-1]
        else:
            break
    scheme_end = candidate.find(":") + 1
    rest = candidate[scheme_end:].lstrip("/")
    return candidate if any(ch.isalnum() for ch in rest) else ""


def id_number(article_id: str) -> int:
    """The number of a valid id, ``Q99595`` < ``Q315817``: how articles are ordered."""
    return int(article_id[1:])


def find_references(text: str) -> list[str]:
    """The ids referenced in a piece of text, in order, as ``Q123456``."""
    return ["Q" + digits for digits in REFERENCE.findall(text)]
