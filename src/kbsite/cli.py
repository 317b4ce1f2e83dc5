"""The command line: the commands and their options, and the one place that turns kbsite's
errors and problems into lines and an exit status.

Exit status: 0 the site was written (warnings allowed), 1 errors (or any warning
with ``--strict``), 2 bad usage (click's own convention).

Each command's body is a plain function in its module of ``kbsite.commands``, imported
when the command runs, so ``kbsite search`` starts without loading the site builder
(templates, Markdown, parser) it does not use.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

import click

from kbsite import __version__
from kbsite.errors import INTERRUPTS, KbsiteError

if TYPE_CHECKING:
    from kbsite.config import Config
    from kbsite.report import Advance, BuildReport

MAX_PROBLEMS_SHOWN = 50
"""Past this many, problems are counted but not each printed, so a 57k build stays readable."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kbsite")
def main() -> None:
    """Turn a plaintext knowledge-base archive into a cross-linked static site."""


JOBS_OPTION = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: all cores].",
)
STRICT_OPTION = click.option("--strict", is_flag=True, help="Fail (exit 1) on any warning.")
QUIET_OPTION = click.option(
    "-q", "--quiet", is_flag=True, help="No progress bar; only problems and the summary."
)
INDEX_OPTION = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the search index [default: the site's own, in its build cache "
    "folder .OUTPUT.kbsite-cache].",
)
CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Settings file [default: kbsite.toml in the current folder, if there is one].",
)


@main.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder to write the site into [default: _site].",
)
@JOBS_OPTION
@STRICT_OPTION
@QUIET_OPTION
@click.option("--title", default=None, help="The site's title [default: Knowledge Base Archive].")
@click.option(
    "--base-url",
    default=None,
    help="The address the site is published at, for the sitemap and the feed.",
)
@INDEX_OPTION
@CONFIG_OPTION
@click.option(
    "--full",
    is_flag=True,
    help="Read every file and write every page, ignoring what the last build recorded.",
)
def build(**params: Any) -> None:
    """Build the site and its search index from SOURCES (folders or files; default: content).

    Settings come from kbsite.toml (see --config); options given here override them.
    A rebuild reads only the files changed since the last build and writes only the
    pages whose content changes (see --full).
    """
    from kbsite.commands.build import run_build

    run_build(**params)


@main.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@JOBS_OPTION
@STRICT_OPTION
@QUIET_OPTION
@CONFIG_OPTION
def check(**params: Any) -> None:
    """Check SOURCES (folders or files; default: content) without writing anything.

    Prints every problem as ``path:line: level: message`` and a summary; exit 1 on
    errors (or on warnings with --strict).
    """
    from kbsite.commands.check import run_check

    run_check(**params)


@main.command()
@click.argument("article_id", metavar="ID")
@click.option(
    "--content",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("content"),
    show_default=True,
    help="The source folder; the article goes in its NNN/ sub-folder.",
)
@click.option("--title", default="Title of the article", help="The TITLE line.")
@click.option("--product", default="Product name", help="The PRODUCT line.")
@click.option("--category", default="category", help="The [category] tag.")
def new(**params: Any) -> None:
    """Write a new article skeleton with id ID (Q315817 or 315817) into the content folder."""
    from kbsite.commands.new import run_new

    run_new(**params)


@main.command()
@click.argument("output", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1; 0 picks a free one.",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Build first if needed, rebuild when the sources or the theme change, "
    "and reload open pages.",
)
@click.option(
    "-s",
    "--source",
    "sources",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A folder or file to build from and watch (repeatable) [default: content].",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for builds [default: all cores].",
)
@INDEX_OPTION
@CONFIG_OPTION
def serve(**params: Any) -> None:
    """Preview the site in OUTPUT (default: _site) at http://127.0.0.1:8000/.

    Ctrl-C stops it: one line, exit status 0.
    """
    from kbsite.commands.serve import run_serve

    run_serve(**params)


EXPORT_FORMATS = ("zim", "json", "markdown")
"""What ``kbsite export`` writes instead of a site: one ZIM file for offline readers, the
model as JSON lines for other tools, or Markdown files for other site generators."""
DEFAULT_EXPORT = {"zim": "kbsite.zim", "json": "kbsite.jsonl", "markdown": "kbsite-markdown"}


