"""Work over forked workers: results in order, and a pool that always stops."""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kbsite.errors import KbsiteError
from kbsite.parallel import Finish, Forked, parallel_map

BIG = 20_000_000


def _square(n: int) -> int:
    return n * n


def _big(n: int) -> bytes:
    """A result large enough that a worker spends its time sending it."""
    return bytes([n % 256]) * BIG


def test_results_come_in_order_whatever_the_jobs() -> None:
    items = list(range(1000))
    expected = [n * n for n in items]
    assert list(parallel_map(_square, items, 1, chunksize=8)) == expected
    assert list(parallel_map(_square, items, 2, chunksize=8)) == expected
    assert list(parallel_map(_square, items, 2, chunksize=8, window=100)) == expected


_seen: list[int] = []


def _note(item: int) -> int:
    _seen.append(item)
    return item


def _items_seen() -> tuple[int, list[int]]:
    return os.getpid(), list(_seen)


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_each_process_finishes_once_with_what_it_mapped(jobs: int) -> None:
    """``Finish`` runs once in every process that mapped items (this one when the map
    ran here), after its last item, and sees what that process gathered."""
    items = list(range(400))
    finish = Finish(_items_seen)
    assert list(parallel_map(_note, items, jobs, chunksize=8, finish=finish)) == items
    pids = [pid for pid, _ in finish.results()]
    assert len(pids) == len(set(pids)) == jobs
    assert (pids == [os.getpid()]) == (jobs == 1)
    assert sorted(i for _, seen in finish.results() for i in seen) == items
    _seen.clear()


def _niceness() -> int:
    return os.nice(0)


def test_the_workers_finish_at_the_niceness_asked_for() -> None:
    """A ``Finish`` with ``nice`` leaves the core to this process, which goes on."""
    ours = os.nice(0)
    finish = Finish(_niceness, nice=5)
    assert list(parallel_map(_note, list(range(100)), 2, chunksize=4, finish=finish))
    assert finish.results() == [min(ours + 5, 19)] * 2
    assert os.nice(0) == ours
    _seen.clear()


def _marker_seen(marker: Path) -> bool:
    deadline = time.monotonic() + 10
    while not marker.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_map_ends_while_the_workers_still_finish(tmp_path: Path) -> None:
    """The last item does not wait for the workers' ``Finish``: this process goes on
    (here: makes the file the workers wait for) and ``results`` waits for them."""
    marker = tmp_path / "go"
    finish = Finish(functools.partial(_marker_seen, marker))
    assert list(parallel_map(_note, list(range(100)), 2, chunksize=4, finish=finish))
    marker.touch()
    assert finish.results() == [True, True]
    _seen.clear()


def test_a_cancelled_finish_stops_its_workers(tmp_path: Path) -> None:
    finish = Finish(functools.partial(_marker_seen, tmp_path / "never"))
    assert list(parallel_map(_note, list(range(100)), 2, chunksize=4, finish=finish))
    started = time.monotonic()
    finish.cancel()
    assert time.monotonic() - started < 5
    assert not multiprocessing.active_children()
    _seen.clear()


def test_workers_stopped_by_sigterm_while_sending_do_not_hang_the_pool() -> None:
    """A worker killed while it held the result queue's lock left the main process
    waiting for that lock forever when it stopped the pool."""
    results = parallel_map(_big, list(range(40)), 2, chunksize=1)
    assert len(next(results)) == BIG
    for _ in range(3):
        for worker in multiprocessing.active_children():
            with contextlib.suppress(ProcessLookupError):  # ended since it was listed
                os.kill(worker.pid, signal.SIGTERM)  # type: ignore[arg-type]
        time.sleep(0.05)
    stopper = threading.Thread(target=results.close, daemon=True)
    stopper.start()
    stopper.join(timeout=60)
    assert not stopper.is_alive(), "stopping the pool hung"
    assert [w.pid for w in multiprocessing.active_children()] == []


INTERRUPTED_WHILE_STARTING = """
import multiprocessing.pool, multiprocessing.util, os, signal, sys, threading
from kbsite.errors import KbsiteError
from kbsite.parallel import Forked, parallel_map

def interrupt(signum, frame):
    raise KeyboardInterrupt

def square(n):
    return n * n

real_finalize = multiprocessing.util.Finalize

def finalize(obj, callback, *args, **kwargs):
    if callback == multiprocessing.pool.Pool._terminate_pool:
        os.kill(os.getpid(), signal.SIGINT)  # the pool's threads run, it is not returned yet
    return real_finalize(obj, callback, *args, **kwargs)

signal.signal(signal.SIGINT, interrupt)
multiprocessing.util.Finalize = finalize
try:
    list(parallel_map(square, list(range(100)), 2, chunksize=1))
except KeyboardInterrupt:
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    left += [str(p) for p in multiprocessing.active_children()]
    sys.exit(f"still running: {left}" if left else 130)
"""


def test_ctrl_c_while_the_pool_starts_leaves_no_worker_behind() -> None:
    """Raised inside ``Pool()``, the interrupt left a pool nobody stopped: at exit its
    thread replaced the terminated workers, and the new ones held the output open."""
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_WHILE_STARTING],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, stderr = child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        raise AssertionError("a worker outlived the interrupted program") from None
    assert child.returncode == 130, stderr
    with pytest.raises(ProcessLookupError):
        os.killpg(child.pid, 0)


def _fail() -> None:
    raise ValueError("no good")


def test_a_forked_call_returns_or_raises_what_its_function_did() -> None:
    assert Forked(lambda: {"pid": os.getpid()}).result()["pid"] != os.getpid()
    with pytest.raises(ValueError, match="no good"):
        Forked(_fail).result()


def test_a_forked_call_that_dies_says_how() -> None:
    call = Forked(lambda: time.sleep(60))
    assert call.pid is not None
    os.kill(call.pid, signal.SIGKILL)
    with pytest.raises(KbsiteError, match=r"ended before it finished \(killed by SIGKILL\)"):
        call.result()


def test_a_cancelled_forked_call_is_gone_at_once() -> None:
    call = Forked(lambda: time.sleep(60))
    pid = call.pid
    started = time.monotonic()
    call.cancel()
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid or 0, os.WNOHANG)  # reaped: no zombie left either


KILLED_PARENT = """
import os, sys, time
from kbsite.parallel import Forked, parallel_map

def slow(n):
    time.sleep(0.02)
    return bytes(200_000)  # big enough that sending it meets the closed pipe

if sys.argv[1] == "forked":
    child = Forked(lambda: time.sleep(60))
    print(child.pid, flush=True)
    time.sleep(60)
else:
    for _ in parallel_map(slow, list(range(10_000)), 2, chunksize=1):
        print(os.getpid(), flush=True)
        time.sleep(60)
"""


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError):
            stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
            if stat.rpartition(")")[2].split()[1:2] == [str(pid)]:
                children.append(int(entry))
    return children


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("kind", ["forked", "pool"])
def test_no_child_outlives_a_killed_parent_nor_says_a_word(kind: str) -> None:
    """A build killed by SIGKILL takes its background commit and its workers with it;
    workers whose results meet the closed pipe end silently (no BrokenPipeError)."""
    with subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT, kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as parent:
        assert parent.stdout is not None
        parent.stdout.readline()
        children = _children_of(parent.pid)
        assert children
        os.kill(parent.pid, signal.SIGKILL)
        _, errors = parent.communicate(timeout=30)  # ends once every child let go of stderr
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") for pid in children):
        assert time.monotonic() < deadline, "a child outlived its parent"
        time.sleep(0.05)
    assert errors == ""
