"""``kbsite new``: a skeleton article in the archive's format, never over an existing file."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from kbsite.cli import fail
from kbsite.errors import KbsiteError
from kbsite.read.skeleton import write_skeleton
from kbsite.read.syntax import ARTICLE_ID


def run_new(*, article_id: str, content: Path, title: str, product: str, category: str) -> None:
    normalised = "Q" + article_id.upper().removeprefix("Q")
    if not ARTICLE_ID.fullmatch(normalised):
        raise click.BadParameter(
            "an article id is Q and 5 to 8 digits, such as Q315817", param_hint="ID"
        )
    try:
        path = write_skeleton(
            content,
            normalised,
            datetime.date.today(),
            title=title,
            product=product,
            category=category,
        )
    except KbsiteError as exc:
        fail(exc, 1)
    click.echo(f"Wrote {path}; edit it, then run kbsite build.")
