"""The command line: one place turns kbsite's errors into a line and an exit status.

Exit status: 0 the site was written (warnings allowed), 1 errors (or any warning
with ``--strict``), 2 bad usage (click's own convention).

Each command imports its stage modules when it runs, so ``kbsite search`` starts
without loading the site builder (templates, Markdown, parser) it does not use.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kbsite import __version__
from kbsite.errors import KbsiteError

if TYPE_CHECKING:
    from kbsite.build import Advance, BuildReport
    from kbsite.search import SearchResults

MAX_PROBLEMS_SHOWN = 50
"""Past this many, problems are counted but not each printed, so a 57k build stays readable."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kbsite")
def main() -> None:
    """Turn a plaintext knowledge-base archive into a cross-linked static site."""


@main.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("_site"),
    show_default=True,
    help="Folder to write the site into.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: all cores].",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on any warning.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; only problems and the summary.")
@click.option(
    "--title", default="Knowledge Base Archive", show_default=True, help="The site's title."
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the search index [default: OUTPUT/../.kbsite-index].",
)
def build(
    sources: tuple[Path, ...],
    output: Path,
    jobs: int | None,
    strict: bool,
    quiet: bool,
    title: str,
    index_dir: Path | None,
) -> None:
    """Build the site and its search index from SOURCES (folders or files; default: content)."""
    from kbsite.build import BuildOptions, build_site, default_jobs

    options = BuildOptions(
        list(sources) or [Path("content")], output, jobs or default_jobs(), title, index_dir
    )
    try:
        report = build_site(options, None if quiet else _progress_bar)
    except KbsiteError as exc:
        click.echo(f"ERROR {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted; the previous site, if any, is unchanged.", err=True)
        sys.exit(130)
    _print_report(report, output)
    if report.errors or (strict and report.warnings):
        sys.exit(1)


def _print_report(report: BuildReport, output: Path) -> None:
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        click.echo(str(problem), err=True)
    if len(report.problems) > MAX_PROBLEMS_SHOWN:
        click.echo(f"... and {len(report.problems) - MAX_PROBLEMS_SHOWN} more problems", err=True)
    click.echo(
        f"Wrote {report.articles:,} articles ({report.pages:,} pages) to {output} "
        f"in {report.seconds:.1f} s: {report.errors:,} errors, {report.warnings:,} warnings, "
        f"{report.unresolved:,} unresolved references ({report.unresolved_mentions:,} mentions)."
    )
    if report.index is not None:
        index = report.index
        click.echo(
            f"Search index: {index.added:,} added, {index.changed:,} changed, "
            f"{index.removed:,} removed, {index.unchanged:,} unchanged in {index.seconds:.1f} s."
        )


EXPORT_FORMATS = ("zim",)
"""What ``kbsite export`` writes: one file for an offline reader instead of a site folder."""


@main.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "export_format",
    type=click.Choice(EXPORT_FORMATS),
    required=True,
    help="zim: one openZIM file for Kiwix, searchable offline.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="File to write [default: kbsite.zim].",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: all cores].",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on any warning.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; only problems and the summary.")
@click.option(
    "--title",
    default="Knowledge Base Archive",
    show_default=True,
    help="The title of the archive and of its pages (at most 30 characters).",
)
@click.option(
    "--name", default="", help="A stable id across versions [default: TITLE_en_all, slugified]."
)
@click.option(
    "--description",
    default="",
    help="One line, at most 80 characters [default: the article count].",
)
@click.option("--creator", default="Unknown", show_default=True, help="Who wrote the articles.")
@click.option("--publisher", default="kbsite", show_default=True, help="Who made the file.")
def export(
    sources: tuple[Path, ...],
    export_format: str,
    output: Path | None,
    jobs: int | None,
    strict: bool,
    quiet: bool,
    title: str,
    name: str,
    description: str,
    creator: str,
    publisher: str,
) -> None:
    """Export the archive in SOURCES (folders or files; default: content) as one file."""
    from kbsite.build import default_jobs

    try:
        from kbsite.zim import ZimMetadata, ZimOptions, export_zim
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "libzim":
            raise
        click.echo("ERROR writing ZIM files needs libzim: pip install 'kbsite[zim]'", err=True)
        sys.exit(1)
    metadata = ZimMetadata(title, name, description, creator, publisher)
    for problem in metadata.problems():
        raise click.UsageError(problem)
    output = output or Path(f"kbsite.{export_format}")
    sources_or_default = list(sources) or [Path("content")]
    options = ZimOptions(sources_or_default, output, jobs or default_jobs(), metadata)
    try:
        report = export_zim(options, None if quiet else _progress_bar)
    except KbsiteError as exc:
        click.echo(f"ERROR {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted; the previous file, if any, is unchanged.", err=True)
        sys.exit(130)
    _print_report(report, output)
    if report.errors or (strict and report.warnings):
        sys.exit(1)


@main.command("search")
@click.argument("words", nargs=-1, required=True)
@click.option(
    "--site",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="A built site; its index is found from it [default: _site].",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The index folder itself.",
)
@click.option("-n", "--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of hits.")
def search_command(
    words: tuple[str, ...], site: Path | None, index_dir: Path | None, limit: int, as_json: bool
) -> None:
    """Search the archive: words (all must match), "a phrase", OR, -word, title:, product:,
    category:, keyword:, type:, year:2001 or year:1999..2001, date:2001-05, leak*, Q315817.
    """
    from kbsite.query import QueryError
    from kbsite.search import index_dir_for_site, search

    if index_dir is None:
        index_dir = index_dir_for_site(site or Path("_site"))
    try:
        results = search(index_dir, " ".join(words), limit)
    except KbsiteError as exc:
        click.echo(f"ERROR {exc}", err=True)
        sys.exit(2 if isinstance(exc, QueryError) else 1)
    if as_json:
        click.echo(
            json.dumps([hit.as_json() for hit in results.hits], ensure_ascii=False, indent=1)
        )
    else:
        _print_hits(results)
    if results.suggestion:
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


@contextmanager
def _progress_bar(label: str, total: int) -> Iterator[Advance]:
    with click.progressbar(
        length=total, label=f"{label:8}", file=sys.stderr, show_pos=True, width=30
    ) as bar:
        yield bar.update
