#!/usr/bin/env python3
"""Benchmark live edits: how soon `kbsite serve --watch` serves what was just saved.

usage: python bench/live.py [SOURCE] [--jobs N] [--scale N] [--edits N]

SOURCE (default ../shared/kb-corpus/txt; --scale N as in bench/build.py) is copied to a
temporary folder and built. First the old way: one article edited, then a CLI rebuild
(`kbsite build`), timed. Then `kbsite serve SITE --watch -s SOURCE` on a free port of
127.0.0.1 and, once it is idle, --edits body edits of articles (a unique word added to
each), each timed from the save until `GET /kb/Qnnnnnn.html` holds the word; a title
change (until a page citing the article shows the new title), an added article (until its
page is served) and a deleted one (until its page is a 404). The serving process's memory
is read from /proc after them. Last, once the serve has settled and stopped, a CLI build
must find nothing to do (its cache untouched). Target at 57,000 articles: median edit
under 1 s.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from build import benchmark_arguments, benchmark_source, run_build, tree_memory_kib  # noqa: E402

from kbsite.incremental.session import SETTLE_SECONDS  # noqa: E402

SECTION = re.compile(rb"\n=+\r?\n\r?\n")
"""A section heading's rule and the blank line after it: a body paragraph starts there."""
REFERENCE = re.compile(rb"\bQ(\d{5,7})\b")
POLL_SECONDS = 0.02


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def add_word(article: Path, word: str) -> None:
    """Start the article's first body paragraph with ``word``."""
    data = article.read_bytes()
    found = SECTION.search(data)
    at = found.end() if found else len(data)
    article.write_bytes(data[:at] + word.encode() + b" " + data[at:])


def retitle(article: Path, words: str) -> None:
    data = article.read_bytes()
    start = data.index(b"TITLE")
    end = data.index(b"\n", start)
    line = data[start:end].rstrip(b"\r")
    article.write_bytes(data[:start] + line + b" " + words.encode() + data[start + len(line) :])


def timed_until(check: Callable[[], bool], limit: float = 120.0) -> float:
    """Seconds until ``check`` holds, polled every POLL_SECONDS from now."""
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > limit:
            raise SystemExit(f"not seen within {limit:.0f} s")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def wait_idle(pid: int, quiet: float = 1.0) -> None:
    """Until the process uses under a tenth of a core for ``quiet`` seconds."""
    before = cpu_seconds(pid)
    while True:
        time.sleep(quiet)
        now = cpu_seconds(pid)
        if now - before < quiet / 10:
            return
        before = now


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Serving:
    """`kbsite serve --watch` in its own process, its output lines gathered."""

    def __init__(self, work: Path, source: Path, jobs: int) -> None:
        command = [sys.executable, "-m", "kbsite", "serve", str(work / "site"), "--watch"]
        command += ["-s", str(source), "--index", str(work / "index"), "--port", "0"]
        command += ["--jobs", str(jobs)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=work)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        address = self.wait_line(lambda line: line.startswith("Serving at "))
        found = re.search(r"http://127\.0\.0\.1:\d+/", address)
        if found is None:
            raise SystemExit(f"no address in {address!r}")
        self.url = found.group()
        self.wait_line(lambda line: line.startswith("Watching "))

    def _read(self) -> None:
        for line in self.process.stdout or ():
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, found: Callable[[str], bool], after: int = 0) -> str:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if found(line):
                    return line
            if self.process.poll() is not None:
                raise SystemExit(f"kbsite serve ended: {self.lines}")
            time.sleep(0.05)
        raise SystemExit(f"no such line within 600 s: {self.lines}")

    def rebuilt(self, after: int) -> str:
        """The next `Rebuilt` (or `Not rebuilt`) line after the first ``after`` lines."""
        return self.wait_line(lambda line: "ebuilt" in line, after)

    def page(self, article_id: str) -> tuple[int, bytes]:
        return fetch(f"{self.url}kb/{article_id}.html")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=120)


