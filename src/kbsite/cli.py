"""The command line: one place turns kbsite's errors into a line and an exit status.

Exit status: 0 the site was written (warnings allowed), 1 errors (or any warning
with ``--strict``), 2 bad usage (click's own convention).

Each command imports its stage modules when it runs, so ``kbsite search`` starts
without loading the site builder (templates, Markdown, parser) it does not use.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from kbsite import __version__
from kbsite.errors import INTERRUPTS, KbsiteError, OutputError

if TYPE_CHECKING:
    from kbsite.commands.serve import Rebuild
    from kbsite.config import Config
    from kbsite.report import Advance, BuildReport
    from kbsite.search.searcher import SearchResults

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
    help="Folder for the search index [default: OUTPUT/../.kbsite-index].",
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
def build(
    sources: tuple[Path, ...],
    output: Path | None,
    jobs: int | None,
    strict: bool,
    quiet: bool,
    title: str | None,
    base_url: str | None,
    index_dir: Path | None,
    config_file: Path | None,
    full: bool,
) -> None:
    """Build the site and its search index from SOURCES (folders or files; default: content).

    Settings come from kbsite.toml (see --config); options given here override them.
    A rebuild reads only the files changed since the last build and writes only the
    pages whose content changes (see --full).
    """
    from kbsite.build import BuildOptions, build_site
    from kbsite.parallel import default_jobs

    settings = _settings(config_file, title=title, base_url=base_url, output=output)
    options = BuildOptions(
        list(sources) or list(settings.sources),
        settings.output,
        jobs or default_jobs(),
        index_dir,
        settings,
        full=full,
    )
    with _interruptible("the previous site, if any, is unchanged"):
        report = build_site(options, None if quiet else _progress_bar)
    _print_problems(report, MAX_PROBLEMS_SHOWN)
    _print_summary(report, settings.output)
    if report.errors or (strict and report.warnings):
        sys.exit(1)


@main.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@JOBS_OPTION
@STRICT_OPTION
@QUIET_OPTION
@CONFIG_OPTION
def check(
    sources: tuple[Path, ...], jobs: int | None, strict: bool, quiet: bool, config_file: Path | None
) -> None:
    """Check SOURCES (folders or files; default: content) without writing anything.

    Prints every problem as ``path:line: level: message`` and a summary; exit 1 on
    errors (or on warnings with --strict).
    """
    from kbsite.build import check_sources
    from kbsite.parallel import default_jobs
    from kbsite.report import BuildReport

    report = BuildReport()
    settings = _settings(config_file)
    with _interruptible("nothing was written"):
        check_sources(
            list(sources) or list(settings.sources),
            jobs or default_jobs(),
            report,
            None if quiet else _progress_bar,
        )
    _print_problems(report, None)
    click.echo(
        f"Checked {report.articles:,} articles: {report.errors:,} errors, "
        f"{report.warnings:,} warnings, {report.unresolved:,} unresolved references "
        f"({report.unresolved_mentions:,} mentions)."
    )
    if report.errors or (strict and report.warnings):
        sys.exit(1)


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
def new(article_id: str, content: Path, title: str, product: str, category: str) -> None:
    """Write a new article skeleton with id ID (Q315817 or 315817) into the content folder."""
    import datetime

    from kbsite.read.skeleton import write_skeleton
    from kbsite.read.syntax import ARTICLE_ID

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
        click.echo(f"ERROR {exc}", err=True)
        sys.exit(1)
    click.echo(f"Wrote {path}; edit it, then run kbsite build.")


def _settings(config_file: Path | None, **overrides: Any) -> Config:
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
        click.echo(f"ERROR {exc}", err=True)
        sys.exit(2)
    return dataclasses.replace(settings, **given)


@contextmanager
def _interruptible(unchanged: str) -> Iterator[None]:
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
        click.echo(f"ERROR {exc}", err=True)
        sys.exit(1)
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


def _print_problems(report: BuildReport, limit: int | None) -> None:
    shown = report.problems if limit is None else report.problems[:limit]
    for problem in shown:
        click.echo(str(problem), err=True)
    if len(shown) < len(report.problems):
        click.echo(
            f"... and {len(report.problems) - len(shown):,} more problems "
            "(kbsite check lists them all)",
            err=True,
        )


def _print_summary(report: BuildReport, output: Path) -> None:
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)
    if report.incremental:
        done = (
            f"Updated {output} in {report.seconds:.1f} s: {report.parsed:,} of "
            f"{report.articles:,} articles read, {report.written:,} of {report.pages:,} pages "
            f"rewritten, {report.removed:,} removed"
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
def serve(
    output: Path | None,
    port: int,
    watch: bool,
    sources: tuple[Path, ...],
    jobs: int | None,
    index_dir: Path | None,
    config_file: Path | None,
) -> None:
    """Preview the site in OUTPUT (default: _site) at http://127.0.0.1:8000/.

    Ctrl-C stops it: one line, exit status 0.
    """
    from kbsite.build import BuildOptions, build_site
    from kbsite.commands.serve import is_site, serve_site
    from kbsite.errors import ServeError
    from kbsite.parallel import default_jobs

    settings = _settings(config_file, output=output)
    site = settings.output
    options = BuildOptions(
        list(sources) or list(settings.sources),
        site,
        jobs or default_jobs(),
        index_dir,
        settings,
    )
    with _interruptible("the site is as the last build left it"):
        if not is_site(site):
            if not watch:
                raise ServeError(
                    "not a site built by kbsite; run kbsite build first, or add --watch", site
                )
            report = build_site(options, _progress_bar)
            _print_problems(report, MAX_PROBLEMS_SHOWN)
            _print_summary(report, site)
        try:
            serve_site(site, port, options if watch else None, _serving, _print_rebuild)
        except KeyboardInterrupt:
            click.echo("Stopped serving.", err=True)


def _serving(url: str, watched: list[Path]) -> None:
    click.echo(f"Serving at {url} (Ctrl-C to stop)")
    if watched:
        click.echo(f"Watching {', '.join(str(p) for p in watched)} for changes.")


def _print_rebuild(rebuild: Rebuild) -> None:
    noun = "change" if rebuild.changes == 1 else "changes"
    report = rebuild.report
    if report is None:
        click.echo(f"ERROR {rebuild.error}", err=True)
        click.echo(f"Rebuild failed after {rebuild.changes} {noun}; serving the previous site.")
        return
    _print_problems(report, MAX_PROBLEMS_SHOWN)
    index = report.index
    indexed = (
        f"; search index {index.added} added, {index.changed} changed, {index.removed} removed"
        if index is not None
        else ""
    )
    click.echo(
        f"Rebuilt {report.articles:,} articles ({report.pages:,} pages) after "
        f"{rebuild.changes} {noun} in {report.seconds:.1f} s: {report.errors:,} errors, "
        f"{report.warnings:,} warnings{indexed}."
    )


EXPORT_FORMATS = ("zim", "json", "markdown")
"""What ``kbsite export`` writes instead of a site: one ZIM file for offline readers, the
model as JSON lines for other tools, or Markdown files for other site generators."""
DEFAULT_EXPORT = {"zim": "kbsite.output.zim", "json": "kbsite.jsonl", "markdown": "kbsite-markdown"}


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
    "[default: kbsite.output.zim, kbsite.jsonl, kbsite-markdown].",
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
def export(
    sources: tuple[Path, ...],
    export_format: str,
    output: Path | None,
    jobs: int | None,
    strict: bool,
    quiet: bool,
    title: str | None,
    name: str | None,
    description: str | None,
    creator: str | None,
    publisher: str | None,
    config_file: Path | None,
) -> None:
    """Export the archive in SOURCES (folders or files; default: content) for other tools."""
    from kbsite.config import Config
    from kbsite.parallel import default_jobs

    output = output or Path(DEFAULT_EXPORT[export_format])
    settings = _settings(config_file)
    sources_or_default = list(sources) or list(settings.sources)
    if export_format != "zim":
        _export_model(
            export_format, sources_or_default, output, jobs or default_jobs(), quiet, strict
        )
        return
    try:
        from kbsite.output.zim import ZimMetadata, ZimOptions, export_zim
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in ("libzim", "zstandard"):
            raise
        click.echo(f"ERROR writing ZIM files needs {missing}: pip install 'kbsite[zim]'", err=True)
        sys.exit(1)
    own_description = settings.description if settings.description != Config().description else ""
    metadata = ZimMetadata(
        title or settings.title,
        name if name is not None else settings.zim.name,
        description if description is not None else own_description,
        creator or settings.zim.creator,
        publisher or settings.zim.publisher,
        tags=(*settings.zim.tags, "_pictures:no", "_videos:no"),
    )
    for problem in metadata.problems():
        raise click.UsageError(problem)
    options = ZimOptions(sources_or_default, output, jobs or default_jobs(), metadata, settings)
    with _interruptible("the previous file, if any, is unchanged"):
        report = export_zim(options, None if quiet else _progress_bar)
    _print_problems(report, MAX_PROBLEMS_SHOWN)
    _print_summary(report, output)
    if report.errors or (strict and report.warnings):
        sys.exit(1)


def _export_model(
    export_format: str, sources: list[Path], output: Path, jobs: int, quiet: bool, strict: bool
) -> None:
    from kbsite.build import check_sources
    from kbsite.output.export import write_json_lines, write_markdown
    from kbsite.report import BuildReport

    report = BuildReport()
    with _interruptible("the export may be incomplete"):
        articles, _ = check_sources(sources, jobs, report, None if quiet else _progress_bar)
        if export_format == "markdown":
            write_markdown(articles, output)
        elif output == Path("-"):
            write_json_lines(articles, click.get_text_stream("stdout"))
        else:
            try:
                with output.open("w", encoding="utf-8") as out:
                    write_json_lines(articles, out)
            except OSError as exc:
                raise OutputError(f"cannot write: {exc.strerror or exc}", output) from exc
    _print_problems(report, MAX_PROBLEMS_SHOWN)
    click.echo(
        f"Exported {report.articles:,} articles to {output}: {report.errors:,} errors, "
        f"{report.warnings:,} warnings.",
        err=output == Path("-"),
    )
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
    from kbsite.search.query import QueryError
    from kbsite.search.searcher import index_dir_for_site, search

    if index_dir is None:
        index_dir = index_dir_for_site(site or Path("_site"))
    with _interruptible("nothing was changed"):
        try:
            results = search(index_dir, " ".join(words), limit)
        except QueryError as exc:
            click.echo(f"ERROR {exc}", err=True)
            sys.exit(2)
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
