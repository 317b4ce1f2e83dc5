"""The preview server under load and abuse: hundreds of clients at once, connections that
keep it waiting, clients that never read a large page, paths that are not pages, the
reload events, and a stop while all that is going on."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kbsite.report import BuildReport
from kbsite.serve.livereload import RELOAD_TAG, Broadcaster, ReloadTagger

from .client import exchange, fetch, port_of, request, run, serving, status_of

if TYPE_CHECKING:
    from playwright.sync_api import Browser

LARGE_PAGE_MB = 24


@pytest.fixture(scope="module")
def site(sample_site: tuple[Path, BuildReport], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site with one very large page added (a copy: the sample is shared)."""
    copy = tmp_path_factory.mktemp("served") / "site"
    shutil.copytree(sample_site[0], copy)
    head, end, rest = (copy / "index.html").read_bytes().partition(b"</body>")
    paragraph = b"<p>" + b"Harbor Mail Server queue entry. " * 30 + b"</p>\n"
    filler = paragraph * (LARGE_PAGE_MB * 1024 * 1024 // len(paragraph))
    (copy / "large.html").write_bytes(head + filler + end + rest)
    return copy


def test_hundreds_of_clients_connecting_at_once_are_all_answered(site: Path) -> None:
    clients = 300

    async def all_at_once(port: int) -> list[bytes]:
        answers = (exchange(port, request("/kb/Q200101.html")) for _ in range(clients))
        return await asyncio.wait_for(asyncio.gather(*answers), timeout=8)

    with serving(site) as url:
        answers = run(all_at_once(port_of(url)))
    assert [status_of(answer) for answer in answers] == [200] * clients


def test_a_connection_that_keeps_the_server_waiting_is_closed(site: Path) -> None:
    """Silent, half a request, a request trickled a byte at a time, idle after an answer:
    each is closed about a second (the deadline here) after the server began to wait."""
    half = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"

    async def closed_after(port: int, sent: bytes, trickle: bool = False) -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        began = time.monotonic()

        async def send() -> None:
            pieces = [sent[i : i + 1] for i in range(len(sent))] if trickle else [sent]
            try:
                for piece in pieces:
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.2)
            except ConnectionError:
                pass

        sending = asyncio.create_task(send())
        try:
            while await asyncio.wait_for(reader.read(65536), timeout=6):
                pass  # an answer, then the keep-alive wait
            return time.monotonic() - began
        finally:
            sending.cancel()
            writer.close()

    async def all_kinds(port: int) -> list[float]:
        return await asyncio.gather(
            closed_after(port, b""),
            closed_after(port, half),
            closed_after(port, half * 20, trickle=True),
            closed_after(port, b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        )

    with serving(site, idle_seconds=1) as url:
        waited = run(all_kinds(port_of(url)))
        assert all(0.9 < seconds < 4 for seconds in waited), waited
        assert fetch(url)[0] == 200


def test_a_large_page_is_streamed_to_clients_that_do_not_read(site: Path) -> None:
    """Five clients ask for a 24 MB page, reload tag added, and read nothing: the server
    holds a chunk for each, not the page, and drops them once they stall."""
    size = (site / "large.html").stat().st_size
    clients = 5

    async def stall(port: int) -> tuple[bytes, int]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=65536)
        writer.write(request("/large.html"))
        await writer.drain()
        await asyncio.sleep(2.5)
        head = await reader.readuntil(b"\r\n\r\n")
        received = 0
        try:
            while chunk := await asyncio.wait_for(reader.read(1 << 20), timeout=6):
                received += len(chunk)
        except ConnectionResetError:
            pass
        writer.close()
        return head, received

    async def stall_all(port: int) -> list[tuple[bytes, int]]:
        return await asyncio.gather(*(stall(port) for _ in range(clients)))

    tracemalloc.start()
    try:
        with serving(site, Broadcaster(), idle_seconds=1) as url:
            answers = run(stall_all(port_of(url)))
            peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"{peak / 1e6:.0f} MB held for {clients} stalled clients"
    for head, received in answers:
        assert head.startswith(b"HTTP/1.1 200 ")
        assert f"content-length: {size + len(RELOAD_TAG)}\r\n".encode() in head.lower()
        assert received < size, "dropped once stalled, not sent the whole page"


