"""The search query language, parsed into a small tree both search engines evaluate.

Syntax (what web search taught users)::

    memory leak            both words (AND)
    "access violation"     the exact phrase
    excel OR word          either (binds tighter than AND)
    -printer  NOT printer  excluding
    (a OR b) c             grouping
    title:leak             in one field: title, headings, body, keywords, product,
    product:"windows nt"   category, type, id
    year:2001  year:1999..2001  year:[1999 TO 2001]  year:>=2000
    date:2001-05  date:2001-01-01..2001-06-30
    leak*                  words starting with ``leak``
    Q315817  315817        that article first

``kbsite search`` runs the tree on whoosh (``search.py``); the browser's
``search-query.js`` has a port of this parser, and ``search-engine.js`` evaluates the
same tree itself.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

from kbsite.errors import KbsiteError
from kbsite.search import forms
from kbsite.search.analysis import ARTICLE_NUMBER, code_term

SCORED_FIELDS = {"title": 3.0, "headings": 2.0, "keywords": 2.0, "body": 1.0}
"""The fields a plain word is looked for in, with how much a match in each counts."""
FILTER_FIELDS = ("product", "category", "type")
"""Fields that narrow results without changing their order."""
FIELD_ALIASES = {"keyword": "keywords", "heading": "headings", "kw": "keywords"}
RANGE_FIELDS = ("year", "date")
ID_FIELD = "id"


class QueryError(KbsiteError):
    """A query that cannot be parsed; ``column`` is 1-based."""

    def __init__(self, message: str, column: int | None = None) -> None:
        where = f" (at column {column})" if column else ""
        super().__init__(f"{message}{where}")
        self.column = column


@dataclasses.dataclass(frozen=True, slots=True)
class Text:
    """Words, a phrase or a prefix, looked for in one field or (field None) all scored fields."""

    text: str
    field: str | None = None
    kind: str = "words"
    """``words``, ``phrase``, ``prefix`` or ``code`` (a number after STOP or "error")."""
    alternatives: tuple[tuple[str, float], ...] = ()
    """Words that match in its place, with the weight of their matches: a correction of a
    typo, a synonym (filled in after parsing, ``with_alternatives``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Range:
    """An inclusive range of dates; ``year:`` and ``date:`` both become one."""

    field: str
    low: datetime.date | None
    high: datetime.date | None


@dataclasses.dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Most:
    """Words side by side with no written AND: articles with all of them rank first, then
    those with most of them (``ranking.coordination``); what is written as syntax among
    them (a phrase, a field, a group) must still match."""

    children: tuple[Node, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Text | Range | And | Most | Or | Not


@dataclasses.dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: its tree and, when the whole query is an article id, that id."""

    text: str
    root: Node
    article_id: str | None = None


_LEXEME = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<quote>")
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_FIELD = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_COMPARE = re.compile(r"(>=|<=|>|<)(.+)")
_RANGE_TO = re.compile(r"\[\s*(\S*)\s+TO\s+(\S*)\s*\]", re.IGNORECASE)


@dataclasses.dataclass(slots=True)
class _Lexeme:
    kind: str
    text: str
    column: int
    field: str | None = None
    negated: bool = False


def parse_query(text: str) -> Query:
    """Parse a query string; raises QueryError with the column of the problem."""
    if not text.strip():
        raise QueryError("the query is empty")
    lexemes = read_forms(_Lexer(text).lex())
    parser = _Parser(lexemes)
    root = parser.parse_or()
    if parser.peek() is not None:
        lexeme = parser.peek()
        assert lexeme is not None
        raise QueryError("unmatched ')'", lexeme.column)
    _check_positive(root)
    article_id = None
    if len(lexemes) == 1 and lexemes[0].kind == "word" and not lexemes[0].field:
        id_match = ARTICLE_NUMBER.fullmatch(lexemes[0].text)
        article_id = f"Q{int(id_match.group(1))}" if id_match else None
    return Query(text, root, article_id)


def read_forms(lexemes: list[_Lexeme]) -> list[_Lexeme]:
    """Article numbers in their written forms become ``Q315817``; a number after STOP
    or "error" becomes a code (``forms.py``)."""
    out: list[_Lexeme] = []
    for lexeme in lexemes:
        if lexeme.kind != "word" or lexeme.field not in (None, ID_FIELD) or lexeme.negated:
            out.append(lexeme)
            continue
        before = out[-1] if out and out[-1].kind == "word" and not out[-1].negated else None
        number = forms.article_number(lexeme.text)
        if number is None and before is not None and before.field == lexeme.field:
            number = forms.kb_number(before.text, lexeme.text)
            if number is not None:
                lexeme = out.pop()
        if number is not None:
            lexeme = dataclasses.replace(lexeme, text=f"Q{number}")
        elif (
            before is not None
            and forms.is_code_word(before.text)
            and any(c.isdigit() for c in lexeme.text)
            and code_term(lexeme.text) is not None
        ):
            lexeme = dataclasses.replace(lexeme, kind="code")
        out.append(lexeme)
    return out


class _Lexer:
    """The query text as lexemes: words, phrases, parentheses, ranges and operators, each
    with the field (``title:``) and the exclusion (``-``) written before it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lexemes: list[_Lexeme] = []
        self.position = 0
        self.field: str | None = None
        self.negated = False
        self.column = 0
        """Where the pending field or exclusion started."""

    def lex(self) -> list[_Lexeme]:
        text = self.text
        while self.position < len(text):
            match = _LEXEME.match(text, self.position)
            assert match is not None and match.lastgroup is not None
            column = self.position + 1
            if match.lastgroup == "space":
                if self.pending:
                    raise QueryError(
                        "a field name or '-' must be followed by what to look for", column
                    )
                self.position = match.end()
            elif match.lastgroup == "quote":
                end = text.find('"', self.position + 1)
                if end < 0:
                    raise QueryError("unclosed quote", column)
                self.emit("phrase", text[self.position + 1 : end], self.start(column), end + 1)
            elif match.lastgroup in ("open", "close"):
                self.emit(match.lastgroup, match.group(), self.start(column), match.end())
            else:
                self.word(match, column)
        if self.pending:
            raise QueryError("the query ends before saying what to look for", len(text))
        return self.lexemes

    @property
    def pending(self) -> bool:
        return self.field is not None or self.negated

    def start(self, column: int) -> int:
        return self.column if self.pending else column

    def emit(self, kind: str, text: str, column: int, end: int) -> None:
        self.lexemes.append(_Lexeme(kind, text, column, self.field, self.negated))
        self.field, self.negated = None, False
        self.position = end

    def word(self, match: re.Match[str], column: int) -> None:
        text, word, end = self.text, match.group(), match.end()
        if word == "-" and text[end : end + 1] in ("(", '"') and not self.pending:
            self.negated, self.column, self.position = True, column, end
            return
        if not self.pending:
            self.column = column
        if word.startswith("-") and len(word) > 1 and not self.pending:
            self.negated = True
            word = word[1:]
            column += 1
        field_match = _FIELD.match(word)
        if field_match and self.field is None and _field_name(field_match.group(1)):
            self.field = _field_name(field_match.group(1))
            rest = field_match.group(2)
            if self.field in RANGE_FIELDS and rest.startswith("["):
                range_match = _RANGE_TO.match(text, end - len(rest))
                if range_match is None:
                    raise QueryError(f"{self.field}: write a range as [1999 TO 2001]", column)
                span = f"{range_match.group(1)}..{range_match.group(2)}"
                self.emit("range", span, self.column, range_match.end())
                return
            if not rest:
                self.position = end
                return
            word = rest
        if word in ("OR", "AND", "NOT") and self.field is None:
            if self.negated:
                raise QueryError(f"'-' cannot apply to {word}", column)
            self.lexemes.append(_Lexeme(word, word, column))
            self.position = end
            return
        self.emit("word", word, self.column, end)


def _field_name(name: str) -> str | None:
    lowered = FIELD_ALIASES.get(name.lower(), name.lower())
    if lowered in SCORED_FIELDS or lowered in FILTER_FIELDS or lowered in RANGE_FIELDS:
        return lowered
    if lowered == ID_FIELD:
        return lowered
    return None


class _Parser:
    """Recursive descent over lexemes: or := and (OR and)*; and := unary+."""

    def __init__(self, lexemes: list[_Lexeme]) -> None:
        self.lexemes = lexemes
        self.index = 0
        self.depth = 0

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.index] if self.index < len(self.lexemes) else None

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.index]
        self.index += 1
        return lexeme

    def parse_or(self, field: str | None = None) -> Node:
        children = [self.parse_and(field)]
        while (lexeme := self.peek()) is not None and lexeme.kind == "OR":
            self.take()
            children.append(self.parse_and(field))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self, field: str | None) -> Node:
        children: list[Node] = []
        written_and = False
        while (lexeme := self.peek()) is not None and lexeme.kind not in ("OR", "close"):
            if lexeme.kind == "AND":
                self.take()
                written_and = True
                continue
            children.append(self.parse_unary(field))
            if (after := self.peek()) is not None and after.kind == "OR":
                alternatives = [children.pop()]
                while (after := self.peek()) is not None and after.kind == "OR":
                    self.take()
                    if (nxt := self.peek()) is None or nxt.kind in ("OR", "close", "AND"):
                        raise QueryError("OR must stand between two things", after.column)
                    alternatives.append(self.parse_unary(field))
                children.append(Or(tuple(alternatives)))
        if not children:
            where = self.peek()
            raise QueryError("expected a word here", where.column if where else None)
        if len(children) == 1:
            return children[0]
        return And(tuple(children)) if written_and else Most(tuple(children))

    def parse_unary(self, field: str | None) -> Node:
        lexeme = self.take()
        if lexeme.kind == "NOT":
            if self.peek() is None:
                raise QueryError("NOT must be followed by what to exclude", lexeme.column)
            return Not(self.parse_unary(field))
        node = self._atom(lexeme, field)
        return Not(node) if lexeme.negated else node

    def _atom(self, lexeme: _Lexeme, outer: str | None) -> Node:
        field = lexeme.field or outer
        if lexeme.kind == "open":
            self.depth += 1
            if self.depth > 20:
                raise QueryError("too many nested parentheses", lexeme.column)
            if (nxt := self.peek()) is None or nxt.kind == "close":
                raise QueryError("empty parentheses", lexeme.column)
            node = self.parse_or(field)
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise QueryError("unclosed '('", lexeme.column)
            self.take()
            self.depth -= 1
            return node
        if lexeme.kind == "close":
            raise QueryError("unmatched ')'", lexeme.column)
        if lexeme.kind in ("OR", "AND"):
            raise QueryError(f"{lexeme.kind} must stand between two things", lexeme.column)
        if field in RANGE_FIELDS:
            return parse_range(field, lexeme.text, lexeme.column)
        if lexeme.kind == "phrase":
            return Text(lexeme.text, field, "phrase")
        if lexeme.kind == "range":
            raise QueryError(f"{field}: takes no range", lexeme.column)
        if lexeme.kind == "code":
            return Text(lexeme.text, field, "code")
        if lexeme.text.endswith("*") and len(lexeme.text.rstrip("*")) >= 2:
            return Text(lexeme.text.rstrip("*"), field, "prefix")
        return Text(lexeme.text, field, "words")


