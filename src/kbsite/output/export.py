"""Stage 6, other ways: the parsed archive for other tools instead of a site.

- JSON lines: one article per line, the model as it is (``model_as_data``), for scripts
  and other tools; every block says its type.
- Markdown: one ``Q123456.md`` per article with YAML front matter, for moving an archive
  to Hugo, Jekyll or MkDocs. Article text is escaped so that the other tool shows it as
  written, references become relative links to the other articles' files.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from kbsite import __version__
from kbsite.errors import OutputError
from kbsite.model import (
    AppliesTo,
    Article,
    Block,
    Heading,
    ListBlock,
    Paragraph,
    Preformatted,
    Rule,
)
from kbsite.read.syntax import REFERENCE

JSON_FORMAT = 1
"""Bumped when the shape of an exported article changes."""


def model_as_data(value: Any) -> Any:
    """A model object as plain JSON data: like ``dataclasses.asdict``, but every block
    names its type (a Heading and a Preformatted both hold only ``text`` and ``line``)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: model_as_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": type(value).__name__, **data} if "line" in data else data
    if isinstance(value, list):
        return [model_as_data(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def write_json_lines(articles: Iterable[Article], out: IO[str]) -> int:
    """One JSON object per article and line; returns how many were written."""
    count = 0
    for article in articles:
        data = {"format": JSON_FORMAT, **model_as_data(article)}
        out.write(json.dumps(data, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_markdown(articles: list[Article], folder: Path) -> int:
    """One Markdown file per article in ``folder``; returns how many were written."""
    ids = {article.id for article in articles}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for article in articles:
            (folder / f"{article.id}.md").write_text(article_markdown(article, ids), "utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write Markdown: {exc.strerror or exc}", folder) from exc
    return len(articles)


def article_markdown(article: Article, ids: set[str]) -> str:
    """An article as Markdown with front matter; ``ids`` are the articles that exist."""
    parts = [front_matter(article), f"# {_inline(article.title, ids)}\n"]
    if article.applies_to:
        parts.append(_inline(article.applies_to_intro or "Applies to:", ids) + "\n")
        parts.append(_applies_to(article.applies_to, ids, 0))
    for section in article.sections:
        if section.title:
            parts.append(f"{'#' * (section.level + 1)} {_inline(section.title, ids)}\n")
        parts.extend(_block(block, ids, "") for block in section.blocks)
    if article.query_words:
        parts.append(f"Additional query words: {_inline(article.query_words, ids)}\n")
    if article.footer:
        parts.append(
            "".join(f"- {_inline(f.name, ids)}: {_inline(f.value, ids)}\n" for f in article.footer)
        )
    parts.extend(_inline(text, ids) + "\n" for text in article.legal)
    return "\n".join(p for p in parts if p)


def front_matter(article: Article) -> str:
    """YAML front matter; every value a JSON string or list, which YAML reads as is."""
    fields: dict[str, Any] = {
        "title": article.title,
        "id": article.id,
        "date": article.date.isoformat() if article.date else None,
        "category": article.category or None,
        "product": article.product or None,
        "platform": article.platform or None,
        "versions": article.versions or None,
        "operating_system": article.operating_system or None,
        "type": article.title_prefix,
        "keywords": article.keywords or None,
        "generator": f"kbsite {__version__}",
    }
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()
             if value is not None]  # fmt: skip
    return "---\n" + "\n".join(lines) + "\n---\n"


def _applies_to(items: list[AppliesTo], ids: set[str], depth: int) -> str:
    lines = []
    for item in items:
        lines.append(f"{'  ' * depth}- {_inline(item.text, ids)}\n")
        if item.items:
            lines.append(_applies_to(item.items, ids, depth + 1))
    return "".join(lines)


def _block(block: Block, ids: set[str], indent: str) -> str:
    if isinstance(block, Paragraph):
        if block.reflow:
            return indent + _inline(" ".join(line.strip() for line in block.lines), ids) + "\n"
        return (
            "".join(f"{indent}{_inline(line.strip(), ids)}\\\n" for line in block.lines)[:-2] + "\n"
        )
    if isinstance(block, Preformatted):
        fence = "`" * max(3, _longest_run(block.text, "`") + 1)
        body = "".join(f"{indent}{line}\n" for line in block.text.split("\n"))
        return f"{indent}{fence}\n{body}{indent}{fence}\n"
    if isinstance(block, ListBlock):
        items = []
        for n, item in enumerate(block.items, block.start):
            marker = f"{n}." if block.ordered else "-"
            inner = indent + " " * (len(marker) + 1)
            content = "\n".join(_block(b, ids, inner) for b in item.blocks).lstrip() or "\n"
            items.append(f"{indent}{marker} {content}")
        return "".join(items)
    if isinstance(block, Heading):
        return f"{indent}#### {_inline(block.text, ids)}\n"
    if isinstance(block, Rule):
        return f"{indent}---\n"
    raise TypeError(type(block))


_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~!{}&])")


def _inline(text: str, ids: set[str]) -> str:
    """Text escaped for Markdown, its references to archived articles made links."""
    pieces = []
    position = 0
    for match in REFERENCE.finditer(text):
        pieces.append(_escape(text[position : match.start()]))
        target = "Q" + match.group(1)
        pieces.append(f"[{target}]({target}.md)" if target in ids else target)
        position = match.end()
    pieces.append(_escape(text[position:]))
    return "".join(pieces)


def _escape(text: str) -> str:
    escaped = _SPECIAL.sub(r"\\\1", text)
    return re.sub(r"^(\s*)([-+=]|\d+[.)])(?=\s|$)", r"\1\\\2", escaped)


def _longest_run(text: str, char: str) -> int:
    return max((len(run) for run in re.findall(f"{re.escape(char)}+", text)), default=0)
