"""The preview server of ``kbsite serve``: uvicorn (HTTP/1.1 over asyncio) and Starlette,
serving the site's files (``sitefiles.py``), with what a preview needs on top:

- a connection that keeps the server waiting (for a whole request, between requests, or
  for it to read what was sent) is closed after ``idle_seconds``; thousands of waiting
  connections cost memory for their buffers, never a thread each;
- with live reload (``--watch``), the reload script and events (``livereload.py``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from types import TracebackType

import h11
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from uvicorn import Config, Server
from uvicorn.protocols.http.h11_impl import H11Protocol

from kbsite.errors import ServeError
from kbsite.serve.livereload import EVENTS, RELOAD_SCRIPT, Broadcaster, reload_script
from kbsite.serve.sitefiles import SiteFiles

HOST = "127.0.0.1"
"""Only this computer: a preview is not for publishing."""
BACKLOG = 1024
"""Connections the system queues before the server accepts them: hundreds of clients
connecting at once wait their turn rather than being refused or retried."""
IDLE_SECONDS = 10
"""How long a connection may keep the server waiting before it is closed."""
STOP_SECONDS = 1.0
"""How long the server may take to close its connections when it stops, before it is
made to stop waiting for them."""


def preview_app(site: Path, live: Broadcaster | None) -> Starlette:
    """The site's files, and when watching the reload script and the rebuild events."""
    routes: list[BaseRoute] = []
    if live is not None:
        routes += [Route(RELOAD_SCRIPT, reload_script), Route(EVENTS, live.events)]
    routes.append(Mount("/", SiteFiles(site, live)))
    return Starlette(routes=routes)


class WaitingDeadlines(H11Protocol):
    """uvicorn's HTTP/1.1, which closes a connection idle between requests, made to close
    one that keeps it waiting otherwise too: a request must arrive whole within
    ``timeout_keep_alive`` of its first byte (however slowly it trickles), and a client
    must read what is sent within as long once the send buffer is full. When the server
    stops, answers still being sent are cut rather than waited for."""

    _request_deadline: asyncio.TimerHandle | None = None
    _read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._await_request()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE or (
            self.cycle is not None and self.cycle.response_complete
        ):
            self._await_request()
        elif self._request_deadline is not None:
            self._request_deadline.cancel()
            self._request_deadline = None

    def pause_writing(self) -> None:
        super().pause_writing()
        self._read_deadline = self.loop.call_later(self.timeout_keep_alive, self.transport.abort)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        for deadline in (self._request_deadline, self._read_deadline):
            if deadline is not None:
                deadline.cancel()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.abort()
        else:
            super().shutdown()

    def _await_request(self) -> None:
        if self._request_deadline is None:
            self._request_deadline = self.loop.call_later(
                self.timeout_keep_alive, self.transport.close
            )


class PreviewServer:
    """``site`` served on ``HOST``:``port`` (0 picks a free port) from a thread of its own,
    between ``start()`` and ``stop()`` (or as a context manager)."""

    def __init__(
        self, site: Path, port: int, live: Broadcaster | None, idle_seconds: int = IDLE_SECONDS
    ) -> None:
        self.live = live
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((HOST, port))
            self._socket.listen(BACKLOG)
        except OSError as exc:
            self._socket.close()
            raise ServeError(
                f"cannot listen on {HOST}:{port}: {exc.strerror or exc}", site
            ) from exc
        config = Config(
            preview_app(site.resolve(), live),
            host=HOST,
            port=self.port,
            http=WaitingDeadlines,
            backlog=BACKLOG,
            timeout_keep_alive=idle_seconds,
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            log_config=None,
            log_level="error",
            access_log=False,
        )
        self._server = Server(config)
        self._thread = threading.Thread(target=self._run, name="kbsite-serve", daemon=True)

    @property
    def port(self) -> int:
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop answering: event streams end, answers in progress are cut."""
        if self.live is not None:
            self.live.close()
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(STOP_SECONDS)
            self._server.force_exit = True
            self._thread.join()
        self._socket.close()

    def __enter__(self) -> PreviewServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        if self.live is not None:
            self.live.attach(asyncio.get_running_loop())
        await self._server.serve(sockets=[self._socket])
