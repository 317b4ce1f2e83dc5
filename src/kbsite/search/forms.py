"""How people write what they look for: article numbers, short error codes, filler words.

Shared by both engines (``search-query.js`` ports it): the query parser reads a KB number in
any of its common written forms as the article's id, marks a number written after
STOP or "error" as a code, and the ranking leaves question and filler words out of
what a result must match.
"""

from __future__ import annotations

import re

from kbsite.read.syntax import ID_DIGITS

ARTICLE_FORMS = (
    re.compile(f"(?:q|kb|kbq)[:#]?({ID_DIGITS})", re.IGNORECASE),
    re.compile(
        r"(?:https?://)?(?:www\.)?support\.microsoft\.com/"
        rf"(?:(?:[a-z]{{2}}-[a-z]{{2}}/)?kb/|kb/|.*?[?&;=](?:kbid=|id=|kb;(?:[a-z]{{2}}-[a-z]{{2}};)?q?))"
        rf"({ID_DIGITS})(?:[/?#&;].*)?",
        re.IGNORECASE,
    ),
)
"""Whole words that name an article: ``Q315817``, ``KB315817``, ``kb:315817``, a pasted
``support.microsoft.com/kb/315817`` or ``.../default.aspx?scid=kb;en-us;315817`` address."""
OLD_ADDRESS = re.compile(
    r"(?:https?://)?(?:www\.)?support\.microsoft\.com/support/kb/articles/"
    r"q(\d{1,5})/(\d{1,2})/(\d{2})\.aspx?",
    re.IGNORECASE,
)
"""The addresses articles themselves print: ``.../kb/articles/q315/8/17.asp`` is Q315817."""
KB_WORDS = frozenset({"kb", "q", "article", "kbid"})
"""A word that, followed by a number, names an article: ``kb 315817``."""
NUMBER = re.compile(f"#?({ID_DIGITS})")

CODE_WORDS = frozenset({"stop", "error", "bugcheck", "code", "status", "exception", "hresult"})
"""Words after which a short number or hex word is a code: ``stop 7b``, ``error 80040e4e``."""

_FILLER = """
    how what why when where which who whom whose does do did doing done is am are was were
    be been being has have had should would could can cannot can't cant won't wont don't
    dont doesn't doesnt didn't didnt isn't isnt aren't wasn't i me my mine i'm im i've ive
    i'd we our you your he she they them their it its it's someone somebody anyone anybody
    please help hi hello thanks thank tell explain getting get got keep keeps kept happening
    happens happen happened way want need trying try fix problem problems issue issues trouble
"""
FILLER_WORDS = frozenset(_FILLER.split())
"""Question and filler words: what people wrap a question in. They count when an article
has them but never have to match, and leave the share of words matched alone."""


def article_number(word: str) -> int | None:
    """The article a whole word names (any form in ``ARTICLE_FORMS``), else None."""
    stripped = word.strip(".,;()<>\"'")
    for form in ARTICLE_FORMS:
        match = form.fullmatch(stripped)
        if match:
            return int(match.group(1))
    old = OLD_ADDRESS.fullmatch(stripped)
    if old:
        return int(old.group(1) + old.group(2) + old.group(3))
    return None


def kb_number(kb_word: str, number: str) -> int | None:
    """``kb 315817``: the article two words name together, else None."""
    match = NUMBER.fullmatch(number)
    if kb_word.lower().rstrip(":#") in KB_WORDS and match:
        return int(match.group(1))
    return None


def is_code_word(word: str) -> bool:
    return word.lower().rstrip(":") in CODE_WORDS


def is_filler(word: str) -> bool:
    return word.lower().replace("\u2019", "'") in FILLER_WORDS
