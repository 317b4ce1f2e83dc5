"""``kbsite serve``: a preview of the built site on this computer, rebuilt as sources change.

The standard library's ``ThreadingHTTPServer`` and ``SimpleHTTPRequestHandler`` serve
the files; kbsite adds only what a preview needs on top:

- the site folder is looked up by its path on every request, never held open, because
  each build swaps a new folder in by rename;
- missing paths get the site's own ``404.html`` (with status 404), folders without an
  index get 404 rather than a listing, as on a typical static host;
- with ``--watch``, HTML responses get ``<script src="/_kbsite/reload.js">`` before
  ``</head>`` on the fly (the files on disk stay exactly what ``kbsite build`` writes),
  and that script reloads the page when ``/_kbsite/events`` (server-sent events) says a
  rebuild finished. Both are same-origin, which the pages' Content-Security-Policy allows.

Threads: the server and the watcher each run in a thread; the main thread only waits,
so Ctrl-C lands there and never in the middle of a build's swap.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import re
import socketserver
import sys
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from kbsite.build import BuildOptions, build_site
from kbsite.errors import KbsiteError, ServeError
from kbsite.output.write import read_site_marker
from kbsite.report import BuildReport
from kbsite.search.index import default_index_dir

HOST = "127.0.0.1"
"""Only this computer: a preview is not for publishing."""
DEFAULT_PORT = 8000

RELOAD_SCRIPT = "/_kbsite/reload.js"
EVENTS = "/_kbsite/events"
RELOAD_JS = b"""\
// kbsite serve --watch: reload this page when the site has been rebuilt.
new EventSource("/_kbsite/events").addEventListener("reload", () => location.reload());
"""
RELOAD_TAG = b'<script src="/_kbsite/reload.js" defer></script>\n'
_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)

KEEP_ALIVE_SECONDS = 15.0
"""A comment line on idle event streams, so a closed page's stream is noticed and ended."""
DEBOUNCE_MS = 1600
"""At most this long is spent gathering one burst of changes into one rebuild."""
QUIET_MS = 200
"""A burst ends after this long without a change (an editor saving several files)."""
IDLE_MS = 500
"""The watch yields nothing after this long without changes: it is running."""


def is_site(folder: Path) -> bool:
    """Whether ``folder`` holds a site kbsite built (it has the marker file)."""
    return read_site_marker(folder) is not None


class Broadcaster:
    """Tells every open page's event stream that the site was rebuilt.

    A counter, not a queue: a stream that missed several rebuilds needs one reload.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.generation = 0
        self.closed = False

    def announce(self) -> None:
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def close(self) -> None:
        """End every stream, so their threads finish when the server stops."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int | None:
        """The generation once it differs from ``seen`` (or after ``timeout``); None once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or self.generation != seen, timeout)
            return None if self.closed else self.generation


def inject_reload(html: bytes) -> bytes:
    """The page with the reload script added before ``</head>`` (at the end without one)."""
    match = _HEAD_END.search(html)
    if match is None:
        return html + RELOAD_TAG
    return html[: match.start()] + RELOAD_TAG + html[match.start() :]


class PreviewServer(ThreadingHTTPServer):
    """The HTTP server, with what its handlers share: the site and, when watching, the
    broadcaster of rebuilds."""

    daemon_threads = True

    def __init__(self, site: Path, port: int, live: Broadcaster | None) -> None:
        self.site = site.resolve()
        self.live = live
        handler = functools.partial(SiteHandler, directory=str(self.site))
        try:
            super().__init__((HOST, port), handler)
        except OSError as exc:
            raise ServeError(
                f"cannot listen on {HOST}:{port}: {exc.strerror or exc}", site
            ) from exc

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def server_bind(self) -> None:
        """Bind without ``HTTPServer``'s reverse DNS look-up of the address, which can
        take seconds on a machine without a resolver and tells nothing about 127.0.0.1."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser closing a connection mid-answer is normal; anything else is printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves the site's files, its 404 page, and when watching the reload script and
    the rebuild events."""

    server: PreviewServer

    def send_head(self) -> io.BytesIO | BinaryIO | None:
        live = self.server.live
        route = urlsplit(self.path).path
        if live is not None:
            if route == RELOAD_SCRIPT:
                return self._answer(HTTPStatus.OK, RELOAD_JS, "text/javascript; charset=utf-8")
            if route == EVENTS:
                self._stream_events(live)
                return None
            page = self._html_file(route)
            if page is not None:
                try:
                    html = page.read_bytes()
                except OSError:  # swapped away between the look-up and the read
                    return super().send_head()
                return self._answer(HTTPStatus.OK, inject_reload(html), "text/html; charset=utf-8")
        return super().send_head()

    def _html_file(self, route: str) -> Path | None:
        path = Path(self.translate_path(route))
        if route.endswith("/"):
            path = path / "index.html"
        return path if path.suffix == ".html" and path.is_file() else None

    def _answer(self, status: HTTPStatus, body: bytes, content_type: str) -> io.BytesIO:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def end_headers(self) -> None:
        """Browsers revalidate every file, so a reload after a rebuild shows the new site."""
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The site's own 404 page, with status 404, for paths it does not have."""
        not_found = Path(self.directory) / "404.html"
        if code != HTTPStatus.NOT_FOUND or self.command not in ("GET", "HEAD"):
            super().send_error(code, message, explain)
            return
        try:
            html = not_found.read_bytes()
        except OSError:
            super().send_error(code, message, explain)
            return
        if self.server.live is not None:
            html = inject_reload(html)
        body = self._answer(HTTPStatus.NOT_FOUND, html, "text/html; charset=utf-8")
        if self.command == "GET":
            self.wfile.write(body.getvalue())

    def list_directory(self, path: str | os.PathLike[str]) -> io.BytesIO | None:
        """No listings: a folder without index.html is 404, as on most static hosts."""
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def _stream_events(self, live: Broadcaster) -> None:
        """``text/event-stream``: a ``reload`` event after each rebuild, until the server
        stops or the page goes away. A page that reconnects after missing a rebuild (its
        Last-Event-ID is not the current one) is told to reload at once."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if self.command == "HEAD":
            return
        last = self.headers.get("Last-Event-ID", "")
        seen = int(last) if last.isdigit() else live.generation
        try:
            self.wfile.write(b"retry: 1000\n\n")
            if seen != live.generation:
                self.wfile.write(_reload_event(live.generation))
            seen = live.generation
            while (generation := live.wait(seen, KEEP_ALIVE_SECONDS)) is not None:
                self.wfile.write(b": idle\n\n" if generation == seen else _reload_event(generation))
                seen = generation
        except ConnectionError:
            return

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal is for the rebuild summaries and problems."""


