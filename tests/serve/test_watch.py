"""``kbsite serve``: the files as built, the 404 page, the reload script only when
watching, a rebuild per burst of edits, and one line for a folder that is not a site."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbsite.build import BuildOptions, build_site
from kbsite.cli import main
from kbsite.errors import OutputError, ServeError
from kbsite.incremental.session import BuildSession
from kbsite.serve.livereload import RELOAD_TAG, Broadcaster, ReloadTagger
from kbsite.serve.server import PreviewServer
from kbsite.serve.watch import _rebuild

from ..conftest import CONTENT
from .client import fetch, serving

ARTICLE = "kb/Q200101.html"
TITLE_LINE = b"TITLE   :FIX: Harbor Mail Server Service Stops"
WATCH = [sys.executable, "-m", "kbsite", "serve", "site", "--watch", "--port", "0", "-s", "content"]


def inject_reload(html: bytes) -> bytes:
    tagger = ReloadTagger()
    return tagger.feed(html) + tagger.end()


def test_serves_the_built_files(tmp_path: Path) -> None:
    options = BuildOptions([CONTENT], tmp_path / "site", jobs=1)
    build_site(options)
    site = options.output
    with serving(site) as url:
        assert url.startswith("http://127.0.0.1:")
        for path, file in [
            ("", "index.html"),
            ("index.html", "index.html"),
            (ARTICLE, ARTICLE),
            ("static/kbsite.css", "static/kbsite.css"),
        ]:
            assert fetch(url + path) == (200, (site / file).read_bytes()), path
        assert fetch(url + "kb/Q999999.html") == (404, (site / "404.html").read_bytes())
        assert fetch(url + "kb/")[0] == 404, "no folder listings"
        assert fetch(url + "_kbsite/reload.js")[0] == 404, "only when watching"

        build_site(options)  # the folder is swapped for a new one
        assert fetch(url + ARTICLE) == (200, (site / ARTICLE).read_bytes())

    with serving(site, Broadcaster()) as url:
        status, page = fetch(url + ARTICLE)
        assert status == 200
        assert page == inject_reload((site / ARTICLE).read_bytes())
        assert page.count(RELOAD_TAG) == 1
        assert page.index(RELOAD_TAG) < page.index(b"</head>")
        assert page.replace(RELOAD_TAG, b"") == (site / ARTICLE).read_bytes()
        assert fetch(url + "static/kbsite.css") == (200, (site / "static/kbsite.css").read_bytes())
        status, script = fetch(url + "_kbsite/reload.js")
        assert status == 200 and b"EventSource(" in script and b"location.reload()" in script
        assert RELOAD_TAG in fetch(url + "missing-page")[1]
    assert not list(site.rglob("reload.js")), "the script is never written into the site"


def test_a_port_in_use_is_one_error(tmp_path: Path) -> None:
    with serving(tmp_path) as url:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            PreviewServer(tmp_path, port, None)


def test_a_folder_that_is_not_a_site_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    for folder in (tmp_path, tmp_path / "absent"):
        result = CliRunner().invoke(main, ["serve", str(folder), "--port", "0"])
        assert result.exit_code == 1
        assert result.output == (
            f"ERROR {folder}: not a site built by kbsite; run kbsite build first, or add --watch\n"
        )


def test_watch_rebuilds_once_per_burst_and_reloads_pages(content_copy: Path) -> None:
    workspace = content_copy.parent
    article = content_copy / "200" / "Q200101.TXT"
    original = article.read_bytes()
    assert TITLE_LINE in original
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read_until(found: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert serve.poll() is None, f"kbsite serve ended: {output}"
                continue
            output.append(line)
            if found(line):
                return line
        raise AssertionError(f"no {what} within 60 s: {output}")

    def edit(title: bytes) -> None:
        article.write_bytes(original.replace(TITLE_LINE, b"TITLE   :" + title))

    def wait_for_title(url: str, title: bytes) -> None:
        deadline = time.monotonic() + 60
        while title not in fetch(url + ARTICLE)[1]:
            assert time.monotonic() < deadline, f"{title!r} never served: {output}"
            time.sleep(0.2)

    with (workspace / "stderr.txt").open("w") as stderr:
        serve = subprocess.Popen(
            WATCH, cwd=workspace, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    reader = threading.Thread(target=forward, args=(serve, lines), daemon=True)
    try:
        reader.start()
        address = read_until(lambda line: line.startswith("Serving at "), "address")
        url = re.search(r"http://127\.0\.0\.1:\d+/", address)
        assert url is not None, address
        url_text = url.group()
        read_until(lambda line: line.startswith("Watching "), "watch line")
        assert (workspace / "site" / ".kbsite-site").is_file(), "built first"
        page = fetch(url_text + ARTICLE)[1]
        assert (
            RELOAD_TAG in page
            and page.replace(RELOAD_TAG, b"") == (workspace / "site" / ARTICLE).read_bytes()
        )

        edit(b"Edited Once")
        wait_for_title(url_text, b"Edited Once")
        read_until(lambda line: line.startswith("Rebuilt "), "first rebuild")

        with urllib.request.urlopen(url_text + "_kbsite/events", timeout=60) as events:
            assert events.headers["Content-Type"] == "text/event-stream"
            assert events.readline() == b"retry: 1000\n"
            for n in range(5):
                edit(f"Burst Edit {n}".encode())
            wait_for_title(url_text, b"Burst Edit 4")
            received = [events.readline() for _ in range(4)]
            assert b"event: reload\n" in received, received
        time.sleep(3)  # longer than a burst may take to gather, so a second rebuild shows
        while not lines.empty():
            output.append(lines.get())
        rebuilt = [line for line in output if line.startswith("Rebuilt ")]
        assert len(rebuilt) == 2, output
        assert ": 0 errors, 0 warnings; search index 0 added, 1 changed" in rebuilt[-1]
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        reader.join(timeout=10)
        if serve.stdout is not None:
            serve.stdout.close()
    assert serve.returncode == 0
    assert (workspace / "stderr.txt").read_text().splitlines()[-1] == "Stopped serving."
    assert not (workspace / "site" / "_kbsite").exists()


def forward(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    for line in process.stdout or ():
        lines.put(line)


def test_a_failed_rebuild_keeps_the_previous_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "notes.txt").write_text("mine")
    result = _rebuild(BuildSession(BuildOptions([CONTENT], site, jobs=1)), [], 3)
    assert result.report is None and result.changes == 3
    assert isinstance(result.error, OutputError)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [".site.kbsite-cache", "site"], "no staging folder left"
