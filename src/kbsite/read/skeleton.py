"""A new article, in the archive's own format, for ``kbsite new``.

The skeleton is what the parser reads best: every header field, the applies-to block,
the usual sections and the trailing keywords block, CRLF line endings like the archive.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from kbsite.errors import OutputError
from kbsite.read.syntax import ARTICLE_ID

RULE = "=" * 70
DASHES = "-" * 79


def skeleton_text(
    article_id: str,
    date: datetime.date,
    title: str = "Title of the article",
    product: str = "Product name",
    category: str = "category",
) -> str:
    """The text of a new article; ``article_id`` must already be valid."""
    stamp = date.strftime("%d-%b-%Y").upper()
    lines = [
        f"DOCUMENT:{article_id}  {stamp}  [{category}]",
        f"TITLE   :{title}",
        f"PRODUCT :{product}",
        "PROD/VER::1.0",
        "OPER/SYS:",
        "KEYWORDS:kbinfo",
        "",
        RULE,
        DASHES,
        "The information in this article applies to:",
        "",
        f" - {product}, version 1.0",
        DASHES,
        "",
        "SUMMARY",
        "=======",
        "",
        "What the article is about, in a few sentences.",
        "",
        "MORE INFORMATION",
        "================",
        "",
        "The details. Refer to other articles by number, such as Q123456.",
        "",
        "Additional query words:",
        "",
        RULE,
        "Keywords          : kbinfo",
        RULE,
    ]
    return "\r\n".join(lines) + "\r\n"


def article_path(content: Path, article_id: str) -> Path:
    """Where an article goes in a content folder: ``content/315/Q315817.TXT``."""
    return content / article_id[1:4] / f"{article_id}.TXT"


def write_skeleton(content: Path, article_id: str, date: datetime.date, **fields: str) -> Path:
    """Write a new article file; never replaces one that exists."""
    if not ARTICLE_ID.fullmatch(article_id):
        raise OutputError(f"not an article id: {article_id!r} (Q and 5 to 8 digits)")
    path = article_path(content, article_id)
    existing = (
        [p for p in content.rglob("*") if p.stem.upper() == article_id] if content.is_dir() else []
    )
    if existing:
        raise OutputError(f"article {article_id} already exists", existing[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="") as file:
            file.write(skeleton_text(article_id, date, **fields))
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", path) from exc
    return path
