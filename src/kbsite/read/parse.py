"""Stage 2: KB plaintext to the typed model.

The layout of an article, top to bottom::

    DOCUMENT:Q315817  08-MAY-2002  [winnt]      header fields
    TITLE   :...
    ==========                                  the header's rule
    ----------                                  applies-to block between dashed rules
    The information in this article applies to:
     - Product ...
    ----------
    SYMPTOMS                                    sections underlined with = (or - for
    ========                                    subsections), hard-wrapped text, lists,
    ...                                         indented code and column tables
    Additional query words: ...
    ==========
    Keywords          : ...                     the trailing fields block
    ==========
    THE INFORMATION PROVIDED ...                legal text and copyright

Every line after the header's rule ends up somewhere in the model, so no word is lost
even when a layout is not recognised: unknown shapes fall back to plain paragraphs.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import itertools
import re
from pathlib import Path

from kbsite.errors import ArticleError, Level, Problem
from kbsite.model import (
    AppliesTo,
    Article,
    Field,
    Reference,
    Section,
    TextPage,
)
from kbsite.read.blocks import parse_blocks
from kbsite.read.shapes import QUERY_WORDS, UNDERLINE, Line, is_underline
from kbsite.read.source import SourceText
from kbsite.read.syntax import ARTICLE_ID, REFERENCE

HEADER_RULE = re.compile(r"={10,}\s*$")
EQUALS_RULE = re.compile(r"\s{0,3}={10,}\s*$")
DASHED_RULE = re.compile(r"\s{0,3}-{10,}\s*$")
DOCUMENT_LINE = re.compile(
    r"(?i:DOCUMENT)\s*:\s*(?P<id>[^\s\[]*)\s*(?P<date>\d{1,2}-[A-Za-z]{3}-\d{2,4})?\s*"
    r"(?:\[(?P<category>[^\]]*)\])?\s*(?P<rest>.*)$"
)
HEADER_FIELD = re.compile(r"(?P<name>[A-Za-z][A-Za-z/ ]{1,15}?)\s*:(?P<value>.*)$")
FOOTER_FIELD = re.compile(r"(?P<name>[A-Za-z][A-Za-z /]{0,24}?)\s*:\s?(?P<value>.*)$")
TITLE_PREFIX = re.compile(r"(?P<prefix>[A-Za-z0-9][A-Za-z0-9 .'/&!+-]{0,23}?)\s*:\s*(?=\S)")
APPLIES_TO = re.compile(r"The information in this article applies to", re.IGNORECASE)
BULLET = re.compile(r"(?P<indent> *)(?P<marker>[-*\u2022\u00b7o])(?P<gap> +)(?=\S)")
WHITESPACE = re.compile(r"\s+")
NOT_IN_SLUG = re.compile(r"[^a-z0-9]+")
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


def parse_article(source: SourceText) -> tuple[Article, list[Problem]]:
    """Parse one decoded source file, with the problems found on the way.

    Raises ArticleError only when no valid article id can be found at all; anything
    else wrong is reported and the article kept.
    """
    found = Findings(source.path)
    lines = [(n, text.expandtabs(8).rstrip()) for n, text in enumerate(source.text.split("\n"), 1)]
    while lines and not lines[-1][1]:
        lines.pop()
    header_end = _find_header_rule(lines)
    if header_end is None:
        header_end = _header_extent(lines)
        found.warn(
            lines[header_end - 1][0] if header_end else 1,
            "no '=====' rule after the header; the body starts after the last header field",
        )
        header, body = lines[:header_end], lines[header_end:]
    else:
        header, body = lines[:header_end], lines[header_end + 1 :]

    article = _parse_header(header, source.path, found)
    main, footer, legal = _split_tail(body)
    article.footer = _parse_fields(footer)
    article.legal = _paragraph_texts(legal)
    main = _take_applies_to(main, article)
    main = _take_query_words(main, article)
    article.sections = _parse_sections(main)
    if not any(text.strip() for _, text in body):
        found.warn(lines[-1][0] if lines else 1, "article has no body: nothing after the header")
    if not article.title:
        article.title = _fallback_title(article, header, found)
        article.title_prefix = _title_prefix(article.title)
    article.references = _references(source.text, article.id)
    return article, found.problems


def _references(text: str, article_id: str) -> list[Reference]:
    """Every Q-number in the article but its own, in order, with its line.

    The whole text is searched at once: a reference never spans lines, and expanding
    tabs or stripping line ends cannot change one. Lines are counted from one reference
    to the next, so an index article citing thousands of others stays linear.
    """
    references: list[Reference] = []
    line, counted_to = 1, 0
    for match in REFERENCE.finditer(text):
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        if "Q" + match.group(1) != article_id:
            references.append(Reference("Q" + match.group(1), line))
    return references


# -- header -------------------------------------------------------------------------


def _find_header_rule(lines: list[Line]) -> int | None:
    """The ``=====`` rule that ends the header, if only header fields stand before it."""
    for index, (_, text) in enumerate(lines[:40]):
        if HEADER_RULE.match(text):
            return index
        if text.strip() and not (DOCUMENT_LINE.match(text) or HEADER_FIELD.match(text)):
            return None
    return None


def _header_extent(lines: list[Line]) -> int:
    """Without a rule, the header is the leading run of ``NAME:`` lines."""
    end = 0
    for index, (_, text) in enumerate(lines[:12]):
        if HEADER_FIELD.match(text) or DOCUMENT_LINE.match(text):
            end = index + 1
        elif text.strip():
            break
    return end


def _parse_header(header: list[Line], path: Path, found: Findings) -> Article:
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
    article.title_prefix = _title_prefix(title)
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


def _title_prefix(title: str) -> str | None:
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


def _fallback_title(article: Article, header: list[Line], found: Findings) -> str:
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


# -- the tail: query words, fields block, legal text ----------------------------------


def _split_tail(body: list[Line]) -> tuple[list[Line], list[Line], list[Line]]:
    """Split the body into main text, the trailing fields block and the legal text.

    Only the last two ``=====`` rules can bound these, so they are looked for from the end.
    """
    rules_from_end = (
        i
        for i in reversed(range(len(body)))
        if EQUALS_RULE.match(body[i][1]) and not is_underline(body, i)
    )
    rules = list(itertools.islice(rules_from_end, 2))[::-1]
    if not rules:
        return body, [], []
    last = rules[-1]
    after = body[last + 1 :]
    if _is_fields_block(after):
        return body[:last], after, []
    closing = not any(text.strip() for _, text in after)
    if closing and len(rules) >= 2 and _is_fields_block(body[rules[-2] + 1 : last]):
        return body[: rules[-2]], body[rules[-2] + 1 : last], []
    if not _is_legal(after):
        return body, [], []
    if len(rules) >= 2 and _is_fields_block(body[rules[-2] + 1 : last]):
        return body[: rules[-2]], body[rules[-2] + 1 : last], after
    return body[:last], [], after


def _is_fields_block(lines: list[Line]) -> bool:
    content = [text for _, text in lines if text.strip()]
    return (
        bool(content)
        and FOOTER_FIELD.match(content[0]) is not None
        and all(FOOTER_FIELD.match(text) or text.startswith(" ") for text in content)
    )


def _is_legal(lines: list[Line]) -> bool:
    """The closing disclaimer: plain paragraphs, no headings, ending in a copyright line."""
    content = [text for _, text in lines if text.strip()]
    return (
        bool(content)
        and len(content) <= 40
        and any("copyright" in text.lower() for text in content[-3:])
    )


def _parse_fields(lines: list[Line]) -> list[Field]:
    fields: list[Field] = []
    for number, text in lines:
        match = FOOTER_FIELD.match(text)
        if match:
            fields.append(Field(match.group("name").strip(), match.group("value").strip(), number))
        elif text.strip() and fields:
            fields[-1].value = (fields[-1].value + " " + text.strip()).strip()
    return fields


def _paragraph_texts(lines: list[Line]) -> list[str]:
    paragraphs: list[list[str]] = [[]]
    for _, text in lines:
        if text.strip():
            paragraphs[-1].append(text.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [" ".join(p) for p in paragraphs if p]


def _take_query_words(main: list[Line], article: Article) -> list[Line]:
    """Lift the ``Additional query words:`` line, and any lines it wraps onto, out of the text.

    A line without a colon cannot be it, and looking for one is far cheaper than trying
    the case-blind pattern on every line.
    """
    for index, (_, text) in enumerate(main):
        match = QUERY_WORDS.match(text) if ":" in text else None
        if match:
            end = index + 1
            words = [match.group("words").strip()]
            while end < len(main) and main[end][1].strip() and not EQUALS_RULE.match(main[end][1]):
                words.append(main[end][1].strip())
                end += 1
            article.query_words = " ".join(w for w in words if w)
            return main[:index] + main[end:]
    return main


# -- applies-to ---------------------------------------------------------------------


APPLIES_TO_REACH = 12
"""How many lines (old version stubs like ``3.00 3.10``) may come before the applies-to block."""


def _take_applies_to(main: list[Line], article: Article) -> list[Line]:
    """Lift the "applies to" block out of the main text, with or without dashed rules.

    It opens the body, sometimes after a few stub lines, and always before any heading.
    """
    non_blank = (i for i, (_, text) in enumerate(main) if text.strip())
    candidates = itertools.islice(non_blank, APPLIES_TO_REACH)
    for start in candidates:
        if (
            start + 1 < len(main)
            and UNDERLINE.match(main[start + 1][1])
            and is_underline(main, start + 1)
        ):
            return main
        found = _lift_applies_to(main, start, article)
        if found is not None:
            return found
    return main


def _lift_applies_to(main: list[Line], start: int, article: Article) -> list[Line] | None:
    if DASHED_RULE.match(main[start][1]):
        end = next(
            (
                i
                for i in range(start + 1, min(len(main), start + 120))
                if DASHED_RULE.match(main[i][1])
            ),
            None,
        )
        if end is None or not any(APPLIES_TO.search(t) for _, t in main[start + 1 : end]):
            return None
        _fill_applies_to(main[start + 1 : end], article)
        return main[:start] + main[end + 1 :]
    if APPLIES_TO.match(main[start][1].strip()):
        end = start + 1
        while end < len(main) and (not main[end][1].strip() or main[end][1].startswith(" ")):
            end += 1
        _fill_applies_to(main[start:end], article)
        return main[:start] + main[end:]
    return None


def _fill_applies_to(lines: list[Line], article: Article) -> None:
    intro: list[str] = []
    items: list[AppliesTo] = []
    open_items: list[tuple[int, AppliesTo]] = []
    """The chain of items a deeper bullet may nest under, with their indents."""
    for _, text in lines:
        if not text.strip():
            continue
        bullet = BULLET.match(text)
        if bullet:
            indent = len(bullet.group("indent"))
            item = AppliesTo(text[bullet.end() :].strip())
            while open_items and open_items[-1][0] >= indent:
                open_items.pop()
            (open_items[-1][1].items if open_items else items).append(item)
            open_items.append((indent, item))
        elif open_items:
            last = open_items[-1][1]
            last.text = f"{last.text} {text.strip()}"
        else:
            intro.append(text.strip())
    article.applies_to_intro = " ".join(intro)
    article.applies_to = items


# -- sections -------------------------------------------------------------------------


def _parse_sections(main: list[Line]) -> list[Section]:
    """Cut the main text at its underlined headings; the text before the first is untitled.

    An underline is never itself a heading (``is_underline`` refuses a line of ``=`` or
    ``-`` as the text above an underline), so every heading is found in one pass.
    """
    headings = [
        index
        for index in range(len(main) - 1)
        if main[index][1].strip()
        and UNDERLINE.match(main[index + 1][1])
        and is_underline(main, index + 1)
    ]
    sections: list[Section] = []
    first_text = next((number for number, text in main if text.strip()), None)
    current = Section(None, 1, [], first_text or (main[0][0] if main else 1))
    start = 0
    for index in headings:
        current.blocks = parse_blocks(main[start:index])
        if current.title is not None or current.blocks:
            sections.append(current)
        number, text = main[index]
        level = 1 if main[index + 1][1].startswith("=") else 2
        current = Section(text.strip(), level, [], number)
        start = index + 2
    current.blocks = parse_blocks(main[start:])
    if current.title is not None or current.blocks:
        sections.append(current)
    _assign_anchors(sections)
    return sections


def _assign_anchors(sections: list[Section]) -> None:
    used: set[str] = set()
    for section in sections:
        if section.title is None:
            continue
        base = NOT_IN_SLUG.sub("-", section.title.lower()).strip("-") or "section"
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        section.anchor = anchor


# -- Markdown pages -------------------------------------------------------------------

PAGE_TITLE = re.compile(r"^#[ \t]+(?P<title>.+?)[ \t#]*$", re.MULTILINE)


def parse_text_page(source: SourceText) -> TextPage:
    """A Markdown page: its title is its first ``#`` heading, else its file name."""
    found = PAGE_TITLE.search(source.text)
    stem = source.path.stem
    title = found.group("title").strip() if found else stem.replace("-", " ").replace("_", " ")
    slug = NOT_IN_SLUG.sub("-", stem.lower()).strip("-") or "page"
    return TextPage(source.path, slug, title, source.text)
