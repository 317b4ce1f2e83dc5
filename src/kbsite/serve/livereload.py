"""``kbsite serve --watch``'s live reload: HTML answers get ``<script src="/_kbsite/reload.js">``
before ``</head>`` as they are streamed (the files on disk stay exactly what ``kbsite build``
writes), and that script reloads the page when ``/_kbsite/events`` (server-sent events)
says a rebuild finished. Both are same-origin, which the pages' Content-Security-Policy
allows.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

RELOAD_SCRIPT = "/_kbsite/reload.js"
EVENTS = "/_kbsite/events"
RELOAD_JS = b"""\
// kbsite serve --watch: reload this page when the site has been rebuilt.
new EventSource("/_kbsite/events").addEventListener("reload", () => location.reload());
"""
RELOAD_TAG = b'<script src="/_kbsite/reload.js" defer></script>\n'
_HEAD_END = re.compile(rb"</head\s{0,32}>", re.IGNORECASE)
_HELD = 64
"""Bytes kept back from each chunk: longer than any ``</head>`` the pattern finds, so one
split between two chunks is still found."""

NO_CACHE = {"cache-control": "no-cache"}
"""Browsers revalidate every answer, so a reload after a rebuild shows the new site."""
KEEP_ALIVE_SECONDS = 15.0
"""A comment line on idle event streams, so a closed page's stream is noticed and ended."""


class ReloadTagger:
    """Adds the reload tag to a page given in chunks: before its first ``</head>``, or at
    the end of a page without one."""

    def __init__(self) -> None:
        self._held = b""
        self._tagged = False

    def feed(self, chunk: bytes) -> bytes:
        """What can be sent of the page so far."""
        if self._tagged:
            return chunk
        data = self._held + chunk
        match = _HEAD_END.search(data)
        if match is not None:
            self._tagged = True
            self._held = b""
            return data[: match.start()] + RELOAD_TAG + data[match.start() :]
        cut = max(0, len(data) - _HELD)
        self._held = data[cut:]
        return data[:cut]

    def end(self) -> bytes:
        """The rest of the page, once it has all been fed."""
        rest = self._held if self._tagged else self._held + RELOAD_TAG
        self._held = b""
        self._tagged = True
        return rest


async def reload_script(request: Request) -> Response:
    return Response(RELOAD_JS, media_type="text/javascript; charset=utf-8", headers=NO_CACHE)


class Broadcaster:
    """Tells every open page's event stream that the site was rebuilt.

    A counter, not a queue: a stream that missed several rebuilds needs one reload. The
    streams wait in the server's event loop; the watcher's thread announces into it.
    """

    def __init__(self) -> None:
        self.generation = 0
        self.closed = False
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Announce into ``loop`` from now on (the server's, where the streams wait)."""
        self._loop = loop

    def announce(self) -> None:
        """The site was rebuilt (from any thread)."""
        self._in_loop(self._advance)

    def close(self) -> None:
        """End every stream, so the server can stop (from any thread)."""
        self._in_loop(self._close)

    async def wait(self, seen: int, timeout: float) -> int | None:
        """The generation once it differs from ``seen`` (or after ``timeout``); None once closed."""
        if not self.closed and self.generation == seen:
            with anyio.move_on_after(timeout):
                await self._changed.wait()
        return None if self.closed else self.generation

    async def events(self, request: Request) -> Response:
        """``text/event-stream``: a ``reload`` event after each rebuild, until the server
        stops or the page goes away. A page that reconnects after missing a rebuild (its
        Last-Event-ID is not the current one) is told to reload at once."""
        headers = {**NO_CACHE, "content-type": "text/event-stream"}
        if request.method == "HEAD":
            return Response(headers=headers)
        last = request.headers.get("last-event-id", "")
        seen = int(last) if last.isdigit() else self.generation
        return StreamingResponse(self._stream(seen), headers=headers)

    async def _stream(self, seen: int) -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        if seen != self.generation:
            yield _reload_event(self.generation)
        seen = self.generation
        while (generation := await self.wait(seen, KEEP_ALIVE_SECONDS)) is not None:
            yield b": idle\n\n" if generation == seen else _reload_event(generation)
            seen = generation

    def _in_loop(self, change: Callable[[], None]) -> None:
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(change)
                return
            except RuntimeError:  # the loop has ended: nothing waits any more
                pass
        change()

    def _advance(self) -> None:
        self.generation += 1
        self._wake()

    def _close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


def _reload_event(generation: int) -> bytes:
    return f"id: {generation}\nevent: reload\ndata: {generation}\n\n".encode()
