"""``kbsite serve``'s options: build first when asked, then serve, and the lines it prints.

The server itself, its reload script and its watch loop are ``serve.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from kbsite.build import build_site
from kbsite.cli import (
    MAX_PROBLEMS_SHOWN,
    interruptible,
    print_notes,
    print_problems,
    print_summary,
    progress_bar,
    settings_from,
)
from kbsite.commands.build import build_options
from kbsite.errors import ServeError
from kbsite.output.lock import SiteLocked
from kbsite.output.publish import settle
from kbsite.serve.watch import Rebuild, is_site, serve_site


def run_serve(
    *,
    output: Path | None,
    port: int,
    watch: bool,
    sources: tuple[Path, ...],
    jobs: int | None,
    index_dir: Path | None,
    config_file: Path | None,
) -> None:
    settings = settings_from(config_file, output=output)
    site = settings.output
    options = build_options(settings, sources, jobs, index_dir)
    with interruptible("the site is as the last build left it"):
        settle(site)  # a publish a killed build left half-done, finished
        if not is_site(site):
            if not watch:
                raise ServeError(
                    "not a site built by kbsite; run kbsite build first, or add --watch", site
                )
            report = build_site(options, progress_bar)
            print_problems(report, MAX_PROBLEMS_SHOWN)
            print_summary(report, site)
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
    if isinstance(rebuild.error, SiteLocked):
        click.echo(
            f"Not rebuilt after {rebuild.changes} {noun}: {rebuild.error.message}; "
            "serving the previous site.",
            err=True,
        )
        return
    if report is None:
        click.echo(f"ERROR {rebuild.error}", err=True)
        click.echo(f"Rebuild failed after {rebuild.changes} {noun}; serving the previous site.")
        return
    print_problems(report, MAX_PROBLEMS_SHOWN)
    print_notes(report)
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
