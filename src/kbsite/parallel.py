"""Work spread over forked worker processes, results in order.

Workers are forked, so they inherit the parent's state (the linked site, settings)
without pickling it; only each item and its result cross between processes.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TypeVar

STOP_SECONDS = 5.0

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(
    func: Callable[[T], R], items: list[T], jobs: int, chunksize: int, window: int | None = None
) -> Generator[R, None, None]:
    """``map`` in order, over forked worker processes when jobs > 1.

    With a ``window``, at most two windows of results are held at once: ``Pool.imap``
    alone works as fast as the workers go however slowly its results are taken, so a
    slow consumer (the ZIM writer compressing) would let all the results pile up.
    """
    if jobs <= 1 or len(items) < 2 * chunksize:
        yield from map(func, items)
        return
    window = window or len(items)
    pool = None
    try:
        with _signals_held():
            pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_signals)
        pending: collections.deque[Iterator[R]] = collections.deque()
        for start in range(0, len(items), window):
            pending.append(pool.imap(func, items[start : start + window], chunksize))
            if len(pending) > 1:
                yield from pending.popleft()
        while pending:
            yield from pending.popleft()
    except BaseException:
        if pool is not None:
            _stop(pool)
        raise
    pool.close()
    pool.join()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the pool starts.

    Raised inside ``Pool()``, they would leave workers and the thread that replaces
    them running with no pool to stop them: at exit the workers are terminated, the
    thread forks new ones, and those outlive the program, holding its output pipes
    open. The workers inherit the held signals; ``_worker_signals`` lets them in.
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _stop(pool: multiprocessing.pool.Pool) -> None:
    """Stop the workers at once, waiting a few seconds at most.

    ``terminate`` can wait forever when a worker died by a signal while sending a
    result: for the result queue's lock it held, or for the rest of the result. Past the
    wait, the workers still running (the pool replaces a dead one) are killed: left
    alive, they would hold open every file this process had open when they were forked,
    such as the pipe another program waits to see closed.
    """
    stopper = threading.Thread(target=pool.terminate, daemon=True)
    stopper.start()
    stopper.join(timeout=STOP_SECONDS)
    for worker in list(pool._pool):  # type: ignore[attr-defined]  # no public handle
        if worker.exitcode is None:
            worker.kill()
            worker.join()


def _worker_signals() -> None:
    """Workers leave Ctrl-C to the main process, which stops them, and die on SIGTERM.

    The pool is closed, not terminated, when its work is done: a SIGTERM that reaches a
    worker before Python set up its signal handling is lost, and terminate() would then
    wait for that worker forever.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def default_jobs() -> int:
    """All the cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