BAD_PATHS = [
    "/index.html%00",
    "/%00",
    "/kb/Q200101.html%00.html",
    "/../../../../etc/passwd",
    "/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/kb/..%5c..%5c..%5cetc%5cpasswd",
    "//etc/passwd",
    "/%ff%fe",
    "/kb/",
    "/" + "a" * 5000,
]
MALFORMED = [b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", b"NONSENSE\r\n\r\n"]


def test_paths_that_are_not_pages_are_one_clean_answer(
    site: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    not_found = (site / "404.html").read_bytes()

    async def ask_all(port: int) -> list[bytes]:
        return [await exchange(port, request(path)) for path in BAD_PATHS] + [
            await exchange(port, raw) for raw in MALFORMED
        ]

    with serving(site) as url:
        answers = run(ask_all(port_of(url)))
        for path, answer in zip(BAD_PATHS, answers, strict=False):
            assert status_of(answer) == 404, path
            assert answer.endswith(not_found), path
        assert [status_of(answer) for answer in answers[len(BAD_PATHS) :]] == [400, 400]
    assert capfd.readouterr().err == ""


def test_revalidation_and_folders(site: Path) -> None:
    """A file the browser has is 304 (a page with the reload tag never is: it is not the
    file); a folder asked without its slash is sent to it."""

    def status(url: str, **headers: str) -> int:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            with error:
                return error.code

    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    folder = next(index.parent.name for index in site.glob("*/index.html"))
    for live, page_status in ((None, 304), (Broadcaster(), 200)):
        with serving(site, live) as url:
            with urllib.request.urlopen(url + "static/kbsite.css") as answer:
                tag = answer.headers["ETag"]
            assert status(url + "static/kbsite.css", **{"If-None-Match": tag}) == 304
            assert status(url, **{"If-Modified-Since": later}) == page_status
            assert fetch(url + folder) == fetch(url + folder + "/")
            assert fetch(url + folder)[0] == 200


@pytest.mark.parametrize(
    "page",
    [
        b"<html><head><title>x</title></head><body>text</body></html>",
        b"<HTML><HEAD></HEAD  >" + b"x" * 200,
        b"<p>no head at all</p>",
        b"",
    ],
)
def test_the_reload_tag_is_added_wherever_the_page_is_split(page: bytes) -> None:
    head = re.search(rb"</head\s*>", page, re.IGNORECASE)
    at = head.start() if head else len(page)
    expected = page[:at] + RELOAD_TAG + page[at:]
    for size in (1, 2, 3, 7, 64, 65, len(page) or 1):
        tagger = ReloadTagger()
        chunks = [page[i : i + size] for i in range(0, len(page), size)]
        assert b"".join(tagger.feed(chunk) for chunk in chunks) + tagger.end() == expected


def test_rebuilds_reach_open_event_streams(site: Path) -> None:
    live = Broadcaster()
    with serving(site, live) as url:
        head = urllib.request.Request(url + "kb/Q200101.html", method="HEAD")
        with urllib.request.urlopen(head, timeout=10) as answer:
            size = (site / "kb/Q200101.html").stat().st_size
            assert answer.headers["Content-Length"] == str(size + len(RELOAD_TAG))
            assert answer.read() == b""
        with urllib.request.urlopen(url + "_kbsite/events", timeout=10) as events:
            assert events.readline() == b"retry: 1000\n"
            threading.Timer(0.3, live.announce).start()
            assert [events.readline() for _ in range(3)] == [
                b"\n",
                b"id: 1\n",
                b"event: reload\n",
            ]
        missed = urllib.request.Request(url + "_kbsite/events", headers={"Last-Event-ID": "0"})
        with urllib.request.urlopen(missed, timeout=10) as events:
            assert [events.readline() for _ in range(4)][2:] == [b"id: 1\n", b"event: reload\n"]


def test_an_open_page_reloads_after_a_rebuild(site: Path, browser: Browser) -> None:
    """In Chromium, under the pages' Content-Security-Policy: the script loads, listens,
    and reloads the page when a rebuild is announced."""
    from playwright.sync_api import Error

    live = Broadcaster()
    with serving(site, live) as url:
        page = browser.new_page()
        problems: list[str] = []  # a CSP refusal, a failed load (the site has no favicon)
        page.on("console", lambda message: problems.append(f"{message.text} {message.location}"))
        try:
            page.goto(url + "kb/Q200101.html")
            page.evaluate("window.beforeRebuild = true")
            deadline = time.monotonic() + 15
            reloaded = False
            while not reloaded and time.monotonic() < deadline:
                live.announce()  # again until the page's stream is connected and hears it
                time.sleep(0.3)
                try:
                    reloaded = page.evaluate("window.beforeRebuild === undefined")
                except Error:  # asked while it was reloading
                    continue
            assert reloaded, "the page never reloaded"
        finally:
            page.close()
    assert [problem for problem in problems if "/favicon.ico" not in problem] == []


def test_sigterm_stops_at_once_with_connections_open(site: Path) -> None:
    serve = subprocess.Popen(
        [sys.executable, "-m", "kbsite", "serve", str(site), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        address = re.search(r"http://127\.0\.0\.1:(\d+)/", serve.stdout.readline())
        assert address is not None
        port = int(address.group(1))

        async def hold_then_stop() -> None:
            silent = await asyncio.open_connection("127.0.0.1", port)
            stalled = await asyncio.open_connection("127.0.0.1", port, limit=65536)
            stalled[1].write(request("/large.html"))
            await stalled[1].drain()
            await asyncio.sleep(0.5)
            serve.send_signal(signal.SIGTERM)
            await asyncio.get_running_loop().run_in_executor(None, serve.wait, 10)
            for _, writer in (silent, stalled):
                writer.close()

        run(hold_then_stop())
        assert serve.returncode == 0
        assert serve.stderr is not None and serve.stderr.read() == "Stopped serving.\n"
    finally:
        serve.kill()
        serve.wait()
        for stream in (serve.stdout, serve.stderr):
            if stream is not None:
                stream.close()
