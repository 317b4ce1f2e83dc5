"""The markdown-it plugin: references, URLs, and article text that looks like markup."""

from __future__ import annotations

from typing import Any

import pytest

from kbsite.read.syntax import find_references, trim_url
from kbsite.render.markup import has_link_candidate, new_markdown

KNOWN = {"Q100001", "Q315817"}


def render(text: str) -> tuple[str, list[Any]]:
    md = new_markdown()
    env: dict[str, Any] = {
        "article_href": lambda i: f"{i}.html" if i in KNOWN else None,
        "links": [],
    }
    return md.renderInline(text, env), env["links"]


def test_known_reference_is_a_relative_link() -> None:
    html, links = render("See Q315817 for details.")
    assert html == 'See <a class="ref" href="Q315817.html">Q315817</a> for details.'
    assert links == [("article", "Q315817", "Q315817.html")]


def test_unknown_reference_is_marked_not_linked() -> None:
    html, _ = render("See Q999999.")
    assert html == 'See <span class="ref-missing" title="Not in this archive">Q999999</span>.'


@pytest.mark.parametrize("text", ["XQ315817", "Q315817X", "Q1234", "Q123456789", "_Q315817"])
def test_reference_must_stand_alone(text: str) -> None:
    html, links = render(text)
    assert links == []
    assert html == text


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("go to http://example.com/a?b=1&c=2.", "http://example.com/a?b=1&amp;c=2"),
        ("(see https://example.com/x_(y))", "https://example.com/x_(y)"),
        ("ftp://ftp.example.com/pub/file.exe,", "ftp://ftp.example.com/pub/file.exe"),
        ("mail mailto:help@example.com now", "mailto:help@example.com"),
    ],
)
def test_urls_become_links_without_trailing_punctuation(text: str, url: str) -> None:
    html, _ = render(text)
    assert f'href="{url}"' in html


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "data:text/html,<b>",
        "http://",
    ],
)
def test_other_schemes_are_never_links(text: str) -> None:
    html, links = render(text)
    assert "<a" not in html
    assert links == []


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*stars* and _under_", "*stars* and _under_"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("{{ x }} {% if %}", "{{ x }} {% if %}"),
        ("[link](http://evil)", "[link](<a"),
        ("&amp; &#65; \\*", "&amp;amp; &amp;#65; \\*"),
        ('<img src=x onerror="alert(1)">', "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"),
    ],
)
def test_markup_in_articles_stays_literal(text: str, html: str) -> None:
    rendered, _ = render(text)
    assert rendered.startswith(html)


def test_find_references_and_trim_url() -> None:
    assert find_references("Q100001, Q200002; not AQ300003 or Q4") == ["Q100001", "Q200002"]
    assert trim_url("http://example.com/a).") == "http://example.com/a"


@pytest.mark.parametrize(
    ("text", "candidate"),
    [
        ("", False),
        ("plain text, with: a colon", False),
        ("a request for query words", False),
        ("javascript:alert(1)", False),
        ("See Q315817.", True),
        ("q12345", True),
        ("HTTPS://example.com", True),
        ("MailTo:help@example.com", True),
        ("MAILTO:help@example.com", True),
        ("ma\u0131lto:help@example.com", True),
        ("http\u017f://example.com", True),
    ],
)
def test_text_without_a_link_candidate_parses_to_one_text_token(text: str, candidate: bool) -> None:
    """The renderer skips the parser for such text, trusting it to make one text token."""
    assert has_link_candidate(text) is candidate
    if not candidate:
        children = new_markdown().parseInline(text, {"links": []})[0].children or []
        assert [(t.type, t.content) for t in children] == ([("text", text)] if text else [])
