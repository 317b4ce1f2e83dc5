#!/usr/bin/env python3
"""Benchmark a full build: wall time, articles per second, peak memory, output size.

usage: python bench/build.py [SOURCE] [--jobs N] [--scale N]

SOURCE defaults to ../shared/kb-corpus/txt. With --scale N the source is first replicated
to N articles with ../shared/tools/scale-corpus (kept in /tmp between runs). The floor is
measured in the same run: reading and decoding every source file once in Python, the least
any build must do; the build's ratio to it says how much work per article the build adds.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def floor_seconds(source: Path) -> tuple[float, int]:
    from kbsite.source import find_sources, read_source

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


def main() -> int:
    args = benchmark_arguments(__doc__.splitlines()[0]).parse_args()
    found = benchmark_source(args.source, args.scale)
    if found is None:
        return 2
    source = found

    floor, articles = floor_seconds(source)
    output = Path(tempfile.mkdtemp(prefix="kbsite-bench-")) / "site"
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "kbsite",
            "build",
            str(source),
            "-o",
            str(output),
            "--jobs",
            str(args.jobs),
            "-q",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size, files = folder_size(output)
    print(f"articles          {articles:,}")
    print(f"jobs              {args.jobs}")
    print(f"floor (read)      {floor:.1f} s")
    print(f"build wall        {wall:.1f} s   ({articles / wall:,.0f} articles/s)")
    print(f"ratio to floor    {wall / floor:.1f}x")
    print(f"peak RSS          {peak_kib / 1024:,.0f} MiB (largest process)")
    print(f"output            {size / 2**20:,.0f} MiB in {files:,} files")
    subprocess.run(["rm", "-rf", str(output.parent)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
