"""What the serve tests share: a server in a thread, a plain fetch, and raw connections
that behave as badly as a test needs."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from kbsite.serve.livereload import Broadcaster
from kbsite.serve.server import PreviewServer


@contextmanager
def serving(site: Path, live: Broadcaster | None = None, idle_seconds: int = 10) -> Iterator[str]:
    """The address of ``site`` served until the block ends."""
    with PreviewServer(site, 0, live, idle_seconds) as server:
        yield server.url


T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: once a browser test has run, Playwright's
    sync API keeps an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def port_of(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


async def exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` on a new connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0
