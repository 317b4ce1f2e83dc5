"""The shapes of lines that tell a block's kind: code, tables, prose, contents lists.

Pure tests on a line or a run of lines, with no notion of where a block starts or ends
(``blocks.py`` decides that): each shape is a named pattern or a small function.
"""

from __future__ import annotations

import re

Line = tuple[int, str]
"""A 1-based source line number and the line's text (tabs expanded, right-stripped)."""

UNDERLINE = re.compile(r"(={3,}|-{3,})\s*$")
QUERY_WORDS = re.compile(r"Additional query words\s*:\s?(?P<words>.*)$", re.IGNORECASE)
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


def indent_of(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def is_mixed_code(run: list[Line]) -> bool:
    """A run mixing margin and indented lines that is one piece of code or one table.

    Code (``Private Sub`` at the margin, its body indented) and table rows whose last
    column wraps onto indented lines are one block; an introduction at the margin
    ending in ``:`` or ``.`` before indented lines is not part of them.
    """
    deep = [indent_of(t) >= 2 for _, t in run]
    if all(deep) or not any(deep):
        return False
    margin_parts: list[list[Line]] = [[]]
    for line, is_deep in zip(run, deep, strict=True):
        if is_deep and margin_parts[-1]:
            margin_parts.append([])
        elif not is_deep:
            margin_parts[-1].append(line)
    if any(is_prose_lines(part) for part in margin_parts if part):
        return False
    return any(is_code_line(t) for _, t in run) or is_wrapped_table(run)


def is_prose_lines(part: list[Line]) -> bool:
    """Lines of running text: no code or column gaps, ending like a sentence."""
    if any(is_code_line(t) or TABLE_GAP.search(t) for _, t in part):
        return False
    return part[-1][1].endswith((".", ":", "?", "!"))


def is_wrapped_table(run: list[Line]) -> bool:
    """Whether every indented line starts exactly at a column of a gapped line above it."""
    columns: set[int] = set()
    for _, text in run:
        indent = indent_of(text)
        if indent >= 2 and indent not in columns:
            return False
        columns.update(m.start() for m in COLUMN_START.finditer(text) if m.start() > indent)
    return bool(columns)


def is_margin_code(run: list[Line]) -> bool:
    """Code at the margin that continues an indented block (``End Sub``, ``}``)."""
    code = sum(1 for _, t in run if is_code_line(t))
    return code * 2 >= len(run)


def is_indented_prose(chunk: list[Line]) -> bool:
    """Indented hard-wrapped sentences (a quoted note), as opposed to code or a table."""
    texts = [t.strip() for _, t in chunk]
    if len(texts) < 2 or any(TABLE_GAP.search(t) or is_code_line(t) for t in texts):
        return False
    return all(len(t) >= 50 for t in texts[:-1]) and sum(t.count(" ") for t in texts) >= 8


def is_lead_in(chunk: list[Line]) -> bool:
    """A lone line of words going on from the sentence above (``to this:``) into code below."""
    return len(chunk) == 1 and LEAD_IN.fullmatch(chunk[0][1].strip()) is not None


def is_code_line(text: str) -> bool:
    """Whether a line has the shape of source code or a settings file, not of prose."""
    return CODE_LINE.match(text) is not None


def is_command(text: str) -> bool:
    """A lone line like ``SS CP $/<project>`` or ``C:\\DOS> format a: /s``: code, not prose."""
    stripped = text.strip()
    return (
        len(stripped) < 100
        and not stripped.endswith((".", ":", ",", ";", "?", "!", ")"))
        and any(ch in stripped for ch in "\\$<>=%|{}")
        and " " in stripped
    )


def is_tabular(chunk: list[Line]) -> bool:
    """Whether margin lines are a table or code: of two or more, half are rows or code.

    A lone line never is, and rows are counted first since code is dearer to recognise.
    """
    if len(chunk) < 2:
        return False
    texts = [t for _, t in chunk]
    gapped = sum(1 for t in texts if TABLE_GAP.search(t) or BOX_LINE.match(t))
    return gapped * 2 >= len(texts) or is_mostly_code(texts)


def is_mostly_code(texts: list[str]) -> bool:
    """Whether at least half the lines, and two or more, are code or star comments.

    Recognising code is the parser's dearest test, so counting stops once too many
    lines are prose, about half-way through a paragraph.
    """
    prose_allowed = min(len(texts) // 2, len(texts) - 2)
    prose = 0
    for text in texts:
        if not (is_code_line(text) or STAR_COMMENT.match(text)):
            prose += 1
            if prose > prose_allowed:
                return False
    return True


def has_column_gap(text: str) -> bool:
    """Whether a line has a wide gap between columns, not just spaces after a sentence."""
    return bool(TABLE_GAP.search(SENTENCE_GAP.sub(" ", text.strip())))


def is_contents(texts: list[str]) -> bool:
    """Lines of a contents list (``1.1 Setup``, ``1.2 ...``), one topic a line however long."""
    return len(texts) >= 3 and sum(1 for t in texts if SECTION_NUMBER.match(t)) >= 3


def comment_depth(text: str) -> int:
    return text.count("/*") - text.count("*/")
