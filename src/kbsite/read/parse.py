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

import itertools
import re

from kbsite.errors import Problem
from kbsite.model import (
    AppliesTo,
    Article,
    Field,
    Reference,
    Section,
    TextPage,
)
from kbsite.read.blocks import parse_blocks
from kbsite.read.header import (
    Findings,
    fallback_title,
    find_header_rule,
    header_extent,
    parse_header,
    title_prefix,
)
from kbsite.read.shapes import QUERY_WORDS, UNDERLINE, Line, is_underline
from kbsite.read.source import SourceText
from kbsite.read.syntax import REFERENCE

EQUALS_RULE = re.compile(r"\s{0,3}={10,}\s*$")
DASHED_RULE = re.compile(r"\s{0,3}-{10,}\s*$")
FOOTER_FIELD = re.compile(r"(?P<name>[A-Za-z][A-Za-z /]{0,24}?)\s*:\s?(?P<value>.*)$")
APPLIES_TO = re.compile(r"The information in this article applies to", re.IGNORECASE)
BULLET = re.compile(r"(?P<indent> *)(?P<marker>[-*\u2022\u00b7o])(?P<gap> +)(?=\S)")
NOT_IN_SLUG = re.compile(r"[^a-z0-9]+")


def parse_article(source: SourceText) -> tuple[Article, list[Problem]]:
    """Parse one decoded source file, with the problems found on the way.

    Raises ArticleError only when no valid article id can be found at all; anything
    else wrong is reported and the article kept.
    """
    found = Findings(source.path)
    lines = [(n, text.expandtabs(8).rstrip()) for n, text in enumerate(source.text.split("\n"), 1)]
    while lines and not lines[-1][1]:
        lines.pop()
    header_end = find_header_rule(lines)
    if header_end is None:
        header_end = header_extent(lines)
        found.warn(
            lines[header_end - 1][0] if header_end else 1,
            "no '=====' rule after the header; the body starts after the last header field",
        )
        header, body = lines[:header_end], lines[header_end:]
    else:
        header, body = lines[:header_end], lines[header_end + 1 :]

    article = parse_header(header, source.path, found)
    main, footer, legal = _split_tail(body)
    article.footer = _parse_fields(footer)
    article.legal = _paragraph_texts(legal)
    main = _take_applies_to(main, article)
    main = _take_query_words(main, article)
    article.sections = _parse_sections(main)
    if not any(text.strip() for _, text in body):
        found.warn(lines[-1][0] if lines else 1, "article has no body: nothing after the header")
    if not article.title:
        article.title = fallback_title(article, header, found)
        article.title_prefix = title_prefix(article.title)
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
