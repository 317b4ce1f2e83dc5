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

import datetime
import re
from collections.abc import Callable
from pathlib import Path

from kbsite.errors import ArticleError, Level, Problem
from kbsite.model import (
    AppliesTo,
    Article,
    Block,
    Field,
    Heading,
    ListBlock,
    ListItem,
    Paragraph,
    Preformatted,
    Reference,
    Rule,
    Section,
)
from kbsite.source import SourceText
from kbsite.syntax import ARTICLE_ID, REFERENCE

Line = tuple[int, str]
"""A 1-based source line number and the line's text (tabs expanded, right-stripped)."""

HEADER_RULE = re.compile(r"={10,}\s*$")
EQUALS_RULE = re.compile(r"\s{0,3}={10,}\s*$")
DASHED_RULE = re.compile(r"\s{0,3}-{10,}\s*$")
UNDERLINE = re.compile(r"(={3,}|-{3,})\s*$")
STANDALONE_RULE = re.compile(r"\s{0,1}([-=_*])\1{2,}\s*$")
DOCUMENT_LINE = re.compile(
    r"DOCUMENT\s*:\s*(?P<id>[^\s\[]*)\s*(?P<date>\d{1,2}-[A-Za-z]{3}-\d{2,4})?\s*"
    r"(?:\[(?P<category>[^\]]*)\])?\s*(?P<rest>.*)$"
)
HEADER_FIELD = re.compile(r"(?P<name>[A-Z][A-Z/ ]{1,15}?)\s*:(?P<value>.*)$")
FOOTER_FIELD = re.compile(r"(?P<name>[A-Za-z][A-Za-z /]{0,24}?)\s*:\s?(?P<value>.*)$")
TITLE_PREFIX = re.compile(r"(?P<prefix>[A-Za-z0-9][A-Za-z0-9 .'/&!+-]{0,23}?)\s*:\s*(?=\S)")
QUERY_WORDS = re.compile(r"Additional query words\s*:\s?(?P<words>.*)$", re.IGNORECASE)
APPLIES_TO = re.compile(r"The information in this article applies to", re.IGNORECASE)
BULLET = re.compile(r"(?P<indent> *)(?P<marker>[-*\u2022\u00b7o])(?P<gap> +)(?=\S)")
LIST_MARKER = re.compile(
    r"(?P<indent> *)(?P<marker>[-*\u2022\u00b7o]|\d{1,2}[.)]|[a-z][.)]|\(\d{1,2}\)|\([a-z]\))"
    r"(?P<gap> +)(?=\S)"
)
COPYRIGHT_NOTICE = re.compile(
    r"\b(?:1[89]\d\d|20\d\d|copyright|corporation|rights)\b", re.IGNORECASE
)
"""What follows the ``(c)`` of ``(c) Northwind 1999, All Rights Reserved.``"""
_SENTENCE_ENDS = (".", ":", ";", "!", "?")
_TABLE_ROW_GAP = 4
"""A "marker" followed by this many spaces and more columns is a table row, not a list item."""
REFERENCE_LINE = re.compile(r"(?P<indent> *)(?P<marker>Q\d{5,7})(?P<gap> +)(?=\S)")
TABLE_GAP = re.compile(r"\S {3,}\S")
BOX_LINE = re.compile(r"\s*(?:\+[-=+]{3,}\+?|\|.*\|)$")
"""A border (``+----+``) or a row (``| a | b |``) of a table drawn with boxes."""
SENTENCE_GAP = re.compile(r"[.:?!]\)? {2,}")
"""Spaces after a full stop, which typewriter prose doubles or triples."""
STAR_COMMENT = re.compile(r"\s*\*+(?:\s|$)")
"""A line opening with asterisks; inside a run of code, a FoxPro or C comment."""
SECTION_NUMBER = re.compile(r"\d+(?:\.\d+)+\s")
"""``1.1 `` or ``7.15 ``: a numbered topic of a contents list."""
LEAD_IN = re.compile(r"[a-z][a-z]*(?: [A-Za-z(),'-]+)+:")
"""Lowercase words ending in a colon: ``to this:``, ``add this line:``."""
COLUMN_START = re.compile(r"(?<=   )\S")
"""Where a table column starts: text after three or more spaces."""
C_LINE = re.compile(
    r"(?:.*[;{}]\s*$|\s*(?:(?i:#include|#define|#if)|//|/\*|\*/"
    r"|REM\s|Dim\s|Sub\s|End Sub|[A-Z]:\\\S*>))"
)
VB_COMMENT = re.compile(r"\s*'(?![^']+'(?:[\s.,;:]|$))")
"""``' comment``, but not a wrapped line that opens with a 'quoted title'."""
VB_CONTINUATION = re.compile(r".*\S\s_$")
VB_DECLARATION = re.compile(
    r"\s*(?:(?:Private|Public|Global|Static)\s+)?"
    r"(?:Declare\s+(?:Function|Sub)\s+\w|(?:Sub|Function|Property\s+(?:Get|Let|Set))\s+\w+\s*\("
    r"|Const\s+\w+\s*(?:As\s+\w+\s*)?=|Dim\s+\w+(?:\(\w*\))?(?:\s+As\b|\s*,|\s*$)|Type\s+\w+\s*$)"
)
VB_MEMBER = re.compile(r"\s*(?:Private|Public|Global)\s+\w+(?:\(\w*\))?\s+As\s+\w")
VB_SET = re.compile(r"\s*Set\s+\w[\w.]*\s*=\s*\S")
VB_END = re.compile(r"\s*End\s+(?:Sub|Function|If|Type|With|Select|Property)\s*$")
VB_TYPED = re.compile(
    r".*\w\)?\s+As\s+(?:Long|String|Integer|Boolean|Variant|Double|Single|Object|Byte|Currency)\b"
)
FOXPRO_LINE = re.compile(
    r".*&&|\s*\*!\*|\s*(?:ENDPROC|ENDDEFINE|ENDIF|ENDDO|ENDFUNC|ENDCASE|ENDSCAN|ENDFOR|ENDWITH)\b"
)
SQL_LINE = re.compile(r"\s*(?:SELECT|INSERT|CREATE|UPDATE|FROM|WHERE)\b(?!\s+[a-z]+\s+[a-z])")
"""A capitalised SQL keyword, but not ``SELECT statement that ...`` in prose."""
INI_SECTION = re.compile(r"\s*(?:\[[^\]]+\]$|;)")
"""A ``[Section]`` line or a ``;`` comment."""
INI_SETTING = re.compile(r"\s*\w[\w.$]*=\S(?!.*\.\s)(?!.*\.$)(?!.*(?:\s+[a-z]+){3})")
"""``Key=value``, but not ``Size=128. Increasing it ...`` wrapped in a sentence."""
ASM_DIRECTIVE = re.compile(
    r"\s*\.(?:model|data\??|code|stack|const|fardata|startup|exit|radix|dosseg|[2-4]86p?|8086|8087)\b",
    re.IGNORECASE,
)
CODE_LINES = (
    C_LINE,
    VB_COMMENT,
    VB_CONTINUATION,
    VB_DECLARATION,
    VB_MEMBER,
    VB_SET,
    VB_END,
    VB_TYPED,
    FOXPRO_LINE,
    SQL_LINE,
    INI_SECTION,
    INI_SETTING,
    ASM_DIRECTIVE,
)
"""Shapes of a line of C, Visual Basic, FoxPro, SQL, INI or assembler that prose lacks."""
CODE_LINE = re.compile(
    "|".join(f"(?{'i' if p.flags & re.IGNORECASE else ''}:{p.pattern})" for p in CODE_LINES)
)
"""CODE_LINES as one pattern: a line is tested against all shapes in a single match."""
MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}

