"""Stage 2, inside a section: group lines into paragraphs, lists, code and tables.

KB articles are hard-wrapped plain text with no markup, so a block's kind is read from
the shape of its lines: indentation, column gaps, list markers, code-like syntax. Each
heuristic is a small named function (those that look at lines alone are in
``shapes.py``); the reviewed corpus quirks each have a fixture pair in
``tests/fixtures/parse/``. Whatever the shapes, every line ends up in some block.
"""

from __future__ import annotations

import re

from kbsite.model import Block, Heading, ListBlock, ListItem, Paragraph, Preformatted, Rule
from kbsite.read.shapes import (
    BOX_LINE,
    STAR_COMMENT,
    TABLE_GAP,
    UNDERLINE,
    Line,
    comment_depth,
    has_column_gap,
    indent_of,
    is_code_line,
    is_command,
    is_contents,
    is_indented_prose,
    is_lead_in,
    is_margin_code,
    is_mixed_code,
    is_tabular,
    is_underline,
)
from kbsite.read.syntax import ID_DIGITS

STANDALONE_RULE = re.compile(r"\s{0,1}([-=_*])\1{2,}\s*$")
LIST_MARKER = re.compile(
    r"(?P<indent> *)(?P<marker>[-*\u2022\u00b7o]|\d{1,2}[.)]|[a-z][.)]|\(\d{1,2}\)|\([a-z]\))"
    r"(?P<gap> +)(?=\S)"
)
WORD_CHAR = re.compile(r"\w")
COPYRIGHT_NOTICE = re.compile(
    r"\b(?:1[89]\d\d|20\d\d|copyright|corporation|rights)\b", re.IGNORECASE
)
"""What follows the ``(c)`` of ``(c) Northwind 1999, All Rights Reserved.``"""
_SENTENCE_ENDS = (".", ":", ";", "!", "?")
_TABLE_ROW_GAP = 4
"""A "marker" followed by this many spaces and more columns is a table row, not a list item."""
REFERENCE_LINE = re.compile(f"(?P<indent> *)(?P<marker>Q{ID_DIGITS})(?P<gap> +)(?=\\S)")


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
        # The run of non-blank lines outlasts the chunk only if the chunk stopped at one.
        run_end = _run_end(lines, index) if end < len(lines) and lines[end][1].strip() else end
        if run_end > end and is_mixed_code(lines[index:run_end]):
            end = _extend_preformatted(lines, run_end)
            blocks.append(_preformatted(lines[index:end]))
            index = end
            continue
        chunk = lines[index:end]
        if indent_of(text) >= 2:
            if is_indented_prose(chunk) or is_lead_in(chunk):
                blocks.append(Paragraph([t.strip() for _, t in chunk], number, indented=True))
            else:
                end = _extend_preformatted(lines, end)
                blocks.append(_preformatted(lines[index:end]))
        elif is_tabular(chunk) or (len(chunk) == 1 and is_command(text)):
            blocks.append(_preformatted(chunk))
        else:
            paragraph = _paragraph(chunk)
            columns = not paragraph.reflow and any(has_column_gap(t) for _, t in chunk)
            blocks.append(_preformatted(chunk) if columns else paragraph)
        index = end
    return blocks


def _is_heading(lines: list[Line], index: int) -> bool:
    """An underlined heading that sections could not take: one inside a list item."""
    return (
        index + 1 < len(lines)
        and UNDERLINE.match(lines[index + 1][1]) is not None
        and is_underline(lines, index + 1)
    )


def _chunk_end(lines: list[Line], start: int) -> int:
    """End of the run of non-blank lines at the same kind of indentation as ``start``.

    At the margin a chunk is all box-drawing lines or none, so each line is compared
    with the first.
    """
    deep = indent_of(lines[start][1]) >= 2
    boxed = bool(BOX_LINE.match(lines[start][1]))
    tabular = False
    open_comments = comment_depth(lines[start][1])
    end = start + 1
    while end < len(lines):
        text = lines[end][1]
        if not text.strip() or (indent_of(text) >= 2) != deep:
            break
        if (_list_item_at(lines, end) and open_comments <= 0) or REFERENCE_LINE.match(text):
            break
        if not deep and _is_heading(lines, end):
            break
        open_comments += comment_depth(text)
        tabular = tabular or bool(TABLE_GAP.search(lines[end - 1][1]))
        if (
            not deep
            and STANDALONE_RULE.match(text)
            and not tabular
            and not _is_comment_border(lines, end)
        ):
            break
        if not deep and bool(BOX_LINE.match(text)) != boxed:
            break
        end += 1
    return end


def _run_end(lines: list[Line], start: int) -> int:
    """End of the run of non-blank lines from ``start``, whatever their indentation."""
    open_comments = comment_depth(lines[start][1])
    end = start + 1
    while end < len(lines):
        text = lines[end][1]
        if not text.strip() or REFERENCE_LINE.match(text):
            break
        if _list_item_at(lines, end) and open_comments <= 0:
            break
        open_comments += comment_depth(text)
        end += 1
    return end


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
        if is_mixed_code(lines[probe:run_end]):
            end = run_end
            continue
        if indent_of(lines[probe][1]) < 2:
            if not is_margin_code(lines[probe:run_end]):
                return end
            end = run_end
            continue
        following = _chunk_end(lines, probe)
        if is_indented_prose(lines[probe:following]) or is_lead_in(lines[probe:following]):
            return end
        end = following
    return end


