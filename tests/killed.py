"""``python -m tests.killed POINT [PAUSE] -- ARGS...``: ``kbsite ARGS`` (a real build) that
SIGKILLs itself at POINT: ``writing`` (the pages being staged, the search indexes not yet)
or one of the publish's points (``generations.KILL_POINTS``); ``none`` lets it finish.
PAUSE seconds are slept before the publish, for a second build to meet this one."""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from kbsite.cli import main as kbsite_main
from kbsite.output import journal
from kbsite.search.work import SearchWork

from .generations import KILL_POINTS, kill_at

POINTS = ("writing", *KILL_POINTS)


def _die_writing() -> None:
    real = SearchWork.write_web_index

    def write_web_index(*arguments: Any) -> Any:
        os.kill(os.getpid(), signal.SIGKILL)
        return real(*arguments)

    SearchWork.write_web_index = write_web_index  # type: ignore[method-assign]


def _pause_before_publishing(seconds: float) -> None:
    real = journal.run

    def run(*arguments: Any) -> None:
        print("publishing", flush=True)
        time.sleep(seconds)
        real(*arguments)

    journal.run = run  # type: ignore[assignment]


def main() -> None:
    point, *rest = sys.argv[1 : sys.argv.index("--")]
    if point == "writing":
        _die_writing()
    elif point != "none":
        kill_at(point)
    if rest:
        _pause_before_publishing(float(rest[0]))
    sys.argv = ["kbsite", *sys.argv[sys.argv.index("--") + 1 :]]  # as the lock names it
    kbsite_main(sys.argv[1:], prog_name="kbsite")


if __name__ == "__main__":
    main()