def citing_pair(files: dict[str, Path]) -> tuple[Path, str]:
    """An article cited by another (from the middle of the archive), and the citing id:
    the cited article's page lists the citing one by its title."""
    ids = sorted(files)
    for citing in ids[len(ids) // 2 :] + ids[: len(ids) // 2]:
        for number in REFERENCE.findall(files[citing].read_bytes()):
            cited = f"Q{int(number)}"
            if cited in files and cited != citing:
                return files[cited], citing
    raise SystemExit("no article cites another")


def live_edits(serving: Serving, files: dict[str, Path], count: int) -> list[float]:
    ids = sorted(files)
    times = []
    for n in range(count):
        article_id = ids[(n + 1) * len(ids) // (count + 2)]
        word = f"Livemark{n}x{time.time_ns()}"
        seen = len(serving.lines)
        add_word(files[article_id], word)
        shown = word.encode()
        times.append(timed_until(lambda: shown in serving.page(article_id)[1]))  # noqa: B023
        serving.rebuilt(seen)
        wait_idle(serving.process.pid)
        print(f"edit {n + 1}            {times[-1]:.3f} s   ({article_id})", flush=True)
    return times


def other_changes(serving: Serving, source: Path, files: dict[str, Path]) -> None:
    cited, citing = citing_pair(files)
    words = f"Retitled{time.time_ns()}"
    seen = len(serving.lines)
    retitle(files[citing], words)
    took = timed_until(lambda: words.encode() in serving.page(cited.stem)[1])
    print(f"title change      {took:.3f} s   ({citing}, as {cited.stem} cites it)", flush=True)
    serving.rebuilt(seen)
    wait_idle(serving.process.pid)

    new_id = f"Q{9_900_000 + time.time_ns() % 99_999}"
    model = files[sorted(files)[len(files) // 3]]
    data = re.sub(rb"DOCUMENT:Q\d+", f"DOCUMENT:{new_id}".encode(), model.read_bytes(), count=1)
    seen = len(serving.lines)
    (source / f"{new_id}.TXT").write_bytes(data)
    took = timed_until(lambda: serving.page(new_id)[0] == 200)
    print(f"added article     {took:.3f} s   ({new_id})", flush=True)
    serving.rebuilt(seen)
    wait_idle(serving.process.pid)

    gone = sorted(files)[2 * len(files) // 3]
    seen = len(serving.lines)
    files[gone].unlink()
    took = timed_until(lambda: serving.page(gone)[0] == 404)
    print(f"deleted article   {took:.3f} s   ({gone})", flush=True)
    serving.rebuilt(seen)
    wait_idle(serving.process.pid)


def main() -> int:
    parser = benchmark_arguments(__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=7)
    args = parser.parse_args()
    found = benchmark_source(args.source, args.scale)
    if found is None:
        return 2
    work = Path(tempfile.mkdtemp(prefix="kbsite-live-"))
    try:
        source = work / "source"
        shutil.copytree(found, source)
        files = {path.stem.upper(): path for path in source.rglob("*.[tT][xX][tT]")}
        full, _, _ = run_build(source, work, args.jobs)
        print(f"articles          {len(files):,}   (full build {full:.1f} s)", flush=True)
        add_word(files[sorted(files)[len(files) // 2]], f"Clieditmark{time.time_ns()}")
        cli, _, summary = run_build(source, work, args.jobs)
        print(f"CLI one-edit      {cli:.2f} s   (kbsite build after one edit)", flush=True)

        serving = Serving(work, source, args.jobs)
        try:
            pid = serving.process.pid
            wait_idle(pid)
            print(f"serve ready       RSS {rss_kib(pid) / 1024:,.0f} MiB", flush=True)
            times = live_edits(serving, files, args.edits)
            median = statistics.median(times)
            ratio = f"CLI {cli / median:.1f}x longer"
            print(f"median live edit  {median:.3f} s   (target < 1 s; {ratio})", flush=True)
            other_changes(serving, source, files)
            memory = f"RSS {rss_kib(pid) / 1024:,.0f} MiB, PSS {tree_memory_kib(pid) / 1024:,.0f}"
            print(f"serve memory      {memory} MiB", flush=True)
            time.sleep(SETTLE_SECONDS + 1)  # the serve saves its cache after a pause
            wait_idle(pid)
        finally:
            serving.stop()
        stamp = (work / ".site.kbsite-cache" / "build.bin").stat().st_mtime_ns
        wall, _, summary = run_build(source, work, args.jobs)
        untouched = (work / ".site.kbsite-cache" / "build.bin").stat().st_mtime_ns == stamp
        verdict = "nothing to do" if untouched else "REBUILT SOMETHING"
        print(f"CLI build after   {wall:.2f} s   ({verdict}) {summary}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
