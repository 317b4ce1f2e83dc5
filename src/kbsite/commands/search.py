"""``kbsite search``: a query on a built site's whoosh index, its hits as lines or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kbsite.cli import fail, interruptible
from kbsite.output.publish import settle
from kbsite.search.query import QueryError
from kbsite.search.searcher import SearchResults, index_dir_for_site, search


def run_search(
    *, words: tuple[str, ...], site: Path | None, index_dir: Path | None, limit: int, as_json: bool
) -> None:
    with interruptible("nothing was changed"):
        if index_dir is None:
            site = site or Path("_site")
            settle(site)  # a publish a killed build left half-done, finished
            index_dir = index_dir_for_site(site)
        try:
            results = search(index_dir, " ".join(words), limit)
        except QueryError as exc:
            fail(exc, 2)
    if as_json:
        click.echo(
            json.dumps([hit.as_json() for hit in results.hits], ensure_ascii=False, indent=1)
        )
    else:
        _print_hits(results)
    if results.showing:
        click.echo(
            f"Showing results for: {results.showing} (search instead for: {results.instead})",
            err=as_json,
        )
    elif results.suggestion:
        click.echo(f"Did you mean: {results.suggestion}", err=as_json)


def _print_hits(results: SearchResults) -> None:
    total, shown = results.total, len(results.hits)
    if not total:
        click.echo(f"No articles match {results.query.text!r}.")
        return
    noun = "article matches" if total == 1 else "articles match"
    best = f"; the best {shown}:" if shown < total else ":"
    click.echo(f"{total:,} {noun} {results.query.text!r}{best}")
    for rank, hit in enumerate(results.hits, 1):
        click.echo("")
        click.echo(click.style(f"{rank:>2}. {hit.id}  {hit.title}", bold=True))
        details = (hit.date, hit.product, f"score {hit.score:.2f}")
        click.echo("    " + "  ".join(part for part in details if part))
        click.echo("    " + _marked(hit.snippet.text, hit.snippet.marks))


def _marked(text: str, marks: list[tuple[int, int]]) -> str:
    pieces: list[str] = []
    position = 0
    for start, end in marks:
        pieces.append(text[position:start])
        pieces.append(click.style(text[start:end], bold=True, underline=True))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
