"""The header of a KB article: the DOCUMENT line, the TITLE, PRODUCT and other fields,
and what stands in for them when they are missing or misspelled.

    DOCUMENT:Q315817  08-MAY-2002  [winnt]
    TITLE   :Memory Leak in Tdpipe.sys
    PRODUCT :Microsoft Windows 2000
    ==========
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import re
from pathlib import Path

from kbsite.errors import ArticleError, Level, Problem
from kbsite.model import Article, Field
from kbsite.read.shapes import Line
from kbsite.read.syntax import ARTICLE_ID

HEADER_RULE = re.compile(r"={10,}\s*$")
DOCUMENT_LINE = re.compile(
    r"(?i:DOCUMENT)\s*:\s*(?P<id>[^\s\[]*)\s*(?P<date>\d{1,2}-[A-Za-z]{3}-\d{2,4})?\s*"
    r"(?:\[(?P<category>[^\]]*)\])?\s*(?P<rest>.*)$"
)
HEADER_FIELD = re.compile(r"(?P<name>[A-Za-z][A-Za-z/ ]{1,15}?)\s*:(?P<value>.*)$")
TITLE_PREFIX = re.compile(r"(?P<prefix>[A-Za-z0-9][A-Za-z0-9 .'/&!+-]{0,23}?)\s*:\s*(?=\S)")
WHITESPACE = re.compile(r"\s+")
MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}


@dataclasses.dataclass(slots=True)
class Findings:
    """The problems found in one file while its article is still recovered."""

    path: Path
    problems: list[Problem] = dataclasses.field(default_factory=list)

    def warn(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.path, line, Level.WARNING, message))

    def error(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.path, line, Level.ERROR, message))


def find_header_rule(lines: list[Line]) -> int | None:
    """The ``=====`` rule that ends the header, if only header fields stand before it."""
    for index, (_, text) in enumerate(lines[:40]):
        if HEADER_RULE.match(text):
            return index
        if text.strip() and not (DOCUMENT_LINE.match(text) or HEADER_FIELD.match(text)):
            return None
    return None


def header_extent(lines: list[Line]) -> int:
    """Without a rule, the header is the leading run of ``NAME:`` lines."""
    end = 0
    for index, (_, text) in enumerate(lines[:12]):
        if HEADER_FIELD.match(text) or DOCUMENT_LINE.match(text):
            end = index + 1
        elif text.strip():
            break
    return end


def parse_header(header: list[Line], path: Path, found: Findings) -> Article:
    fields: dict[str, tuple[int, str]] = {}
    unknown: list[tuple[int, str, str]] = []
    extra: list[Field] = []
    document: re.Match[str] | None = None
    document_line = 1
    for number, text in header:
        if not text.strip():
            continue
        match = DOCUMENT_LINE.match(text)
        if match and document is None:
            document, document_line = match, number
            continue
        field = HEADER_FIELD.match(text)
        if field is None:
            extra.append(Field("", text.strip(), number))
            continue
        name = _header_name(field.group("name"))
        if name in _HEADER_NAMES and name not in fields:
            fields[name] = (number, field.group("value").strip())
        else:
            unknown.append((number, field.group("name").strip(), text.strip()))
    for number, raw_name, text in unknown:
        name = _header_name(raw_name)
        guess = difflib.get_close_matches(name, _HEADER_NAMES - fields.keys(), 1, 0.75)
        if name in _HEADER_NAMES or name == "DOCUMENT":
            found.warn(number, f"second {name} field; the first one is used")
        elif guess:
            found.warn(number, f"misspelled header field {raw_name!r}, read as {guess[0]}")
            fields[guess[0]] = (number, text.split(":", 1)[1].strip())
            continue
        else:
            found.warn(number, f"unknown header field {raw_name!r}")
        extra.append(Field(raw_name, text, number))
    extra.sort(key=lambda f: f.line)

    article_id = _article_id(document, path, document_line, found)
    title = fields.get("TITLE", (0, ""))[1]
    article = Article(id=article_id, source=path, title=title, header_extra=extra)
    article.title_prefix = title_prefix(title)
    if document:
        article.date_text = document.group("date") or ""
        article.category = (document.group("category") or "").strip()
        if article.date_text:
            article.date = _parse_date(article.date_text)
            if article.date is None:
                found.warn(document_line, f"unreadable date {article.date_text!r}")
        else:
            found.warn(document_line, "DOCUMENT line has no date")
    article.product = fields.get("PRODUCT", (0, ""))[1]
    article.platform, article.versions = _split_versions(fields.get("PROD/VER", (0, ""))[1])
    article.operating_system = fields.get("OPER/SYS", (0, ""))[1]
    article.keywords = list(dict.fromkeys(fields.get("KEYWORDS", (0, ""))[1].split()))
    return article


def title_prefix(title: str) -> str | None:
    """``PRB``, ``XADM``, ``Err Msg``; not ``IDBSchemaRowset::`` nor the ``2`` of ``2:00``."""
    match = TITLE_PREFIX.match(title)
    if match is None:
        return None
    prefix = match.group("prefix").strip()
    colon = match.end("prefix") + title[match.end("prefix") :].index(":")
    after = title[colon + 1 : colon + 2]
    if (
        len(prefix.split()) > 4
        or ARTICLE_ID.fullmatch(prefix)
        or after == ":"
        or (prefix[-1:].isdigit() and after.isdigit())
    ):
        return None
    return prefix


_HEADER_NAMES = {"TITLE", "PRODUCT", "PROD/VER", "OPER/SYS", "KEYWORDS"}


def _header_name(raw: str) -> str:
    return WHITESPACE.sub("", raw).upper()


STANDARD_HEADINGS = frozenset(
    {
        "SUMMARY",
        "SYMPTOMS",
        "CAUSE",
        "RESOLUTION",
        "STATUS",
        "WORKAROUND",
        "MORE INFORMATION",
        "REFERENCES",
        "INTRODUCTION",
        "OVERVIEW",
        "APPLIES TO",
        "NOTES",
    }
)
"""Headings every article has, which would make poor titles."""


def fallback_title(article: Article, header: list[Line], found: Findings) -> str:
    """A title for an article without one: its first telling heading, else its id."""
    line = header[0][0] if header else 1
    heading = next(
        (
            s.title
            for s in article.sections
            if s.title and s.title.upper().rstrip(":") not in STANDARD_HEADINGS
        ),
        None,
    )
    if heading:
        found.warn(line, f"article has no TITLE; using its first heading {heading!r} as the title")
        return heading
    found.warn(line, "article has no TITLE; using its id as the title")
    return article.id


def _article_id(document: re.Match[str] | None, path: Path, line: int, found: Findings) -> str:
    """The id from the DOCUMENT line, else from a file name like ``Q123456.TXT``.

    An id is the one thing from an article that names an output file, so anything but
    ``Q`` and digits is refused, and a wrong id is an error even when the file name
    recovers the article.
    """
    written = (document.group("id") if document else "").upper()
    from_name = path.stem.upper()
    if ARTICLE_ID.fullmatch(written):
        if ARTICLE_ID.fullmatch(from_name) and from_name != written:
            found.warn(line, f"file name says {from_name} but the DOCUMENT line says {written}")
        return written
    if ARTICLE_ID.fullmatch(from_name):
        if document:
            found.error(
                line,
                f"invalid article id {document.group('id')!r}; "
                f"using {from_name} from the file name",
            )
        else:
            found.warn(1, f"no DOCUMENT line; using the id {from_name} from the file name")
        return from_name
    if document:
        raise ArticleError(f"invalid article id {document.group('id')!r}", path, line)
    raise ArticleError("not a KB article: no DOCUMENT line with an article id", path, 1)


def _parse_date(text: str) -> datetime.date | None:
    day, month, year = text.split("-")
    number = MONTHS.get(month.upper())
    if number is None:
        return None
    full_year = (
        int(year) if len(year) == 4 else 1900 + int(year) if int(year) >= 50 else 2000 + int(year)
    )
    try:
        return datetime.date(full_year, number, int(day))
    except ValueError:
        return None


def _split_versions(value: str) -> tuple[str, list[str]]:
    """``MS-DOS:5.0,6.0`` gives ``("MS-DOS", ["5.0", "6.0"])``; ``:4.0`` an empty platform.

    Several platforms (``WINDOWS:3.0,3.1; MACINTOSH:3.0``) give ``"WINDOWS; MACINTOSH"``
    and their versions merged in order.
    """
    platforms: list[str] = []
    versions: list[str] = []
    for part in value.split(";"):
        platform, _, listed = part.rpartition(":") if ":" in part else ("", "", part)
        if platform.strip(" :"):
            platforms.append(platform.strip(" :"))
        versions.extend(v.strip() for v in listed.split(",") if v.strip())
    return "; ".join(platforms), list(dict.fromkeys(versions))