def parse_range(field: str, text: str, column: int | None = None) -> Range:
    """``2001``, ``1999..2001``, ``>=2000``, ``2001-05``, ``2001-01-01..2001-06-30``."""
    compare = _COMPARE.fullmatch(text)
    if compare:
        operator, value = compare.groups()
        low, high = _date_span(field, value, column)
        if operator == ">=":
            return Range(field, low, None)
        if operator == ">":
            return Range(field, high + datetime.timedelta(days=1), None)
        if operator == "<=":
            return Range(field, None, high)
        return Range(field, None, low - datetime.timedelta(days=1))
    if ".." in text:
        first, _, last = text.partition("..")
        start = _date_span(field, first, column)[0] if first not in ("", "*") else None
        end = _date_span(field, last, column)[1] if last not in ("", "*") else None
        if start and end and start > end:
            raise QueryError(f"{field}: the range ends before it starts", column)
        return Range(field, start, end)
    low, high = _date_span(field, text, column)
    return Range(field, low, high)


_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?")


def _date_span(field: str, text: str, column: int | None) -> tuple[datetime.date, datetime.date]:
    match = _DATE.fullmatch(text)
    if match is None or (field == "year" and match.group(2)):
        example = "2001 or 1999..2001" if field == "year" else "2001, 2001-05 or 2001-05-31"
        raise QueryError(f"{field}: expects a date like {example}, not {text!r}", column)
    year = int(match.group(1))
    try:
        if match.group(3):
            day = datetime.date(year, int(match.group(2)), int(match.group(3)))
            return day, day
        if match.group(2):
            month = int(match.group(2))
            first = datetime.date(year, month, 1)
            following = datetime.date(year + month // 12, month % 12 + 1, 1)
            return first, following - datetime.timedelta(days=1)
        return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    except ValueError as exc:
        raise QueryError(f"{field}: {text!r} is not a date ({exc})", column) from None


def with_alternatives(node: Node, found: dict[str, tuple[tuple[str, float], ...]]) -> Node:
    """``node`` with ``found``'s alternatives added to the words (lowercased) it names;
    what a query excludes is left as written."""
    if isinstance(node, Text):
        extra = found.get(node.text.lower()) if node.kind == "words" else None
        return dataclasses.replace(node, alternatives=extra) if extra else node
    if isinstance(node, And | Most | Or):
        children = tuple(with_alternatives(child, found) for child in node.children)
        return dataclasses.replace(node, children=children)
    return node


def plain_words(node: Node) -> list[str]:
    """The words (lowercased) a query looks for in the scored fields, each once, in order:
    what corrections and synonyms may apply to."""
    found: list[str] = []
    if isinstance(node, Text):
        if node.kind == "words" and (node.field is None or node.field in SCORED_FIELDS):
            found.append(node.text.lower())
    elif isinstance(node, And | Most | Or):
        for child in node.children:
            found += [word for word in plain_words(child) if word not in found]
    return found


def _check_positive(node: Node) -> None:
    """Refuse queries that only exclude: they would list the whole archive."""
    if isinstance(node, Not):
        raise QueryError("a query needs something to look for besides exclusions")
    if isinstance(node, And | Most) and all(isinstance(child, Not) for child in node.children):
        raise QueryError("a query needs something to look for besides exclusions")
    if isinstance(node, Or) and any(isinstance(child, Not) for child in node.children):
        raise QueryError("an exclusion cannot be one side of OR")
    for child in getattr(node, "children", ()):
        if not isinstance(child, Not):
            _check_positive(child)