def _preformatted(chunk: list[Line]) -> Preformatted:
    margin = min(indent_of(t) for _, t in chunk if t.strip())
    return Preformatted("\n".join(t[margin:] for _, t in chunk).strip("\n"), chunk[0][0])


def _paragraph(chunk: list[Line]) -> Paragraph:
    texts = [t.strip() for _, t in chunk]
    short = len(texts) >= 2 and max(len(t) for t in texts[:-1]) < 45
    return Paragraph(texts, chunk[0][0], reflow=not (short or is_contents(texts)))


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
    indent = indent_of(lines[index][1])
    above = lines[index - 1][1] if index > 0 else ""
    if (
        not above.strip()
        or indent_of(above) != indent
        or LIST_MARKER.match(above)
        or not any(ch.islower() for ch in above)
    ):
        return False
    return not any(
        indent_of(text) == indent and text.lstrip().startswith("- ")
        for text in _siblings_below(lines, index)
    )


def _siblings_below(lines: list[Line], index: int) -> list[str]:
    """The lines after ``index`` up to the next one that is less indented, blanks skipped."""
    indent = indent_of(lines[index][1])
    siblings: list[str] = []
    for _, text in lines[index + 1 :]:
        if text.strip() and indent_of(text) < indent:
            break
        if text.strip():
            siblings.append(text)
    return siblings


def _is_wrapped_number(lines: list[Line], index: int) -> bool:
    """A number that hard wrapping put at a line start (``Windows`` / ``95. It must``).

    The line above runs on mid-sentence at the same indentation, in a paragraph that
    is not itself a list; a short or capitalised line above is a heading, not prose.
    """
    indent = indent_of(lines[index][1])
    above = lines[index - 1][1] if index > 0 else ""
    if len(above.strip()) < 40 or indent_of(above) != indent or above.endswith(_SENTENCE_ENDS):
        return False
    if not any(ch.islower() for ch in above):
        return False
    probe = index - 1
    while probe >= 0 and lines[probe][1].strip():
        if indent_of(lines[probe][1]) == indent and LIST_MARKER.match(lines[probe][1]):
            return False
        probe -= 1
    return True


def _is_star_comment(lines: list[Line], index: int) -> bool:
    """Whether a ``*`` line sits among code lines at its indentation: a comment, not a bullet.

    At the margin the other lines must look like code, since a bullet's text may wrap
    back to the margin.
    """
    indent = indent_of(lines[index][1])
    others: list[str] = []
    for step in (-1, 1):
        probe = index + step
        while 0 <= probe < len(lines) and lines[probe][1].strip():
            text = lines[probe][1]
            if indent_of(text) < indent:
                break
            if indent_of(text) == indent and not LIST_MARKER.match(text):
                others.append(text)
            probe += step
    return bool(others) and (
        indent >= 2 or any(is_code_line(t) or STAR_COMMENT.match(t) for t in others)
    )


def _is_comment_border(lines: list[Line], index: int) -> bool:
    """A line of asterisks boxing a code comment (``*****`` over ``* FUNCTION``), not a rule."""
    if not STAR_COMMENT.match(lines[index][1]):
        return False
    neighbours = [lines[i][1] for i in (index - 1, index + 1) if 0 <= i < len(lines)]
    return any(STAR_COMMENT.match(t) or is_code_line(t) for t in neighbours if t.strip())


def _aligned_neighbour(lines: list[Line], index: int, column: int) -> bool:
    """Whether the line above or below has a column starting at ``column`` too."""
    for neighbour in (index - 1, index + 1):
        if 0 <= neighbour < len(lines):
            text = lines[neighbour][1]
            if len(text) > column and text[column] != " " and text[column - 3 : column] == "   ":
                return True
    return False


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
        column = match.start("marker") if is_reference else match.end()
        item_lines: list[Line] = [(number, text[column:])]
        end, probe = index + 1, index + 1
        while probe < len(lines):
            probe_text = lines[probe][1]
            if not probe_text.strip():
                probe += 1
                continue
            probe_indent = indent_of(probe_text)
            deeper = probe_indent > indent
            lazy = (
                probe_indent == indent
                and (probe == end or (ordered and indent > 0))
                and not _list_item_at(lines, probe)
                and not REFERENCE_LINE.match(probe_text)
                and not STANDALONE_RULE.match(probe_text)
            )
            if not (deeper or lazy):
                break
            item_lines.extend((n, "") for n, _ in lines[end:probe])
            item_lines.append(
                (
                    lines[probe][0],
                    probe_text[min(column, probe_indent) :] if deeper else probe_text.strip(),
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
    return _list_style(a) == _list_style(b) and WORD_CHAR.sub("", a) == WORD_CHAR.sub("", b)


def _shift_left(run: list[Line], column: int) -> list[Line]:
    """Lines moved into an item, dedented as far as the item's text but keeping their shape."""
    shift = min([column] + [indent_of(t) for _, t in run if t.strip()])
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
