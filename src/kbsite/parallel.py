"""Work spread over forked worker processes, results in order.

Workers are forked, so they inherit the parent's state (the linked site, settings)
without pickling it; only each item and its result cross between processes.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import dataclasses
import gc
import multiprocessing
import multiprocessing.pool
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

from kbsite.errors import INTERRUPTS, KbsiteError, interrupts_held

STOP_SECONDS = 5.0

T = TypeVar("T")
R = TypeVar("R")
F = TypeVar("F")


@dataclasses.dataclass(slots=True)
class Finish(Generic[F]):
    """What every process that mapped items does once after the last of them: each
    worker, or this process when the map ran here. A worker can so gather work across
    its items (a search segment of its own) and hand it back once, not item by item.

    The map's end does not wait for the workers' finishing: this process goes on with
    its own work meanwhile, and ``results`` waits for them (``cancel`` stops them)."""

    func: Callable[[], F]
    nice: int = 0
    """Added to the workers' niceness while they finish (``os.nice``): this process goes
    on meanwhile, and what it does may be what the program waits for first."""
    _results: list[F] = dataclasses.field(default_factory=list)
    _pending: tuple[Any, multiprocessing.pool.Pool] | None = None
    """The workers' finishing under way, and their pool, which it closes."""

    def results(self) -> list[F]:
        """``func``'s results, one for each process, in no particular order."""
        if self._pending is not None:
            waiting, pool = self._pending
            self._pending = None
            try:
                self._results.extend(waiting.get())
            except BaseException:
                _stop(pool)
                raise
            pool.close()
            pool.join()
        return self._results

    def cancel(self) -> None:
        """Stop the workers still finishing, if any."""
        if self._pending is not None:
            _, pool = self._pending
            self._pending = None
            _stop(pool)


def parallel_map(
    func: Callable[[T], R],
    items: list[T],
    jobs: int,
    chunksize: int,
    window: int | None = None,
    finish: Finish[F] | None = None,
) -> Generator[R, None, None]:
    """``map`` in order, over forked worker processes when jobs > 1.

    With a ``window``, at most two windows of results are held at once: ``Pool.imap``
    alone works as fast as the workers go however slowly its results are taken, so a
    slow consumer (the ZIM writer compressing) would let all the results pile up.
    """
    if not forks(len(items), jobs, chunksize):
        yield from map(func, items)
        if finish is not None:
            finish._results.append(finish.func())
        return
    window = window or len(items)
    pool = None
    try:
        with interrupts_held(), _frozen():  # raised inside Pool(), see _worker_signals
            barrier = multiprocessing.get_context("fork").Barrier(jobs)
            pool = multiprocessing.get_context("fork").Pool(
                jobs, _worker_start, (os.getpid(), threading.get_ident(), barrier)
            )
        pending: collections.deque[Iterator[R]] = collections.deque()
        for start in range(0, len(items), window):
            pending.append(pool.imap(func, items[start : start + window], chunksize))
            if finish is not None and start + window >= len(items):
                # queued behind every item: each worker takes one once it has no item left
                finishing = pool.map_async(
                    _finish_once, [(finish.func, finish.nice)] * jobs, chunksize=1
                )
                finish._pending = (finishing, pool)
            if len(pending) > 1:
                yield from pending.popleft()
        while pending:
            yield from pending.popleft()
    except BaseException:
        if finish is not None:
            finish._pending = None
        if pool is not None:
            _stop(pool)
        raise
    if finish is None:
        pool.close()
        pool.join()


def forks(count: int, jobs: int, chunksize: int) -> bool:
    """Whether ``parallel_map`` maps ``count`` items in forked workers, not in this
    process: with more than one job and at least two chunks of items."""
    return jobs > 1 and count >= 2 * chunksize


@contextlib.contextmanager
def _frozen() -> Iterator[None]:
    """Keep the collector from walking what this process holds in the workers forked
    within (``gc.freeze``): a collection in a worker writes to every object it visits,
    which copies the page each lives on, the whole linked site into every worker."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


_barrier: Any = None
"""In a pool's worker, the barrier its ``Finish`` waits at (``_worker_start``)."""


def _worker_start(parent: int, thread: int, barrier: Any) -> None:
    global _barrier
    _barrier = barrier
    _worker_signals(parent, thread)