@main.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "export_format",
    type=click.Choice(EXPORT_FORMATS),
    required=True,
    help="zim: one openZIM file for Kiwix, searchable offline; json: one article per line "
    "(the parsed model); markdown: a folder of Q123456.md files with front matter.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="File (zim, json; '-' for standard output) or folder (markdown) to write "
    "[default: kbsite.zim, kbsite.jsonl, kbsite-markdown].",
)
@JOBS_OPTION
@STRICT_OPTION
@QUIET_OPTION
@click.option(
    "--title",
    default=None,
    help="The title of the archive and of its pages (at most 30 characters) "
    "[default: the settings' title].",
)
@click.option(
    "--name", default=None, help="A stable id across versions [default: TITLE_en_all, slugified]."
)
@click.option(
    "--description",
    default=None,
    help="One line, at most 80 characters [default: the settings' or the article count].",
)
@click.option("--creator", default=None, help="Who wrote the articles [default: Unknown].")
@click.option("--publisher", default=None, help="Who made the file [default: kbsite].")
@CONFIG_OPTION
def export(**params: Any) -> None:
    """Export the archive in SOURCES (folders or files; default: content) for other tools."""
    from kbsite.commands.export import run_export

    run_export(**params)


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
def search_command(**params: Any) -> None:
    """Search the archive: words (all must match), "a phrase", OR, -word, title:, product:,
    category:, keyword:, type:, year:2001 or year:1999..2001, date:2001-05, leak*, Q315817.
    """
    from kbsite.commands.search import run_search

    run_search(**params)


# -- what every command shares ------------------------------------------------------


def fail(error: object, status: int) -> NoReturn:
    """End the command with one line, ``ERROR`` and what went wrong, and ``status``."""
    click.echo(f"ERROR {error}", err=True)
    sys.exit(status)


def exit_if_failed(report: BuildReport, strict: bool) -> None:
    """Exit status 1 on errors, or on warnings with ``--strict``; else carry on to 0."""
    if report.errors or (strict and report.warnings):
        sys.exit(1)


def settings_from(config_file: Path | None, **overrides: Any) -> Config:
    """kbsite.toml (or ``--config``) with the options given on the command line on top.

    A mistake in the file ends the command with one line, exit status 2 (bad usage).
    """
    from kbsite.config import find_config, load_config, parse_config

    try:
        settings = load_config(config_file or find_config(Path.cwd()))
        given: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        if "base_url" in given:  # checked like the file's value
            given["base_url"] = parse_config(
                {"base_url": given["base_url"]}, Path("--base-url")
            ).base_url
    except KbsiteError as exc:
        fail(exc, 2)
    return dataclasses.replace(settings, **given)


@contextmanager
def interruptible(unchanged: str) -> Iterator[None]:
    """Ctrl-C or SIGTERM end the command with one line and 128 + the signal's number.

    Only this process raises: the worker processes it forks inherit the handler and
    leave the stopping to it (SIGINT is ignored there, SIGTERM kills as usual), so
    an interrupt prints one line, not a traceback per worker.
    """
    parent = os.getpid()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if os.getpid() == parent:
            raise Interrupted(signum)
        if signum == signal.SIGTERM:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    previous = {s: signal.signal(s, interrupt) for s in INTERRUPTS}
    try:
        yield
    except KbsiteError as exc:
        fail(exc, 1)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        click.echo(f"Interrupted ({signal.Signals(signum).name}); {unchanged}.", err=True)
        sys.exit(128 + signum)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM, raised in the main process so every ``finally`` cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def print_problems(report: BuildReport, limit: int | None) -> None:
    shown = report.problems if limit is None else report.problems[:limit]
    for problem in shown:
        click.echo(str(problem), err=True)
    if len(shown) < len(report.problems):
        click.echo(
            f"... and {len(report.problems) - len(shown):,} more problems "
            "(kbsite check lists them all)",
            err=True,
        )


def print_notes(report: BuildReport) -> None:
    """What is worth saying about a build that is not a problem of the archive."""
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)


def print_summary(report: BuildReport, output: Path) -> None:
    print_notes(report)
    if report.incremental:
        done = (
            f"Updated {output} in {report.seconds:.1f} s: {report.parsed:,} of "
            f"{report.sources:,} files read ({report.articles:,} articles), {report.written:,} "
            f"of {report.pages:,} pages rewritten, {report.removed:,} removed"
        )
    else:
        done = (
            f"Wrote {report.articles:,} articles ({report.pages:,} pages) to {output} "
            f"in {report.seconds:.1f} s"
        )
    click.echo(
        f"{done}: {report.errors:,} errors, {report.warnings:,} warnings, "
        f"{report.unresolved:,} unresolved references ({report.unresolved_mentions:,} mentions)."
    )
    if report.index is not None:
        index = report.index
        click.echo(
            f"Search index: {index.added:,} added, {index.changed:,} changed, "
            f"{index.removed:,} removed, {index.unchanged:,} unchanged in {index.seconds:.1f} s."
        )


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Advance]:
    with click.progressbar(
        length=total, label=f"{label:8}", file=sys.stderr, show_pos=True, width=30
    ) as bar:
        yield bar.update
