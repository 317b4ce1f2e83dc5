#!/usr/bin/env python3
"""Benchmark a full build: wall time, articles per second, peak memory, output size.

usage: python bench/build.py [SOURCE] [--jobs N] [--scale N] [--full-only]

SOURCE defaults to ../shared/kb-corpus/txt. With --scale N the source is first replicated
to N articles with ../shared/tools/scale-corpus (kept in /tmp between runs). The floor is
measured in the same run: reading and decoding every source file once in Python, the least
any build must do; the build's ratio to it says how much work per article the build adds.
Then, unless --full-only, a rebuild with nothing changed and a rebuild after one article
is edited (in a copy of SOURCE). Targets (2 cores): 57,000 articles < 120 s and < 1.5 GiB;
250,000 < 10 min and < 3 GiB; no-change rebuild at 57,000 < 5 s; one-article edit < 3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
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


def run_build(source: Path, work: Path, jobs: int, *extra: str) -> tuple[float, int, str]:
    """One `kbsite build` in its own process: wall seconds, its peak RSS (KiB; the largest
    of its processes) and its summary line."""
    command = [sys.executable, "-m", "kbsite", "build", str(source), "-o", str(work / "site")]
    command += ["--index", str(work / "index"), "--jobs", str(jobs), "-q", *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    summary = process.stdout.read().strip().splitlines()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"build failed ({status}): {' '.join(command)}")
    return wall, usage.ru_maxrss, summary[0] if summary else ""


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
    args = parser.parse_args()
    found = benchmark_source(args.source, args.scale)
    if found is None:
        return 2
    floor, articles = floor_seconds(found)
    work = Path(tempfile.mkdtemp(prefix="kbsite-bench-"))
    try:
        source = work / "source"
        shutil.copytree(found, source)  # rebuild figures edit a file: never the original
        wall, peak_kib, summary = run_build(source, work, args.jobs)
        size, files = folder_size(work / "site")
        print(f"articles          {articles:,}")
        print(f"jobs              {args.jobs}")
        print(f"floor (read)      {floor:.1f} s   (reading and decoding every file once)")
        print(f"full build        {wall:.1f} s   ({articles / wall:,.0f} articles/s)")
        print(f"ratio to floor    {wall / floor:.1f}x")
        print(f"peak RSS          {peak_kib / 1024:,.0f} MiB (largest process)")
        print(f"output            {size / 2**20:,.0f} MiB in {files:,} files")
        print(f"                  {summary}")
        if args.full_only:
            return 0
        wall, peak_kib, summary = run_build(source, work, args.jobs)
        print(f"no-change rebuild {wall:.2f} s   peak RSS {peak_kib / 1024:,.0f} MiB")
        print(f"                  {summary}")
        edited = edit_one_article(source)
        wall, peak_kib, summary = run_build(source, work, args.jobs)
        rss = f"peak RSS {peak_kib / 1024:,.0f} MiB"
        print(f"one-article edit  {wall:.2f} s   ({edited.name}) {rss}")
        print(f"                  {summary}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
