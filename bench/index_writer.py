#!/usr/bin/env python3
"""Benchmark the whoosh index writer alone, on documents already analyzed.

usage: python bench/index_writer.py [SOURCE] [--scale N] [--repeat N]

The build analyzes articles in its workers and hands the main process ready
``whoosh_document``s; this times what the main process then does with them
(``IndexUpdate.add`` for each, then ``finish``: whoosh's commit) for a fresh index,
best of --repeat runs, after timing the analysis itself once. Prints wall and CPU
seconds, documents per second and the index's size.
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from build import benchmark_arguments, benchmark_source, folder_size  # noqa: E402


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    from kbsite.build import load_articles
    from kbsite.read.source import find_sources
    from kbsite.report import BuildReport
    from kbsite.search.index import IndexUpdate, index_document, whoosh_document

    parser = benchmark_arguments(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    source = benchmark_source(args.source, args.scale)
    if source is None:
        return 2
    articles = load_articles(find_sources([source]), args.jobs, BuildReport())
    started = time.process_time()
    documents = [whoosh_document(index_document(article)) for article in articles]
    analysis = time.process_time() - started
    print(f"articles          {len(documents):,}")
    print(f"analysis          {analysis:.1f} s CPU (whoosh_document(index_document(a)))")
    marks = {document["id"]: "benchmark" for document in documents}
    for run in range(args.repeat):
        folder = Path(tempfile.mkdtemp(prefix="kbsite-bench-index-"))
        wall, cpu = time.perf_counter(), cpu_seconds()
        update = IndexUpdate(folder / "index", marks)
        for document in documents:
            update.add(document)
        update.finish()
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        size, _ = folder_size(folder / "index")
        print(
            f"writer run {run + 1}      {wall:.1f} s wall, {cpu:.1f} s CPU "
            f"({len(documents) / wall:,.0f} documents/s), index {size / 2**20:.0f} MiB"
        )
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
