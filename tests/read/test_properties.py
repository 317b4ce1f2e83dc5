"""Property-based tests: whatever the bytes, reading and parsing raise only kbsite's
documented errors, and no word of a KB-shaped article is lost on the way to the model."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbsite.errors import ArticleError, SourceError
from kbsite.model import Article
from kbsite.read.parse import parse_article
from kbsite.read.source import SourceText, normalise_text, read_source
from kbsite.read.syntax import ARTICLE_ID

WORD = re.compile(r"[A-Za-z0-9]+")
PROFILE = settings(
    max_examples=int(os.environ.get("KBSITE_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


DERIVED = frozenset({"source", "references", "anchor", "style"})
"""Model fields made by kbsite rather than taken from the text."""


def model_words(article: Article) -> collections.Counter[str]:
    """Every word of the article's text that the model holds."""
    counts: collections.Counter[str] = collections.Counter()

    def visit(value: Any) -> None:
        if isinstance(value, str):
            counts.update(WORD.findall(value))
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                if field.name not in DERIVED:
                    visit(getattr(value, field.name))
        elif not isinstance(value, int | datetime.date | type(None)):
            raise TypeError(type(value))

    visit(article)
    return counts


@PROFILE
@given(st.binary(max_size=3000))
def test_any_bytes_give_an_article_or_a_documented_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "Q100001.TXT")
        path.write_bytes(data)
        try:
            source = read_source(path)
        except SourceError as exc:
            assert exc.path == path and exc.line is not None
            return
    try:
        article, problems = parse_article(source)
    except ArticleError as exc:
        assert exc.path == path and exc.line is not None
        return
    assert ARTICLE_ID.fullmatch(article.id)
    assert all(p.path == path for p in problems)


@PROFILE
@given(st.text(max_size=2000))
def test_any_text_parses_or_is_not_an_article(text: str) -> None:
    try:
        article, _ = parse_article(SourceText(Path("Q100001.TXT"), normalise_text(text), "utf-8"))
    except ArticleError as exc:
        assert exc.line == 1
        return
    assert ARTICLE_ID.fullmatch(article.id)


# -- KB-shaped articles ----------------------------------------------------------------

words = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=10
)
vocabulary = st.sampled_from(
    ["Ledger", "server", "0x0000001E", "LEDGER.DLL", "C:\\LEDGER\\BIN", "Q310004", "3.1", "-",
     "http://example.com/a", "(see", "below)", "*", "1.", "a)", "NOTE:", "=", "|", "Setup"]
)  # fmt: skip
phrase = st.lists(st.one_of(words, vocabulary), min_size=1, max_size=12).map(" ".join)
indent = st.sampled_from(["", "", " ", "   ", "      ", "\t"])


@st.composite
def body_lines(draw: st.DrawFn) -> list[str]:
    """Headings, paragraphs, lists, code, rules and tables, in any order and indentation."""
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(
            st.sampled_from(["heading", "para", "bullets", "steps", "code", "rule", "blank"])
        )
        if kind == "heading":
            title = draw(phrase)
            lines += [title, draw(st.sampled_from("=-")) * len(title), ""]
        elif kind == "para":
            lines += [draw(indent) + draw(phrase) for _ in range(draw(st.integers(1, 4)))]
        elif kind == "bullets":
            marker = draw(st.sampled_from(["-", "*", "o", "\u2022"]))
            for _ in range(draw(st.integers(1, 4))):
                lines.append(f"{draw(indent)}{marker} {draw(phrase)}")
                if draw(st.booleans()):
                    lines.append(f"{draw(indent)}  {draw(phrase)}")
        elif kind == "steps":
            for n in range(1, draw(st.integers(2, 5))):
                lines.append(f"{draw(indent)}{n}. {draw(phrase)}")
        elif kind == "code":
            lines += ["   " + draw(phrase) + draw(st.sampled_from(["", ";", " {", "()"]))] * 2
        elif kind == "rule":
            lines.append(draw(st.sampled_from(["=" * 70, "-" * 70, "-" * 20])))
        lines.append("")
    return lines


@st.composite
def kb_articles(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A KB-shaped source text, and the words it holds that the model must keep."""
    number = draw(st.integers(10000, 9999999))
    day, year = draw(st.integers(1, 28)), draw(st.integers(1985, 2010))
    month = draw(st.sampled_from(["JAN", "FEB", "MAR", "APR", "MAY", "DEC"]))
    category = draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8))
    header = [f"DOCUMENT:Q{number}  {day:02d}-{month}-{year}  [{category}]"]
    kept = [f"Q{number}", f"{day:02d}", month, str(year), category]
    fields = draw(
        st.lists(
            st.sampled_from(["TITLE", "PRODUCT", "PROD/VER", "OPER/SYS", "KEYWORDS", "TITEL"]),
            unique=True,
        )
    )
    for name in fields:
        value = draw(phrase)
        header.append(f"{name:8}:{value}")
        found = WORD.findall(value)
        kept += list(dict.fromkeys(found)) if name == "KEYWORDS" else found  # a set of keywords
        if name == "TITEL":
            kept.append("TITEL")  # kept as a field name when TITLE is there too
    body = draw(body_lines())
    tail: list[str] = []
    if draw(st.booleans()):
        query = draw(phrase)
        tail += [f"Additional query words: {query}", ""]
        kept += WORD.findall(query)
    if draw(st.booleans()):
        keywords = draw(phrase)
        tail += ["=" * 70, f"Keywords          : {keywords}", "=" * 70]
        kept += ["Keywords", *WORD.findall(keywords)]
    for line in body:
        kept += WORD.findall(line)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join([*header, "", "=" * 70, "", *body, *tail]) + newline
    if "TITEL" in fields and "TITLE" not in fields:
        kept.remove("TITEL")  # read as the TITLE
    return text, kept


@PROFILE
@given(kb_articles())
def test_no_word_of_a_kb_article_is_lost(case: tuple[str, list[str]]) -> None:
    text, kept = case
    article, _ = parse_article(SourceText(Path("x.txt"), normalise_text(text), "utf-8"))
    missing = collections.Counter(kept) - model_words(article)
    assert not missing, f"lost {dict(missing)}"
