#!/usr/bin/env python3
"""Benchmark search: index build cost, `kbsite search` cold start, browser download and speed.

usage: python bench/search.py [SOURCE] [--jobs N] [--scale N] [--keep DIR]

SOURCE defaults to ../shared/kb-corpus/txt; --scale N replicates it to N articles with
../shared/tools/scale-corpus first (kept in /tmp). Prints, against the issue's targets:
- the index's share of a full build: whoosh index + browser index time over the rest of
  the build (target <= 50%), and the no-change rebuild;
- `kbsite search` wall time from a cold process (target < 1 s at 57k);
- in headless Chromium from file://, for two-word queries and queries typed as people
  type (KB numbers, typos, questions, short codes and forms): bytes a query reads with its
  first page (10) of results, the page's scripts included (target: median <= 200 KB, max
  <= 400 KB at 57k), the time to results once its shards are loaded, and from the page's
  load to results shown, as the page records it (target <= 150 ms).
With --site SITE, only the search figures of an already built site.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from build import benchmark_arguments, benchmark_source, folder_size  # noqa: E402

from kbsite.render.renderer import SEARCH_BUNDLE  # noqa: E402

TWO_WORD_QUERIES = [
    "memory leak",
    "printer driver",
    "setup fails",
    "access violation",
    "excel macro",
    "network adapter",
    "error message",
    "sql server",
    "dial-up networking",
    "blue screen",
    "mail merge",
    "font size",
]
FORGIVING_QUERIES = [
    "KB315817",
    "kb 315817",
    "http://support.microsoft.com/kb/315817",
    "Q315817",
    "memroy leak",
    "right jsutify menu",
    "how do i fix a memory leak on my computer",
    "why does the printer keep printing garbage",
    "stop 0x7b",
    "stop 1e",
    "w2k setup",
    "sp3 install",
]
INDEX_STAGES = ("Indexing", "Search pages")
SCRIPTS = (SEARCH_BUNDLE, "static/theme.js")


def timed_build(source: Path, output: Path, index: Path, jobs: int) -> dict[str, float]:
    """Build once; return seconds per stage (the progress labels) and in all."""
    from kbsite.build import BuildOptions, build_site

    stages: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def progress(label: str, total: int) -> Iterator[object]:
        started = time.perf_counter()
        yield lambda _n: None
        stages[label] += time.perf_counter() - started

    started = time.perf_counter()
    build_site(BuildOptions([source], output, jobs, index=index), progress)
    stages["total"] = time.perf_counter() - started
    return dict(stages)


def report_build(name: str, stages: dict[str, float]) -> None:
    index = sum(stages.get(s, 0.0) for s in INDEX_STAGES)
    site = stages["total"] - index
    print(
        f"{name}: total {stages['total']:.1f} s = site {site:.1f} s + whoosh index "
        f"{stages.get('Indexing', 0):.1f} s + browser index {stages.get('Search pages', 0):.1f} s; "
        f"index adds {index / site:.0%} to the site build (target <= 50%)"
    )


def cli_times(site: Path) -> list[float]:
    times = []
    for query in TWO_WORD_QUERIES:
        started = time.perf_counter()
        subprocess.run(
            ["kbsite", "search", query, "--site", str(site), "--json"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return times


def browser_figures(site: Path) -> list[tuple[str, int, float, int, float]]:
    """Per query: (query, bytes read (index and scripts), ms to results once loaded, hits,
    ms from the page's start to results shown)."""
    import urllib.parse

    from tests.browser import launch_browser

    code = sum((site / name).stat().st_size for name in SCRIPTS if (site / name).exists())
    figures = []
    with launch_browser() as browser:
        for query in TWO_WORD_QUERIES + FORGIVING_QUERIES:
            page = browser.new_page()
            page.goto((site / "search.html").as_uri())
            page.wait_for_function("window.kbsiteSearch && window.kbsiteSearch.engine")
            hits = page.evaluate(
                """async (query) => {
                    const engine = await kbsiteSearch.engine();
                    const ranked = await engine.search(kbsiteSearch.parseQuery(query));
                    await engine.documents(ranked.slice(0, 10).map((r) => r[0]));
                    return ranked.length;
                }""",
                query,
            )
            loaded = page.evaluate("kbsiteSearch.loadedFiles")
            size = code + sum((site / "search" / name).stat().st_size for name in loaded)
            milliseconds = page.evaluate(
                """async (query) => {
                    const engine = await kbsiteSearch.engine();
                    const started = performance.now();
                    const ranked = await engine.search(kbsiteSearch.parseQuery(query));
                    await engine.documents(ranked.slice(0, 10).map((r) => r[0]));
                    return performance.now() - started;
                }""",
                query,
            )
            page.close()
            page = browser.new_page()
            page.goto((site / "search.html").as_uri() + "?q=" + urllib.parse.quote(query))
            page.wait_for_function("document.getElementById('kb-status').dataset.shown")
            shown = float(page.evaluate("document.getElementById('kb-status').dataset.shown"))
            figures.append((query, size, milliseconds, hits, shown))
            page.close()
    return figures


def main() -> int:
    parser = benchmark_arguments(__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: a temp dir)")
    parser.add_argument("--site", type=Path, help="only measure search in this built site")
    args = parser.parse_args()
    source = benchmark_source(args.source, args.scale)
    if source is None:
        return 2
    if args.site is not None:
        report_browser(args.site)
        return 0
    with tempfile.TemporaryDirectory(prefix="kbsite-search-bench-") as temporary:
        work = args.keep or Path(temporary)
        site, index = work / "site", work / "index"
        report_build("full build", timed_build(source, site, index, args.jobs))
        rebuild = timed_build(source, site, index, args.jobs)
        report_build("rebuild, nothing changed", rebuild)
        index_bytes, _ = folder_size(index)
        web_bytes, web_files = folder_size(site / "search")
        print(
            f"whoosh index {index_bytes / 2**20:.0f} MiB; "
            f"browser index {web_bytes / 2**20:.1f} MiB in {web_files:,} files"
        )
        times = cli_times(site)
        print(
            f"kbsite search, cold process: median {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s over {len(times)} two-word queries (target < 1 s)"
        )
        report_browser(site)
    return 0


def report_browser(site: Path) -> None:
    figures = browser_figures(site)
    for query, size, milliseconds, hits, shown in figures:
        print(
            f"  {query!r}: {size / 1000:.0f} KB, {milliseconds:.0f} ms once loaded, "
            f"{shown:.0f} ms from page start, {hits:,} hits"
        )
    sizes = [f[1] for f in figures]
    speeds = [f[2] for f in figures]
    shown = [f[4] for f in figures]
    print(
        f"browser, a query with 10 results: median {statistics.median(sizes) / 1000:.0f} KB, "
        f"max {max(sizes) / 1000:.0f} KB read with the scripts (target <= 200 KB, <= 400 KB); "
        f"results in median {statistics.median(speeds):.0f} ms, max {max(speeds):.0f} ms once "
        f"loaded; shown median {statistics.median(shown):.0f} ms, max {max(shown):.0f} ms from "
        f"the page's start (target <= 150 ms)"
    )


if __name__ == "__main__":
    sys.exit(main())
