"""``kbsite serve``: a preview of the built site on this computer, rebuilt as sources change.

The server (``preview.py``) and the live reload of open pages (``livereload.py``) run in a
thread of their own, the watcher in another; the main thread only waits, so Ctrl-C lands
there and never in the middle of a build's swap.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from kbsite.build import BuildOptions
from kbsite.errors import KbsiteError, ServeError
from kbsite.incremental.session import BuildSession
from kbsite.output.write import read_site_marker
from kbsite.report import BuildReport
from kbsite.search.location import default_index_dir
from kbsite.serve.livereload import Broadcaster
from kbsite.serve.server import PreviewServer

DEBOUNCE_MS = 1600
"""At most this long is spent gathering one burst of changes into one rebuild."""
QUIET_MS = 50
"""A burst ends after this long without a change (an editor saving several files)."""
IDLE_MS = 500
"""The watch yields nothing after this long without changes: it is running."""


def is_site(folder: Path) -> bool:
    """Whether ``folder`` holds a site kbsite built (it has the marker file)."""
    return read_site_marker(folder) is not None


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
    watcher: threading.Thread | None = None
    try:
        server.start()
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
            if not server.running:
                raise ServeError("the server stopped", site)
            if watcher is not None and not watcher.is_alive():
                raise ServeError("the watcher stopped", watched[0])
    finally:
        stop.set()
        server.stop()
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

    The builds share a ``BuildSession``, which keeps the last build's state in memory and
    reloads open pages as soon as the changed pages are in place; between bursts it
    takes the state of a site already built from disk (``prime``), once, and
    ``settle``s the cache of the last build.
    """
    import watchfiles

    output = options.output.resolve()
    index = (options.index or default_index_dir(options.output)).resolve()
    default = watchfiles.DefaultFilter()
    session = BuildSession(options, live.announce)
    primed = False

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
            _quietly(session.settle if primed else session.prime)
            primed = True
            continue
        primed = True
        rebuilt(_rebuild(session, [Path(path) for _, path in changes], len(changes)))


def _quietly(step: Callable[[], object]) -> None:
    """A step between rebuilds, which only saves the next one time: if it fails, the
    next rebuild reads the site's state from disk, and says what is wrong."""
    try:
        step()
    except Exception:  # an isolation boundary: serving goes on
        return


def _rebuild(session: BuildSession, paths: list[Path], changes: int) -> Rebuild:
    """Build again after ``paths`` changed (``changes`` changes); a failure keeps the
    previous site (the build only swaps when done)."""
    try:
        return Rebuild(changes, session.rebuild(paths))
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