Warn = Callable[[int | None, str], None]


def parse_article(source: SourceText) -> tuple[Article, list[Problem]]:
    """Parse one decoded source file; the problems found are warnings unless raised.

    Raises ArticleError only when no valid article id can be found at all.
    """
    problems: list[Problem] = []

    def warn(line: int | None, message: str) -> None:
        problems.append(Problem(source.path, line, Level.WARNING, message))

    lines = [(n, text.expandtabs(8).rstrip()) for n, text in enumerate(source.text.split("\n"), 1)]
    while lines and not lines[-1][1]:
        lines.pop()
    header_end = _find_header_rule(lines)
    if header_end is None:
        header_end = _header_extent(lines)
        warn(
            lines[header_end - 1][0] if header_end else 1,
            "no '=====' rule after the header; the body starts after the last header field",
        )
        header, body = lines[:header_end], lines[header_end:]
    else:
        header, body = lines[:header_end], lines[header_end + 1 :]

    article = _parse_header(header, source.path, warn)
    main, footer, legal = _split_tail(body)
    article.footer = _parse_fields(footer)
    article.legal = _paragraph_texts(legal)
    main = _take_applies_to(main, article)
    main = _take_query_words(main, article)
    article.sections = _parse_sections(main)
    article.references = [
        Reference("Q" + match.group(1), number)
        for number, text in lines
        for match in REFERENCE.finditer(text)
        if "Q" + match.group(1) != article.id
    ]
    return article, problems


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


