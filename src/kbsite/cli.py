"""The command line: one place turns kbsite's errors into a line and an exit status.

Exit status: 0 the site was written (warnings allowed), 1 errors (or any warning
with ``--strict``), 2 bad usage (click's own convention).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from kbsite import __version__
from kbsite.build import Advance, BuildOptions, BuildReport, build_site, default_jobs
from kbsite.errors import KbsiteError

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
def build(
    sources: tuple[Path, ...], output: Path, jobs: int | None, strict: bool, quiet: bool, title: str
) -> None:
    """Build the site from SOURCES (folders or files; default: content)."""
    options = BuildOptions(
        list(sources) or [Path("content")], output, jobs or default_jobs(), title
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


@contextmanager
def _progress_bar(label: str, total: int) -> Iterator[Advance]:
    with click.progressbar(
        length=total, label=f"{label:8}", file=sys.stderr, show_pos=True, width=30
    ) as bar:
        yield bar.update
