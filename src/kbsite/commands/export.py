"""``kbsite export``: the archive as one ZIM file, JSON lines or Markdown files."""

from __future__ import annotations

from pathlib import Path

import click

from kbsite.build import check_sources
from kbsite.cli import (
    DEFAULT_EXPORT,
    MAX_PROBLEMS_SHOWN,
    exit_if_failed,
    fail,
    interruptible,
    print_problems,
    print_summary,
    progress_bar,
    settings_from,
)
from kbsite.config import Config
from kbsite.errors import OutputError
from kbsite.output.export import write_json_lines, write_markdown
from kbsite.parallel import default_jobs
from kbsite.report import BuildReport


def run_export(
    *,
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
    output = output or Path(DEFAULT_EXPORT[export_format])
    settings = settings_from(config_file)
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
        fail(f"writing ZIM files needs {missing}: pip install 'kbsite[zim]'", 1)
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
    with interruptible("the previous file, if any, is unchanged"):
        report = export_zim(options, None if quiet else progress_bar)
    print_problems(report, MAX_PROBLEMS_SHOWN)
    print_summary(report, output)
    exit_if_failed(report, strict)


def _export_model(
    export_format: str, sources: list[Path], output: Path, jobs: int, quiet: bool, strict: bool
) -> None:
    report = BuildReport()
    with interruptible("the export may be incomplete"):
        articles, _ = check_sources(sources, jobs, report, None if quiet else progress_bar)
        if export_format == "markdown":
            write_markdown(articles, output)
        elif output == Path("-"):
            with click.open_file("-", "w", encoding="utf-8") as out:
                write_json_lines(articles, out)
        else:
            try:
                with output.open("w", encoding="utf-8") as out:
                    write_json_lines(articles, out)
            except OSError as exc:
                raise OutputError(f"cannot write: {exc.strerror or exc}", output) from exc
    print_problems(report, MAX_PROBLEMS_SHOWN)
    click.echo(
        f"Exported {report.articles:,} articles to {output}: {report.errors:,} errors, "
        f"{report.warnings:,} warnings.",
        err=output == Path("-"),
    )
    exit_if_failed(report, strict)