def _parse_header(header: list[Line], path: Path, warn: Warn) -> Article:
    fields: dict[str, tuple[int, str]] = {}
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
        name = _header_name(field.group("name")) if field else ""
        if field and name in _HEADER_NAMES and name not in fields:
            fields[name] = (number, field.group("value").strip())
        else:
            extra.append(Field(field.group("name").strip() if field else "", text.strip(), number))

    article_id = _article_id(document, path, document_line, warn)
    title_line, title = fields.get("TITLE", (0, ""))
    if not title:
        warn(title_line or document_line, "article has no TITLE; using its id as the title")
        title = article_id
    article = Article(id=article_id, source=path, title=title, header_extra=extra)
    article.title_prefix = _title_prefix(title)
    if document:
        article.date_text = document.group("date") or ""
        article.category = (document.group("category") or "").strip()
        if article.date_text:
            article.date = _parse_date(article.date_text)
            if article.date is None:
                warn(document_line, f"unreadable date {article.date_text!r}")
        else:
            warn(document_line, "DOCUMENT line has no date")
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
    return re.sub(r"\s+", "", raw).upper()


def _article_id(document: re.Match[str] | None, path: Path, line: int, warn: Warn) -> str:
    written = (document.group("id") if document else "").upper()
    if ARTICLE_ID.fullmatch(written):
        return written
    from_name = path.stem.upper()
    if ARTICLE_ID.fullmatch(from_name):
        if document:
            warn(line, f"invalid article id {written!r}; using {from_name} from the file name")
        else:
            warn(1, f"no DOCUMENT line; using the id {from_name} from the file name")
        return from_name
    if document:
        raise ArticleError(f"invalid article id {written!r}", path, line)
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


def _is_underline(lines: list[Line], index: int) -> bool:
    """Whether line ``index`` underlines a heading rather than standing as a rule."""
    if index == 0:
        return False
    heading = lines[index - 1][1]
    underline = lines[index][1].strip()
    return (
        bool(heading.strip())
        and not QUERY_WORDS.match(heading)
        and not UNDERLINE.fullmatch(heading.strip())
        and len(heading) - len(heading.lstrip()) <= 1
        and "   " not in heading.strip()
        and abs(len(underline) - len(heading.strip())) <= 3
    )