def _reload_event(generation: int) -> bytes:
    return f"id: {generation}\nevent: reload\ndata: {generation}\n\n".encode()


@dataclasses.dataclass(frozen=True, slots=True)
class Rebuild:
    """What one rebuild did, for the line printed about it."""

    changes: int
    """File changes (added, modified, deleted) gathered into it."""
    report: BuildReport | None
    """The build's report; None when it failed and the previous site is still served."""
    error: KbsiteError | None = None


def serve_site(
    site: Path,
    port: int,
    rebuild: BuildOptions | None,
    started: Callable[[str, list[Path]], None],
    rebuilt: Callable[[Rebuild], None],
) -> None:
    """Serve ``site`` until interrupted (KeyboardInterrupt), rebuilding it from
    ``rebuild``'s sources when they change if given.

    ``started`` gets the address and the watched paths once the server listens;
    ``rebuilt`` is called from the watcher thread after each rebuild.
    """
    live = Broadcaster() if rebuild is not None else None
    server = PreviewServer(site, port, live)
    stop = threading.Event()
    server_thread = threading.Thread(target=server.serve_forever, name="kbsite-serve", daemon=True)
    watcher: threading.Thread | None = None
    try:
        server_thread.start()
        watched: list[Path] = []
        if rebuild is not None and live is not None:
            watched = watched_paths(rebuild)
            ready = threading.Event()
            watcher = threading.Thread(
                target=_watch,
                args=(rebuild, watched, stop, ready, live, rebuilt),
                name="kbsite-watch",
                daemon=True,
            )
            watcher.start()
            while not ready.wait(0.25):
                if not watcher.is_alive():
                    raise ServeError("the watcher stopped before it started", watched[0])
        started(server.url, watched)
        while not stop.wait(0.25):  # a timeout, so a signal reaching another thread is seen
            if watcher is not None and not watcher.is_alive():
                raise ServeError("the watcher stopped", watched[0])
    finally:
        stop.set()
        if server_thread.is_alive():
            server.shutdown()
        if live is not None:
            live.close()
        server.server_close()
        if watcher is not None:
            watcher.join()


def watched_paths(options: BuildOptions) -> list[Path]:
    """The sources and the theme folder, those that exist."""
    theme = options.settings.templates
    paths = [*options.sources, *([theme] if theme is not None else [])]
    found = [p.resolve() for p in paths if p.exists()]
    if not found:
        where = ", ".join(str(p) for p in paths)
        raise ServeError(f"nothing to watch: none of {where} exists")
    return found


def _watch(
    options: BuildOptions,
    paths: list[Path],
    stop: threading.Event,
    ready: threading.Event,
    live: Broadcaster,
    rebuilt: Callable[[Rebuild], None],
) -> None:
    """Rebuild after each burst of changes. The watch yields nothing now and then, which
    says it is running: changes made before that could be missed, so ``ready`` waits for it.
    """
    import watchfiles

    output = options.output.resolve()
    index = (options.index or default_index_dir(options.output)).resolve()
    default = watchfiles.DefaultFilter()

    def relevant(change: watchfiles.Change, path: str) -> bool:
        return default(change, path) and not _written_by_build(Path(path), (output, index))

    for changes in watchfiles.watch(
        *paths,
        watch_filter=relevant,
        debounce=DEBOUNCE_MS,
        step=QUIET_MS,
        stop_event=stop,
        rust_timeout=IDLE_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        ready.set()
        if not changes:
            continue
        result = _rebuild(options, len(changes))
        rebuilt(result)
        if result.report is not None:
            live.announce()


def _rebuild(options: BuildOptions, changes: int) -> Rebuild:
    """Build again; a failure keeps the previous site (the build only swaps when done)."""
    try:
        return Rebuild(changes, build_site(options))
    except KbsiteError as exc:
        return Rebuild(changes, None, exc)
    except Exception as exc:  # an isolation boundary: a failed rebuild must not stop serving
        return Rebuild(changes, None, KbsiteError(f"internal error while rebuilding: {exc!r}"))


def _written_by_build(path: Path, outputs: tuple[Path, ...]) -> bool:
    """Whether a change is the build's own writing (output inside a watched source):
    the site, the index, or their staging folders beside them."""
    return any(
        path == folder
        or folder in path.parents
        or any(
            p.parent == folder.parent and p.name.startswith(_hidden(folder) + ".")
            for p in _and_parents(path)
        )
        for folder in outputs
    )


def _and_parents(path: Path) -> Iterator[Path]:
    yield path
    yield from path.parents


def _hidden(folder: Path) -> str:
    return folder.name if folder.name.startswith(".") else f".{folder.name}"
