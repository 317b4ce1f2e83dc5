"""``kbsite build``: the settings and the options to one build, its report to lines."""

from __future__ import annotations

from pathlib import Path

from kbsite.build import BuildOptions, build_site
from kbsite.cli import (
    MAX_PROBLEMS_SHOWN,
    exit_if_failed,
    interruptible,
    print_problems,
    print_summary,
    progress_bar,
    settings_from,
)
from kbsite.config import Config
from kbsite.parallel import default_jobs


def run_build(
    *,
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
    settings = settings_from(config_file, title=title, base_url=base_url, output=output)
    options = build_options(settings, sources, jobs, index_dir, full=full)
    with interruptible("the previous site, if any, is unchanged"):
        report = build_site(options, None if quiet else progress_bar)
    print_problems(report, MAX_PROBLEMS_SHOWN)
    print_summary(report, settings.output)
    exit_if_failed(report, strict)


def build_options(
    settings: Config,
    sources: tuple[Path, ...],
    jobs: int | None,
    index_dir: Path | None,
    *,
    full: bool = False,
) -> BuildOptions:
    """A build of ``settings.output`` from the sources given, else the settings'."""
    return BuildOptions(
        sources=list(sources) or list(settings.sources),
        output=settings.output,
        jobs=jobs or default_jobs(),
        index=index_dir,
        settings=settings,
        full=full,
    )
