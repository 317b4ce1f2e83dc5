#!/usr/bin/env python3
"""Benchmark a full build: wall time, articles per second, peak memory, output size.

usage: python bench/build.py [SOURCE] [--jobs N] [--scale N] [--rounds N] [--full-only]

SOURCE defaults to ../shared/kb-corpus/txt. With --scale N the source is first replicated
to N articles with ../shared/tools/scale-corpus (kept in /tmp between runs). The floor is
measured in the same run: reading and decoding every source file once in Python, the least
any build must do; the build's ratio to it says how much work per article the build adds.
The speed peer is measured in the same run too: Hugo (Debian's `hugo` package, `apt-get
install hugo`) building kbsite's Markdown export of the same archive with the plain layout in
bench/hugo/ (category and product taxonomies, pagination, RSS, sitemap; no search). Seconds do
not carry from one machine to the next; the ratio to Hugo does. `--no-hugo` skips it.

The machine's speed drifts, by a third within minutes on a shared virtual machine, so
`--rounds N` (default 2) runs the two builds N times, each from scratch, Hugo first in odd
rounds and kbsite first in even ones, and prints every round's ratio and their median: a
ratio is only ever of two builds run one after the other, and neither always comes second.
Every timed build starts after a `sync`, so that none pays for writing back the previous
one's output.

Then, unless --full-only, a rebuild with nothing changed and a rebuild after one article
is edited (in a copy of SOURCE). Peak memory is of all of a command's processes together
(sampled from /proc). Targets (2 cores): full build with both search indexes <= 1.3x Hugo's
plain build, < 1 GiB at 57,000 articles and <= 2.5 GiB at 250,000; no-change rebuild under
1/40 of a full build.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def floor_seconds(source: Path) -> tuple[float, int]:
    from kbsite.read.source import find_sources, read_source

    started = time.perf_counter()
    files = find_sources([source])
    for path in files:
        read_source(path)
    return time.perf_counter() - started, len(files)


def folder_size(folder: Path) -> tuple[int, int]:
    total = count = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            total += os.path.getsize(os.path.join(dirpath, name))
            count += 1
    return total, count


def benchmark_arguments(description: str) -> argparse.ArgumentParser:
    """The options both benchmarks take: SOURCE, --jobs, --scale."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("source", nargs="?", type=Path, default=SHARED / "kb-corpus" / "txt")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scale", type=int, default=0)
    return parser


def benchmark_source(source: Path, scale: int) -> Path | None:
    """SOURCE, or its copy replicated to ``scale`` articles (kept in /tmp); None if absent."""
    if scale:
        scaled = Path(tempfile.gettempdir()) / f"kbsite-bench-{scale}"
        if not scaled.exists():
            tool = SHARED / "tools" / "scale-corpus"
            command = [sys.executable, str(tool), str(source), str(scaled), str(scale)]
            subprocess.run(command, check=True)
        source = scaled
    if not source.is_dir():
        print(f"no corpus at {source}", file=sys.stderr)
        return None
    return source


