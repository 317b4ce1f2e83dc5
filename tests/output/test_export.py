"""Exports: the model as JSON lines, and Markdown that other tools show as written."""

from __future__ import annotations

import collections
import io
import json
import re
from pathlib import Path

from click.testing import CliRunner
from markdown_it import MarkdownIt

from kbsite.cli import main
from kbsite.model import Article, Block, ListBlock
from kbsite.output.export import article_markdown, write_json_lines, write_markdown
from kbsite.read.parse import parse_article
from kbsite.read.source import read_source

from ..read.test_properties import model_words

CONTENT = Path(__file__).parents[2] / "content"
HOSTILE = Path(__file__).parents[1] / "fixtures" / "hostile" / "Q310001.TXT"
WORD = re.compile(r"[A-Za-z0-9]+")


def test_json_lines_hold_the_whole_model(content_articles: dict[str, Article]) -> None:
    out = io.StringIO()
    assert write_json_lines(content_articles.values(), out) == len(content_articles)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(content_articles)
    for line, article in zip(lines, content_articles.values(), strict=True):
        data = json.loads(line)
        assert data["format"] == 1 and data["id"] == article.id and data["title"] == article.title
        assert data["date"] == (article.date.isoformat() if article.date else None)
        words = collections.Counter(WORD.findall(" ".join(_strings(data))))
        assert not model_words(article) - words


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in ("type", "source") for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_markdown_keeps_every_word_and_links_references(
    content_articles: dict[str, Article], tmp_path: Path
) -> None:
    ids = set(content_articles)
    assert write_markdown(list(content_articles.values()), tmp_path) == len(content_articles)
    commonmark = MarkdownIt("commonmark")
    links = 0
    for article in content_articles.values():
        text = (tmp_path / f"{article.id}.md").read_text(encoding="utf-8")
        assert text.startswith("---\ntitle: ") and f'\nid: "{article.id}"\n' in text
        front, body = text.split("\n---\n", 1)
        html = commonmark.render(body)
        shown = front + re.sub(r"<[^>]+>", " ", html)
        expected = model_words(article) - _markers_and_dates(article)
        missing = expected - collections.Counter(WORD.findall(_unescape(shown)))
        assert not missing, (article.id, missing)
        for target in {r.target for r in article.references}:
            link = f'<a href="{target}.md">{target}</a>'
            if link in html:
                links += 1
                assert target in ids, (article.id, target)
    assert links > 20, "references to archived articles are links (but not inside code)"


def test_markdown_shows_markup_in_an_article_as_text() -> None:
    article, _ = parse_article(read_source(HOSTILE))
    html = MarkdownIt("commonmark").render(
        article_markdown(article, {article.id}).split("\n---\n", 1)[1]
    )
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert 'href="javascript' not in html
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in html
    assert "{{ config }}" in html


def _markers_and_dates(article: Article) -> collections.Counter[str]:
    """Words the Markdown holds in another form: list numbers are the list's, and the
    date is written ISO-style."""
    words = collections.Counter(WORD.findall(article.date_text))

    def visit(blocks: list[Block]) -> None:
        for block in blocks:
            if isinstance(block, ListBlock):
                for item in block.items:
                    words.update(WORD.findall(item.marker))
                    visit(item.blocks)

    for section in article.sections:
        visit(section.blocks)
    return words


def _unescape(html: str) -> str:
    return (
        html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


def test_kbsite_export_json_and_markdown(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "archive.jsonl"
    result = runner.invoke(main, ["export", "--format", "json", "-q", str(CONTENT), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Exported 35 articles to ")
    assert len(out.read_text(encoding="utf-8").splitlines()) == 35

    piped = runner.invoke(main, ["export", "--format", "json", "-q", str(CONTENT), "-o", "-"])
    assert piped.exit_code == 0
    assert [json.loads(line)["id"] for line in piped.stdout.splitlines()][:2] == [
        "Q90210",
        "Q91234",
    ]
    assert "Exported 35 articles" in piped.stderr

    folder = tmp_path / "md"
    result = runner.invoke(
        main, ["export", "--format", "markdown", "-q", str(CONTENT), "-o", str(folder)]
    )
    assert result.exit_code == 0, result.output
    assert len(list(folder.glob("Q*.md"))) == 35


def test_kbsite_export_reports_problems_like_build(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["export", "--format", "json", "-q", str(HOSTILE.parent), "-o", str(tmp_path / "x.jsonl")],
    )
    assert result.exit_code == 1
    assert "binary.TXT:1: error: binary file, not text" in result.stderr