def _finish_once(finish: tuple[Callable[[], F], int]) -> F:
    """Run a ``Finish``: each worker waits for the others at the barrier, so that no
    worker takes two of the pool's ``jobs`` finishing tasks and every worker takes one.
    (The pool ends with it: a niceness raised lasts no longer.)"""
    func, nice = finish
    if nice:
        os.nice(nice)
    try:
        return func()
    finally:
        _barrier.wait()


class Forked(Generic[R]):
    """``func()`` run in a forked process while this one goes on; ``result`` waits for it.

    The child starts as a copy of this process (nothing is pickled on the way in) and
    sends back only what ``func`` returns or raises. Like a pool worker it leaves Ctrl-C
    to this process, which stops it (``cancel``), and it leaves by ``os._exit``: it never
    flushes or closes what this process still holds. Files this process has open with
    data still buffered must be flushed before: the child's copies share their offsets.
    """

    def __init__(self, func: Callable[[], R]) -> None:
        read, write = os.pipe()
        parent = (os.getpid(), threading.get_ident())
        with interrupts_held():  # the child must not be stopped before its handlers are set
            pid = os.fork()
        if pid == 0:
            os.close(read)
            _run_forked(func, write, parent)
        os.close(write)
        self.pid: int | None = pid
        self._pipe = read

    def result(self) -> R:
        """Wait for the child; what ``func`` returned, or raise what it raised."""
        with os.fdopen(self._pipe, "rb") as pipe:
            data = pipe.read()
        assert self.pid is not None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if not data:
            raise KbsiteError(f"a background process ended before it finished ({_ended(status)})")
        done, value = pickle.loads(data)
        if not done:
            raise value
        result: R = value
        return result

    def cancel(self) -> None:
        """Stop the child, if it still runs, and wait for it to be gone."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.pid = None
        os.close(self._pipe)


def _run_forked(func: Callable[[], R], pipe: int, parent: tuple[int, int]) -> None:
    """The child's side of ``Forked``: never returns."""
    code = 1
    try:
        _worker_signals(*parent)
        gc.disable()  # a short life: collecting would only copy the parent's pages
        try:
            outcome: tuple[bool, object] = (True, func())
        except BaseException as exc:  # sent to the parent, which raises it
            outcome = (False, exc)
        try:
            data = pickle.dumps(outcome)
        except Exception as exc:  # an unpicklable result or exception
            data = pickle.dumps((False, KbsiteError(f"{outcome[1]!r} ({exc})")))
        with os.fdopen(pipe, "wb") as out:
            out.write(data)
        code = 0
    finally:
        os._exit(code)


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


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


def _worker_signals(parent: int, thread: int) -> None:
    """Workers leave Ctrl-C to the main process, which stops them, die on SIGTERM, and
    die with the main process however it ends (``_die_with``).

    The pool starts with both held (``interrupts_held``): an interrupt raised inside
    ``Pool()`` would leave workers and the thread that replaces them running with no
    pool to stop them, and at exit that thread forks new workers that outlive the
    program, holding its output pipes open. A worker lets them in once its own
    handlers are set, so a SIGTERM sent to it that early is delivered, not lost.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # a result sent to a main process that was killed ends the worker without a word,
    # where Python's default would print a BrokenPipeError for each worker
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _die_with(parent, thread)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)


def _die_with(parent: int, thread: int) -> None:
    """Have the kernel kill this forked process when ``parent`` (the process that forked
    it) dies, even by SIGKILL: no worker or background commit outlives its build. Linux
    only (prctl PR_SET_PDEATHSIG); elsewhere the parent's ``cancel`` and ``_stop`` remain.

    The signal comes when the forking *thread* ends: a worker the pool's own thread forks
    to replace a dead one would die with that thread, maybe holding the pool's task
    queue lock, so only processes forked by the thread that made the pool (``thread``,
    whose id a forked child keeps) ask for it."""
    if _PRCTL is None or threading.get_ident() != thread:
        return
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PR_SET_PDEATHSIG = 1
_PRCTL = _libc_prctl()


def default_jobs() -> int:
    """All the cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def is_running(pid: int) -> bool:
    """Whether a process is alive: whose leftovers (a staging folder, a spool) are not
    to be removed."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