def tree_memory_kib(pid: int) -> int:
    """The memory of a process and all its descendants, in KiB: the sum of their
    proportional set sizes (Linux /proc), so pages forked workers share with their parent
    count once, not once a process as a sum of RSS would count them."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
    return total


SAMPLE_SECONDS = 0.05
"""The shortest wait between two memory samples."""


def run_measured(command: list[str]) -> tuple[float, int, list[str]]:
    """Run a command: wall seconds, the peak of all its processes' memory together (KiB,
    sampled; at least the largest process's peak RSS) and its standard output's lines.

    A sample reads each process's page tables (``tree_memory_kib``), which is work for the
    kernel in proportion to its memory, 0.1 s for a 4 GiB process: the sampler waits ten
    times as long as its last sample took (at least ``SAMPLE_SECONDS``), so that it takes
    at most a tenth of a core from the command it measures."""
    os.sync()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        pause = SAMPLE_SECONDS
        while not done.wait(pause):
            sampled = time.perf_counter()
            peak = max(peak, tree_memory_kib(process.pid))
            pause = max(SAMPLE_SECONDS, 10 * (time.perf_counter() - sampled))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stdout is not None
    lines = process.stdout.read().strip().splitlines()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if status != 0:
        raise SystemExit(f"failed ({status}): {' '.join(command)}")
    return wall, max(peak, usage.ru_maxrss), lines


def run_build(source: Path, work: Path, jobs: int, *extra: str) -> tuple[float, int, str]:
    """One `kbsite build` in its own process: wall seconds, its peak memory (KiB, all its
    processes together) and its summary line."""
    command = [sys.executable, "-m", "kbsite", "build", str(source), "-o", str(work / "site")]
    command += ["--index", str(work / "index"), "--jobs", str(jobs), "-q", *extra]
    wall, peak, lines = run_measured(command)
    return wall, peak, lines[0] if lines else ""


def export_for_hugo(source: Path, work: Path, jobs: int) -> float | None:
    """Write kbsite's Markdown export of SOURCE, Hugo's input: its seconds; None without
    hugo."""
    if shutil.which("hugo") is None:
        print("hugo             not installed (apt-get install hugo): no ratio", file=sys.stderr)
        return None
    export = [sys.executable, "-m", "kbsite", "export", "--format", "markdown", str(source)]
    export += ["-o", str(work / "markdown"), "--jobs", str(jobs), "-q"]
    exported, _, _ = run_measured(export)
    return exported


def run_hugo(work: Path) -> tuple[float, int]:
    """Hugo building the Markdown export (``export_for_hugo``) with bench/hugo's plain
    layout, from scratch: its seconds and peak memory (KiB)."""
    for folder in ("hugo-site", "hugo-cache"):
        shutil.rmtree(work / folder, ignore_errors=True)
    command = [str(shutil.which("hugo")), "--quiet", "--source", str(ROOT / "bench" / "hugo")]
    command += ["--contentDir", str(work / "markdown"), "--destination", str(work / "hugo-site")]
    command += ["--cacheDir", str(work / "hugo-cache")]
    wall, peak, _ = run_measured(command)
    return wall, peak


def run_full_build(source: Path, work: Path, jobs: int) -> tuple[float, int, str]:
    """``run_build`` from scratch: no site, index or build cache left from a round before."""
    from kbsite.places import cache_folder

    for folder in (work / "site", work / "index", cache_folder(work / "site")):
        shutil.rmtree(folder, ignore_errors=True)
    return run_build(source, work, jobs)


def edit_one_article(source: Path) -> Path:
    """Add a paragraph to the middle article of the archive; returns its path."""
    files = sorted(source.rglob("*.[tT][xX][tT]"))
    article = files[len(files) // 2]
    data = article.read_bytes()
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    article.write_bytes(data + newline + b"Benchmark edit: zyxwvutsr." + newline)
    return article


def main() -> int:
    parser = benchmark_arguments(__doc__.splitlines()[0])
    parser.add_argument("--full-only", action="store_true", help="Skip the rebuild figures.")
    parser.add_argument("--no-hugo", action="store_true", help="Skip the Hugo build.")
    parser.add_argument(
        "--rounds", type=int, default=2, help="Hugo and kbsite builds, alternated (default 2)."
    )
    args = parser.parse_args()
    found = benchmark_source(args.source, args.scale)
    if found is None:
        return 2
    floor, articles = floor_seconds(found)
    work = Path(tempfile.mkdtemp(prefix="kbsite-bench-"))
    try:
        source = work / "source"
        shutil.copytree(found, source)  # rebuild figures edit a file: never the original
        exported = None if args.no_hugo else export_for_hugo(source, work, args.jobs)
        print(f"articles          {articles:,}")
        print(f"jobs              {args.jobs}")
        print(f"floor (read)      {floor:.1f} s   (reading and decoding every file once)")
        if exported is not None:
            print(f"hugo's input      kbsite's Markdown export: {exported:.1f} s")
        ratios, walls = [], []
        for number in range(1, max(args.rounds, 1) + 1):
            hugo_first = number % 2 == 1  # either may run on a machine the other warmed
            hugo = None if exported is None or not hugo_first else run_hugo(work)
            wall, peak_kib, summary = run_full_build(source, work, args.jobs)
            if exported is not None and not hugo_first:
                hugo = run_hugo(work)
            walls.append(wall)
            print(f"round {number}")
            if hugo is not None:
                print(f"  hugo (no search) {hugo[0]:.1f} s   peak {hugo[1] / 1024:,.0f} MiB")
            print(f"  full build       {wall:.1f} s   ({articles / wall:,.0f} articles/s)")
            if hugo is not None:
                ratios.append(wall / hugo[0])
                print(f"  ratio to hugo    {ratios[-1]:.2f}x")
            print(f"  peak memory      {peak_kib / 1024:,.0f} MiB (all processes)")
        full = statistics.median(walls)
        size, files = folder_size(work / "site")
        if ratios:
            each = ", ".join(f"{ratio:.2f}" for ratio in ratios)
            median = statistics.median(ratios)
            print(f"ratio to hugo     {median:.2f}x median of {each}   (target <= 1.3x)")
        print(f"ratio to floor    {walls[-1] / floor:.1f}x   (the last round)")
        print(f"output            {size / 2**20:,.0f} MiB in {files:,} files")
        print(f"                  {summary}")
        if args.full_only:
            return 0
        wall, peak_kib, summary = run_build(source, work, args.jobs)
        under = f"{full / wall:.0f}x under the full build; target 40x"
        print(f"no-change rebuild {wall:.2f} s   ({under})")
        print(f"                  peak memory {peak_kib / 1024:,.0f} MiB")
        print(f"                  {summary}")
        edited = edit_one_article(source)
        wall, peak_kib, summary = run_build(source, work, args.jobs)
        rss = f"peak memory {peak_kib / 1024:,.0f} MiB"
        print(f"one-article edit  {wall:.2f} s   ({edited.name}) {rss}")
        print(f"                  {summary}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
