#!/usr/bin/env python3
"""Benchmark the ZIM export: time, peak memory, size against the site, search in kiwix-serve.

usage: python bench/zim.py [SOURCE] [--jobs N] [--scale N] [--site DIR]

SOURCE defaults to ../shared/kb-corpus/txt; --scale N replicates it to N articles with
../shared/tools/scale-corpus first (kept in /tmp). Prints, against the issue's targets
(57,000 articles on two cores):
- `kbsite export --format zim` wall time (target < 5 minutes) and the peak RSS of its
  largest process (target < 2 GiB);
- the ZIM's size over the built site folder's (target <= 1/3); the site is built here
  unless --site names one already built from the same SOURCE;
- the answer time of kiwix-serve's full-text `/search` for two-word queries, the first
  (cold) one apart. Needs `kiwix-serve` (Debian: kiwix-tools).
"""

from __future__ import annotations

import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from build import benchmark_arguments, benchmark_source, folder_size  # noqa: E402

from search import TWO_WORD_QUERIES  # noqa: E402


def kbsite(*args: str) -> float:
    """Run one kbsite command quietly; its wall time."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "kbsite", *args, "-q"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def kiwix_search_times(zim: Path) -> list[float] | None:
    """Seconds per kiwix-serve full-text search, cold query first; None without kiwix-serve."""
    executable = shutil.which("kiwix-serve")
    if executable is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [executable, "--address=127.0.0.1", f"--port={port}", str(zim)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("kiwix-serve did not start") from None
                time.sleep(0.1)
        times = []
        for words in TWO_WORD_QUERIES:
            query = urllib.parse.urlencode({"content": zim.stem, "pattern": words})
            started = time.perf_counter()
            with urllib.request.urlopen(f"{base}/search?{query}", timeout=60) as response:
                page = response.read()
            times.append(time.perf_counter() - started)
            if b"/kb/Q" not in page:
                print(f"  (no results for {words!r})")
        return times
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    parser = benchmark_arguments(__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=None, help="a site already built")
    args = parser.parse_args()
    found = benchmark_source(args.source, args.scale)
    if found is None:
        return 2
    source = found
    work = Path(tempfile.mkdtemp(prefix="kbsite-bench-zim-"))
    zim = work / "kb.zim"
    try:
        export_wall = kbsite(
            "export", "--format", "zim", str(source), "-o", str(zim), "--jobs", str(args.jobs)
        )
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        site = args.site
        build_wall = None
        if site is None:
            site = work / "site"
            build_wall = kbsite("build", str(source), "-o", str(site), "--jobs", str(args.jobs))
        site_size, site_files = folder_size(site)
        zim_size = zim.stat().st_size
        print(f"source            {source}")
        print(f"jobs              {args.jobs}")
        print(f"export wall       {export_wall:.1f} s   (target < 300 s at 57,000 articles)")
        print(f"peak RSS          {peak_kib / 1024:,.0f} MiB (largest process; target < 2048)")
        if build_wall is not None:
            print(f"site build wall   {build_wall:.1f} s")
        print(f"ZIM               {zim_size / 2**20:,.1f} MiB")
        print(f"site folder       {site_size / 2**20:,.1f} MiB in {site_files:,} files")
        print(f"ZIM / site        {zim_size / site_size:.3f}   (target <= 0.333)")
        times = kiwix_search_times(zim)
        if times is None:
            print("kiwix-serve       not installed; no search timing")
        else:
            ms = [t * 1000 for t in times]
            print(
                f"kiwix-serve search  cold {ms[0]:.0f} ms; then median "
                f"{statistics.median(ms[1:]):.0f} ms, max {max(ms[1:]):.0f} ms "
                f"over {len(ms) - 1} two-word queries"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
