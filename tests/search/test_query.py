"""The query language: what web search taught users, parsed into one tree for both engines."""

from __future__ import annotations

import datetime

import pytest

from kbsite.search.query import And, Most, Node, Not, Or, QueryError, Range, Text, parse_query

D = datetime.date


def words(*texts: str, field: str | None = None) -> tuple[Text, ...]:
    return tuple(Text(text, field) for text in texts)


@pytest.mark.parametrize(
    ("query", "root"),
    [
        ("memory leak", Most(words("memory", "leak"))),
        ("a AND b", And(words("a", "b"))),
        ("excel OR word", Or(words("excel", "word"))),
        ("a OR b OR c", Or(words("a", "b", "c"))),
        ("a b OR c d", Most((Text("a"), Or(words("b", "c")), Text("d")))),
        ("(a OR b) c", Most((Or(words("a", "b")), Text("c")))),
        ("(a)", Text("a")),
        ("-printer leak", Most((Not(Text("printer")), Text("leak")))),
        ("leak NOT printer", Most((Text("leak"), Not(Text("printer"))))),
        (
            'leak -"access violation"',
            Most((Text("leak"), Not(Text("access violation", None, "phrase")))),
        ),
        ("leak -(a b)", Most((Text("leak"), Not(Most(words("a", "b")))))),
        ("leak -title:printer", Most((Text("leak"), Not(Text("printer", "title"))))),
        ("title:leak", Text("leak", "title")),
        ("Title:Leak", Text("Leak", "title")),
        ("body:leak", Text("leak", "body")),
        ("keyword:kbbug", Text("kbbug", "keywords")),
        ("kw:kbbug", Text("kbbug", "keywords")),
        ("heading:cause", Text("cause", "headings")),
        ("category:ldb type:prb", Most((Text("ldb", "category"), Text("prb", "type")))),
        ("title:(a b)", Most(words("a", "b", field="title"))),
        ("title:(a OR b)", Or(words("a", "b", field="title"))),
        ('product:"windows nt"', Text("windows nt", "product", "phrase")),
        ('title:"a b"', Text("a b", "title", "phrase")),
        ("id:Q315817", Text("Q315817", "id")),
        ("year:2001", Range("year", D(2001, 1, 1), D(2001, 12, 31))),
        ("year:1999..2001", Range("year", D(1999, 1, 1), D(2001, 12, 31))),
        ("year:[1999 TO 2001]", Range("year", D(1999, 1, 1), D(2001, 12, 31))),
        ("year:[1999 TO *]", Range("year", D(1999, 1, 1), None)),
        ("year:2001..", Range("year", D(2001, 1, 1), None)),
        ("year:..2001", Range("year", None, D(2001, 12, 31))),
        ("year:>=2000", Range("year", D(2000, 1, 1), None)),
        ("year:>2000", Range("year", D(2001, 1, 1), None)),
        ("year:<2000", Range("year", None, D(1999, 12, 31))),
        ("year:<=2000", Range("year", None, D(2000, 12, 31))),
        ("date:2001-05", Range("date", D(2001, 5, 1), D(2001, 5, 31))),
        ("date:2001-12", Range("date", D(2001, 12, 1), D(2001, 12, 31))),
        ("date:2000-02", Range("date", D(2000, 2, 1), D(2000, 2, 29))),
        ("date:2000-02-29", Range("date", D(2000, 2, 29), D(2000, 2, 29))),
        ("date:2001-01-01..2001-06-30", Range("date", D(2001, 1, 1), D(2001, 6, 30))),
        ("date:<2001-05", Range("date", None, D(2001, 4, 30))),
        (
            "leak -year:2001",
            Most((Text("leak"), Not(Range("year", D(2001, 1, 1), D(2001, 12, 31))))),
        ),
        ("leak*", Text("leak", None, "prefix")),
        ("title:leak*", Text("leak", "title", "prefix")),
        ("l*", Text("l*")),
        ("c:\\windows", Text("c:\\windows")),
        ("foo:bar", Text("foo:bar")),
    ],
)
def test_query_tree(query: str, root: Node) -> None:
    parsed = parse_query(query)
    assert parsed.root == root
    assert parsed.article_id is None
    assert parsed.text == query


@pytest.mark.parametrize(
    ("query", "article_id"),
    [
        ("Q315817", "Q315817"),
        ("315817", "Q315817"),
        ("q315817", "Q315817"),
        (" Q315817 ", "Q315817"),
        ("Q0315817", "Q315817"),
        ("1234567", "Q1234567"),
        ("12345678", "Q12345678"),
        ("123456789", None),
        ("Q1234", None),
        ("Q315817 leak", None),
        ("id:Q315817", None),
    ],
)
def test_a_bare_article_id_is_recognised(query: str, article_id: str | None) -> None:
    assert parse_query(query).article_id == article_id


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ('"abc', "unclosed quote", 1),
        ('a  "bc', "unclosed quote", 4),
        ("(a b", "unclosed '('", 1),
        ("leak (a (b c)", "unclosed '('", 6),
        ("memory leak)", "unmatched ')'", 12),
        (")", "expected a word", 1),
        ("()", "empty parentheses", 1),
        ("a ()", "empty parentheses", 3),
        ("", "the query is empty", None),
        ("   ", "the query is empty", None),
        ("-a", "besides exclusions", None),
        ("-a -b", "besides exclusions", None),
        ("NOT a", "besides exclusions", None),
        ("a NOT", "NOT must be followed", 3),
        ("year:abc", "year: expects a date like 2001", 1),
        ("year:2001-05", "year: expects a date", 1),
        ("year:20011", "year: expects a date", 1),
        ("leak year:abc", "year: expects a date", 6),
        ("date:2001-02-29", "'2001-02-29' is not a date", 1),
        ("leak date:2001-13", "'2001-13' is not a date", 6),
        ("year:2002..2001", "the range ends before it starts", 1),
        ("year:[2001 TO 1999]", "the range ends before it starts", 1),
        ("year:[1999 2001]", "write a range as [1999 TO 2001]", 1),
        ("OR a", "expected a word", 1),
        ("a OR", "OR must stand between two things", 3),
        ("a b OR", "OR must stand between two things", 5),
        ("a OR OR b", "OR must stand between two things", 3),
        ("(a OR) b", "OR must stand between two things", 4),
        ("-OR a", "'-' cannot apply to OR", 2),
        ("title:", "the query ends before saying what to look for", 6),
        ("leak title:", "the query ends before saying what to look for", 11),
        ("title: a", "must be followed by what to look for", 7),
        ("(" * 21 + "a" + ")" * 21, "too many nested parentheses", 21),
    ],
)
def test_malformed_queries_say_what_and_where(query: str, message: str, column: int | None) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert message in str(caught.value)
    assert caught.value.column == column
    if column is not None:
        assert str(caught.value).endswith(f"(at column {column})")