def _split_tail(body: list[Line]) -> tuple[list[Line], list[Line], list[Line]]:
    """Split the body into main text, the trailing fields block and the legal text."""
    rules = [
        i
        for i, (_, text) in enumerate(body)
        if EQUALS_RULE.match(text) and not _is_underline(body, i)
    ]
    if not rules:
        return body, [], []
    last = rules[-1]
    after = body[last + 1 :]
    if _is_fields_block(after):
        return body[:last], after, []
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
    for index, (_, text) in enumerate(main):
        match = QUERY_WORDS.match(text)
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
    candidates = [i for i, (_, text) in enumerate(main) if text.strip()][:APPLIES_TO_REACH]
    for start in candidates:
        if (
            start + 1 < len(main)
            and UNDERLINE.match(main[start + 1][1])
            and _is_underline(main, start + 1)
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


# -- sections and blocks ------------------------------------------------------------


def _parse_sections(main: list[Line]) -> list[Section]:
    sections: list[Section] = []
    first_text = next((number for number, text in main if text.strip()), None)
    current = Section(None, 1, [], first_text or (main[0][0] if main else 1))
    pending: list[Line] = []
    index = 0
    while index < len(main):
        number, text = main[index]
        if (
            index + 1 < len(main)
            and text.strip()
            and UNDERLINE.match(main[index + 1][1])
            and _is_underline(main, index + 1)
        ):
            current.blocks = parse_blocks(pending)
            if current.title is not None or current.blocks:
                sections.append(current)
            level = 1 if main[index + 1][1].startswith("=") else 2
            current = Section(text.strip(), level, [], number)
            pending = []
            index += 2
            continue
        pending.append((number, text))
        index += 1
    current.blocks = parse_blocks(pending)
    if current.title is not None or current.blocks:
        sections.append(current)
    _assign_anchors(sections)
    return sections


def _assign_anchors(sections: list[Section]) -> None:
    used: set[str] = set()
    for section in sections:
        if section.title is None:
            continue
        base = re.sub(r"[^a-z0-9]+", "-", section.title.lower()).strip("-") or "section"
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        section.anchor = anchor


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def parse_blocks(lines: list[Line]) -> list[Block]:
    """Group a section's lines into paragraphs, lists, preformatted blocks and rules."""
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        number, text = lines[index]
        if not text.strip():
            index += 1
            continue
        if _is_heading(lines, index):
            blocks.append(Heading(text.strip(), number))
            index += 2
            continue
        if STANDALONE_RULE.match(text) and not _is_comment_border(lines, index):
            blocks.append(Rule(number))
            index += 1
            continue
        if _list_item_at(lines, index) or REFERENCE_LINE.match(text):
            index = _parse_list(lines, index, blocks)
            continue
        end = _chunk_end(lines, index)
        run_end = _run_end(lines, index)
        if run_end > end and _is_mixed_code(lines[index:run_end]):
            end = _extend_preformatted(lines, run_end)
            blocks.append(_preformatted(lines[index:end]))
            index = end
            continue
        chunk = lines[index:end]
        if _indent(text) >= 2:
            if _is_indented_prose(chunk) or _is_lead_in(chunk):
                blocks.append(Paragraph([t.strip() for _, t in chunk], number, indented=True))
            else:
                end = _extend_preformatted(lines, end)
                blocks.append(_preformatted(lines[index:end]))
        elif (
            _is_tabular(chunk)
            or (len(chunk) == 1 and _is_command(text))
            or (not _paragraph(chunk).reflow and any(_has_column_gap(t) for _, t in chunk))
        ):
            blocks.append(_preformatted(chunk))
        else:
            blocks.append(_paragraph(chunk))
        index = end
    return blocks


def _is_heading(lines: list[Line], index: int) -> bool:
    """An underlined heading that sections could not take: one inside a list item."""
    return (
        index + 1 < len(lines)
        and UNDERLINE.match(lines[index + 1][1]) is not None
        and _is_underline(lines, index + 1)
    )


def _chunk_end(lines: list[Line], start: int) -> int:
    """End of the run of non-blank lines at the same kind of indentation as ``start``."""
    deep = _indent(lines[start][1]) >= 2
    tabular = False
    open_comments = _comment_depth(lines[start][1])
    end = start + 1
    while end < len(lines):
        text = lines[end][1]
        if not text.strip() or (_indent(text) >= 2) != deep:
            break
        if (_list_item_at(lines, end) and open_comments <= 0) or REFERENCE_LINE.match(text):
            break
        if not deep and _is_heading(lines, end):
            break
        open_comments += _comment_depth(text)
        tabular = tabular or bool(TABLE_GAP.search(lines[end - 1][1].strip()))
        if (
            not deep
            and STANDALONE_RULE.match(text)
            and not tabular
            and not _is_comment_border(lines, end)
        ):
            break
        if not deep and bool(BOX_LINE.match(text)) != bool(BOX_LINE.match(lines[end - 1][1])):
            break
        end += 1
    return end


def _run_end(lines: list[Line], start: int) -> int:
    """End of the run of non-blank lines from ``start``, whatever their indentation."""
    open_comments = _comment_depth(lines[start][1])
    end = start + 1
    while end < len(lines):
        text = lines[end][1]
        if not text.strip() or REFERENCE_LINE.match(text):
            break
        if _list_item_at(lines, end) and open_comments <= 0:
            break
        open_comments += _comment_depth(text)
        end += 1
    return end


def _is_mixed_code(run: list[Line]) -> bool:
    """A run mixing margin and indented lines that is one piece of code or one table.

    Code (``Private Sub`` at the margin, its body indented) and table rows whose last
    column wraps onto indented lines are one block; an introduction at the margin
    ending in ``:`` or ``.`` before indented lines is not part of them.
    """
    deep = [_indent(t) >= 2 for _, t in run]
    if all(deep) or not any(deep):
        return False
    margin_parts: list[list[Line]] = [[]]
    for line, is_deep in zip(run, deep, strict=True):
        if is_deep and margin_parts[-1]:
            margin_parts.append([])
        elif not is_deep:
            margin_parts[-1].append(line)
    if any(_is_prose_lines(part) for part in margin_parts if part):
        return False
    return any(_is_code_line(t) for _, t in run) or _is_wrapped_table(run)


def _is_prose_lines(part: list[Line]) -> bool:
    """Lines of running text: no code or column gaps, ending like a sentence."""
    if any(_is_code_line(t) or TABLE_GAP.search(t.strip()) for _, t in part):
        return False
    return part[-1][1].endswith((".", ":", "?", "!"))


def _is_wrapped_table(run: list[Line]) -> bool:
    """Whether every indented line starts exactly at a column of a gapped line above it."""
    columns: set[int] = set()
    for _, text in run:
        indent = _indent(text)
        if indent >= 2 and indent not in columns:
            return False
        columns.update(m.start() for m in COLUMN_START.finditer(text) if m.start() > indent)
    return bool(columns)


def _is_margin_code(run: list[Line]) -> bool:
    """Code at the margin that continues an indented block (``End Sub``, ``}``)."""
    code = sum(1 for _, t in run if _is_code_line(t))
    return code * 2 >= len(run)


def _extend_preformatted(lines: list[Line], end: int) -> int:
    """Keep blank-separated indented code together as one block."""
    while end < len(lines):
        probe = end
        while probe < len(lines) and not lines[probe][1].strip():
            probe += 1
        if probe == len(lines) or probe == end:
            return end
        if _list_item_at(lines, probe) or REFERENCE_LINE.match(lines[probe][1]):
            return end
        run_end = _run_end(lines, probe)
        if _is_mixed_code(lines[probe:run_end]):
            end = run_end
            continue
        if _indent(lines[probe][1]) < 2:
            if not _is_margin_code(lines[probe:run_end]):
                return end
            end = run_end
            continue
        following = _chunk_end(lines, probe)
        if _is_indented_prose(lines[probe:following]) or _is_lead_in(lines[probe:following]):
            return end
        end = following
    return end


def _is_indented_prose(chunk: list[Line]) -> bool:
    """Indented hard-wrapped sentences (a quoted note), as opposed to code or a table."""
    texts = [t.strip() for _, t in chunk]
    if len(texts) < 2 or any(TABLE_GAP.search(t) or _is_code_line(t) for t in texts):
        return False
    return all(len(t) >= 50 for t in texts[:-1]) and sum(t.count(" ") for t in texts) >= 8


def _is_lead_in(chunk: list[Line]) -> bool:
    """A lone line of words going on from the sentence above (``to this:``) into code below."""
    return len(chunk) == 1 and LEAD_IN.fullmatch(chunk[0][1].strip()) is not None


def _is_code_line(text: str) -> bool:
    """Whether a line has the shape of source code or a settings file, not of prose."""
    return CODE_LINE.match(text) is not None


def _is_command(text: str) -> bool:
    """A lone line like ``SS CP $/<project>`` or ``C:\\DOS> format a: /s``: code, not prose."""
    stripped = text.strip()
    return (
        len(stripped) < 100
        and not stripped.endswith((".", ":", ",", ";", "?", "!", ")"))
        and any(ch in stripped for ch in "\\$<>=%|{}")
        and " " in stripped
    )


def _is_tabular(chunk: list[Line]) -> bool:
    texts = [t for _, t in chunk]
    gapped = sum(1 for t in texts if TABLE_GAP.search(t.strip()) or BOX_LINE.match(t))
    code = sum(1 for t in texts if _is_code_line(t) or STAR_COMMENT.match(t))
    return (len(texts) >= 2 and gapped * 2 >= len(texts)) or (code >= 2 and code * 2 >= len(texts))


def _has_column_gap(text: str) -> bool:
    """Whether a line has a wide gap between columns, not just spaces after a sentence."""
    return bool(TABLE_GAP.search(SENTENCE_GAP.sub(" ", text.strip())))


def _preformatted(chunk: list[Line]) -> Preformatted:
    margin = min(_indent(t) for _, t in chunk if t.strip())
    return Preformatted("\n".join(t[margin:] for _, t in chunk).strip("\n"), chunk[0][0])


def _paragraph(chunk: list[Line]) -> Paragraph:
    texts = [t.strip() for _, t in chunk]
    short = len(texts) >= 2 and max(len(t) for t in texts[:-1]) < 45
    return Paragraph(texts, chunk[0][0], reflow=not (short or _is_contents(texts)))


def _is_contents(texts: list[str]) -> bool:
    """Lines of a contents list (``1.1 Setup``, ``1.2 ...``), one topic a line however long."""
    return sum(1 for t in texts if SECTION_NUMBER.match(t)) >= 3


def _list_item_at(lines: list[Line], index: int) -> re.Match[str] | None:
    """A list item's first line, unless it is a copyright notice, a table row or a comment.

    Table rows may start with ``-`` or ``*`` (``-     Subtraction``); FoxPro and C
    comments start with ``*`` and are followed straight away by more code.
    """
    text = lines[index][1]
    match = LIST_MARKER.match(text)
    if match is None:
        return None
    column = match.end()
    if match.group("marker").lower() in ("(c)", "(r)") and COPYRIGHT_NOTICE.search(text[column:]):
        return None
    if len(match.group("gap")) >= _TABLE_ROW_GAP and (
        TABLE_GAP.search(text[column:]) or _aligned_neighbour(lines, index, column)
    ):
        return None
    if match.group("marker") == "*" and _is_star_comment(lines, index):
        return None
    if _list_style(match.group("marker")) == "number" and _is_wrapped_number(lines, index):
        return None
    if match.group("marker") == "-" and _is_dash_continuation(lines, index):
        return None
    return match


def _is_dash_continuation(lines: list[Line], index: int) -> bool:
    """A lone ``- text`` right under a line of text, as in ``error F6422:`` / ``- no space``.

    Messages continue this way; a real list has a second ``-`` item at the same indent,
    and a capitalised line above is a heading the item stands under.
    """
    indent = _indent(lines[index][1])
    above = lines[index - 1][1] if index > 0 else ""
    if (
        not above.strip()
        or _indent(above) != indent
        or LIST_MARKER.match(above)
        or not any(ch.islower() for ch in above)
    ):
        return False
    return not any(
        _indent(text) == indent and text.lstrip().startswith("- ")
        for text in _siblings_below(lines, index)
    )


def _siblings_below(lines: list[Line], index: int) -> list[str]:
    """The lines after ``index`` up to the next one that is less indented, blanks skipped."""
    indent = _indent(lines[index][1])
    siblings: list[str] = []
    for _, text in lines[index + 1 :]:
        if text.strip() and _indent(text) < indent:
            break
        if text.strip():
            siblings.append(text)
    return siblings


def _is_wrapped_number(lines: list[Line], index: int) -> bool:
    """A number that hard wrapping put at a line start (``Windows`` / ``95. It must``).

    The line above runs on mid-sentence at the same indentation, in a paragraph that
    is not itself a list; a short or capitalised line above is a heading, not prose.
    """
    indent = _indent(lines[index][1])
    above = lines[index - 1][1] if index > 0 else ""
    if len(above.strip()) < 40 or _indent(above) != indent or above.endswith(_SENTENCE_ENDS):
        return False
    if not any(ch.islower() for ch in above):
        return False
    probe = index - 1
    while probe >= 0 and lines[probe][1].strip():
        if _indent(lines[probe][1]) == indent and LIST_MARKER.match(lines[probe][1]):
            return False
        probe -= 1
    return True


def _is_star_comment(lines: list[Line], index: int) -> bool:
    """Whether a ``*`` line sits among code lines at its indentation: a comment, not a bullet.

    At the margin the other lines must look like code, since a bullet's text may wrap
    back to the margin.
    """
    indent = _indent(lines[index][1])
    others: list[str] = []
    for step in (-1, 1):
        probe = index + step
        while 0 <= probe < len(lines) and lines[probe][1].strip():
            text = lines[probe][1]
            if _indent(text) < indent:
                break
            if _indent(text) == indent and not LIST_MARKER.match(text):
                others.append(text)
            probe += step
    return bool(others) and (
        indent >= 2 or any(_is_code_line(t) or STAR_COMMENT.match(t) for t in others)
    )


def _is_comment_border(lines: list[Line], index: int) -> bool:
    """A line of asterisks boxing a code comment (``*****`` over ``* FUNCTION``), not a rule."""
    if not STAR_COMMENT.match(lines[index][1]):
        return False
    neighbours = [lines[i][1] for i in (index - 1, index + 1) if 0 <= i < len(lines)]
    return any(STAR_COMMENT.match(t) or _is_code_line(t) for t in neighbours if t.strip())


def _aligned_neighbour(lines: list[Line], index: int, column: int) -> bool:
    """Whether the line above or below has a column starting at ``column`` too."""
    for neighbour in (index - 1, index + 1):
        if 0 <= neighbour < len(lines):
            text = lines[neighbour][1]
            if len(text) > column and text[column] != " " and text[column - 3 : column] == "   ":
                return True
    return False


def _comment_depth(text: str) -> int:
    return text.count("/*") - text.count("*/")


def _list_style(marker: str) -> str:
    if marker.startswith("Q"):
        return "references"
    core = marker.strip("().")
    if core.isdigit():
        return "number"
    if len(core) == 1 and core.isalpha() and marker != "o":
        return "letter"
    return "bullet:" + marker


def _parse_list(lines: list[Line], index: int, blocks: list[Block]) -> int:
    """Parse the list starting at ``index`` into ``blocks``; return where it ends."""
    first = _list_item_at(lines, index) or REFERENCE_LINE.match(lines[index][1])
    assert first is not None
    indent, style = len(first.group("indent")), _list_style(first.group("marker"))
    ordered = style in ("number", "letter")
    items: list[ListItem] = []
    while index < len(lines):
        number, text = lines[index]
        match = _list_item_at(lines, index) or REFERENCE_LINE.match(text)
        if (
            not match
            or not _same_column(match, first)
            or _list_style(match.group("marker")) != style
        ):
            break
        is_reference = style == "references"
        column = indent if is_reference else match.end()
        item_lines: list[Line] = [(number, text[column:])]
        end, probe = index + 1, index + 1
        while probe < len(lines):
            probe_text = lines[probe][1]
            if not probe_text.strip():
                probe += 1
                continue
            deeper = _indent(probe_text) > indent
            lazy = (
                (probe == end or (ordered and indent > 0))
                and not _list_item_at(lines, probe)
                and not REFERENCE_LINE.match(probe_text)
                and not STANDALONE_RULE.match(probe_text)
                and _indent(probe_text) == indent
            )
            if not (deeper or lazy):
                break
            item_lines.extend((n, "") for n, _ in lines[end:probe])
            item_lines.append(
                (
                    lines[probe][0],
                    probe_text[min(column, _indent(probe_text)) :]
                    if deeper
                    else probe_text.strip(),
                )
            )
            probe += 1
            end = probe
        resume = _next_step(lines, end, match) if ordered else None
        if resume is not None:
            item_lines.extend(_shift_left(lines[end:resume], column))
            end = resume
        items.append(
            ListItem(match.group("marker"), _item_blocks(item_lines, is_reference), number)
        )
        index = end
        while index < len(lines) and not lines[index][1].strip():
            index += 1
    if items:
        start = _list_start(items[0].marker, style)
        blocks.append(ListBlock(items, ordered, items[0].line, start, style.split(":")[0]))
    return index


def _next_step(lines: list[Line], start: int, item: re.Match[str]) -> int | None:
    """Where the step after ``item`` is, when only notes, commands or references come between.

    Steps often have their sub-content at the margin or at the marker's indentation;
    the numbering going on (n+1, same marker, same indentation) shows the list does too.
    """
    marker = item.group("marker")
    style = _list_style(marker)
    wanted = _list_start(marker, style) + 1
    between = False
    for index in range(start, len(lines)):
        text = lines[index][1]
        if STANDALONE_RULE.match(text) and not _is_comment_border(lines, index):
            return None
        match = _list_item_at(lines, index)
        if match and _same_column(match, item):
            found = match.group("marker")
            if _same_marker_kind(found, marker):
                same_step = _list_start(found, style) == wanted
                return index if same_step and between else None
        between = between or bool(text.strip())
    return None


def _same_column(match: re.Match[str], first: re.Match[str]) -> bool:
    """Markers of one list start or end at one column (`` 9.`` above ``10.``)."""
    same_start = match.start("marker") == first.start("marker")
    return same_start or match.end("marker") == first.end("marker")


def _same_marker_kind(a: str, b: str) -> bool:
    """Markers of one list: same style and punctuation (``1.`` and ``2.``, not ``2)``)."""
    return _list_style(a) == _list_style(b) and re.sub(r"\w", "", a) == re.sub(r"\w", "", b)


def _shift_left(run: list[Line], column: int) -> list[Line]:
    """Lines moved into an item, dedented as far as the item's text but keeping their shape."""
    shift = min([column] + [_indent(t) for _, t in run if t.strip()])
    return [(n, t[shift:]) for n, t in run]


def _item_blocks(item_lines: list[Line], is_reference: bool) -> list[Block]:
    """A reference item keeps its Q-number as text, so its first lines are a paragraph."""
    if not is_reference:
        return parse_blocks(item_lines)
    lead = 1
    while (
        lead < len(item_lines)
        and item_lines[lead][1].strip()
        and not REFERENCE_LINE.match(item_lines[lead][1])
    ):
        lead += 1
    return [_paragraph(item_lines[:lead]), *parse_blocks(item_lines[lead:])]


def _list_start(marker: str, style: str) -> int:
    core = marker.strip("().")
    if style == "number":
        return int(core)
    if style == "letter":
        return ord(core.lower()) - ord("a") + 1
    return 1
