"""Stage 2, inside a section: group lines into paragraphs, lists, code and tables.

KB articles are hard-wrapped plain text with no markup, so a block's kind is read from
the shape of its lines: indentation, column gaps, list markers, code-like syntax. Each
heuristic is a small named function; the reviewed corpus quirks each have a fixture
pair in ``tests/fixtures/parse/``. Whatever the shapes, every line ends up in some block.
"""

from __future__ import annotations

import re

from kbsite.model import Block, Heading, ListBlock, ListItem, Paragraph, Preformatted, Rule
from kbsite.read.syntax import ID_DIGITS

Line = tuple[int, str]
"""A 1-based source line number and the line's text (tabs expanded, right-stripped)."""

UNDERLINE = re.compile(r"(={3,}|-{3,})\s*$")
STANDALONE_RULE = re.compile(r"\s{0,1}([-=_*])\1{2,}\s*$")
QUERY_WORDS = re.compile(r"Additional query words\s*:\s?(?P<words>.*)$", re.IGNORECASE)
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
TABLE_GAP = re.compile(r"   (?<=\S   ) *\S")
"""A gap between columns: three spaces or more between two visible characters.

The pattern opens with the spaces and looks behind them for the first character, so
that the regex engine scans for three spaces instead of trying every position.
"""
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
    r"(?:.*;\s*$|.*\{\s*$|.*\}\s*$|\s*(?:(?i:#include|#define|#if)|//|/\*|\*/"
    r"|REM\s|Dim\s|Sub\s|End Sub|[A-Z]:\\\S*>))"
)
VB_COMMENT = re.compile(r"\s*'(?![^']+'(?:[\s.,;:]|$))")
"""``' comment``, but not a wrapped line that opens with a 'quoted title'."""
VB_CONTINUATION = re.compile(r".*_(?<=\S\s_)$")
VB_DECLARATION = re.compile(
    r"\s*(?:(?:Private|Public|Global|Static)\s+)?"
    r"(?:Declare\s+(?:Function|Sub)\s+\w|(?:Sub|Function|Property\s+(?:Get|Let|Set))\s+\w+\s*\("
    r"|Const\s+\w+\s*(?:As\s+\w+\s*)?=|Dim\s+\w+(?:\(\w*\))?(?:\s+As\b|\s*,|\s*$)|Type\s+\w+\s*$)"
)
VB_MEMBER = re.compile(r"\s*(?:Private|Public|Global)\s+\w+(?:\(\w*\))?\s+As\s+\w")
VB_SET = re.compile(r"\s*Set\s+\w[\w.]*\s*=\s*\S")
VB_END = re.compile(r"\s*End\s+(?:Sub|Function|If|Type|With|Select|Property)\s*$")
VB_TYPED = re.compile(
    r"(?=.*As\s).*\w\)?\s+As\s+"
    r"(?:Long|String|Integer|Boolean|Variant|Double|Single|Object|Byte|Currency)\b"
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
"""CODE_LINES as one pattern: a line is tested against all shapes in a single match.

Where a shape looks through the whole line, its ``.*`` is followed by one literal
character (``.*;``, ``.*_``, the lookahead for ``As``): the regex engine then jumps
between occurrences of that character instead of trying the rest of the shape at every
position, and the parser classifies lines often enough for that to matter.
"""


def is_underline(lines: list[Line], index: int) -> bool:
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
        # The run of non-blank lines outlasts the chunk only if the chunk stopped at one.
        run_end = _run_end(lines, index) if end < len(lines) and lines[end][1].strip() else end
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
        elif _is_tabular(chunk) or (len(chunk) == 1 and _is_command(text)):
            blocks.append(_preformatted(chunk))
        else:
            paragraph = _paragraph(chunk)
            columns = not paragraph.reflow and any(_has_column_gap(t) for _, t in chunk)
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
    deep = _indent(lines[start][1]) >= 2
    boxed = bool(BOX_LINE.match(lines[start][1]))
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
    if any(_is_code_line(t) or TABLE_GAP.search(t) for _, t in part):
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
    """Whether margin lines are a table or code: of two or more, half are rows or code.

    A lone line never is, and rows are counted first since code is dearer to recognise.
    """
    if len(chunk) < 2:
        return False
    texts = [t for _, t in chunk]
    gapped = sum(1 for t in texts if TABLE_GAP.search(t) or BOX_LINE.match(t))
    return gapped * 2 >= len(texts) or _is_mostly_code(texts)


def _is_mostly_code(texts: list[str]) -> bool:
    """Whether at least half the lines, and two or more, are code or star comments.

    Recognising code is the parser's dearest test, so counting stops once too many
    lines are prose, about half-way through a paragraph.
    """
    prose_allowed = min(len(texts) // 2, len(texts) - 2)
    prose = 0
    for text in texts:
        if not (_is_code_line(text) or STAR_COMMENT.match(text)):
            prose += 1
            if prose > prose_allowed:
                return False
    return True


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
    return len(texts) >= 3 and sum(1 for t in texts if SECTION_NUMBER.match(t)) >= 3


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
        column = match.start("marker") if is_reference else match.end()
        item_lines: list[Line] = [(number, text[column:])]
        end, probe = index + 1, index + 1
        while probe < len(lines):
            probe_text = lines[probe][1]
            if not probe_text.strip():
                probe += 1
                continue
            probe_indent = _indent(probe_text)
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
