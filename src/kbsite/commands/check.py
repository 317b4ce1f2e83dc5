"""``kbsite check``: read, parse and link like a build, write nothing, print every problem."""

from __future__ import annotations

from pathlib import Path

import click

from kbsite.build import check_sources
from kbsite.cli import exit_if_failed, interruptible, print_problems, progress_bar, settings_from
from kbsite.parallel import default_jobs
from kbsite.report import BuildReport


def run_check(
    *,
    sources: tuple[Path, ...],
    jobs: int | None,
    strict: bool,
    quiet: bool,
    config_file: Path | None,
) -> None:
    report = BuildReport()
    settings = settings_from(config_file)
    with interruptible("nothing was written"):
        check_sources(
            list(sources) or list(settings.sources),
            jobs or default_jobs(),
            report,
            None if quiet else progress_bar,
        )
    print_problems(report, None)
    click.echo(
        f"Checked {report.articles:,} articles: {report.errors:,} errors, "
        f"{report.warnings:,} warnings, {report.unresolved:,} unresolved references "
        f"({report.unresolved_mentions:,} mentions)."
    )
    exit_if_failed(report, strict)
