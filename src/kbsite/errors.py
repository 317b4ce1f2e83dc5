"""The few ways kbsite can fail, and the problems it reports without failing.

Every error and warning names the file and, where known, the line, and prints as
``path:line: level: message`` like a compiler, so editors and CI logs can jump to it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import signal
from collections.abc import Iterator
from pathlib import Path

INTERRUPTS = {signal.SIGINT, signal.SIGTERM}
"""The signals that stop a command with one line (``cli.interruptible``)."""


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends, then stop the command as usual:
    for steps that must not be cut in two. Processes forked inside inherit the hold."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


class Level(str, enum.Enum):
    """How bad a problem is: errors fail the build, warnings only under ``--strict``."""

    WARNING = "warning"
    ERROR = "error"


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One thing worth telling the user about an input file."""

    path: Path | None
    """The file the problem is in, if any."""
    line: int | None
    """1-based line number in that file, if known."""
    level: Level
    message: str
    """Fixed wording per kind of problem, so tests and scripts can match it."""

    def __str__(self) -> str:
        return f"{_where(self.path, self.line)}{self.level.value}: {self.message}"


class KbsiteError(Exception):
    """Base of every error kbsite raises on purpose; the CLI prints it as one line."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        return f"{_where(self.path, self.line)}{self.message}"

    def as_problem(self) -> Problem:
        return Problem(self.path, self.line, Level.ERROR, self.message)


class SourceError(KbsiteError):
    """A source file cannot be read at all (missing, unreadable, not text)."""


class ArticleError(KbsiteError):
    """A file was read but holds no recoverable article (no id anywhere)."""


class ConfigError(KbsiteError):
    """The settings file (kbsite.toml) is unreadable or holds a wrong setting."""


class OutputError(KbsiteError):
    """The output folder cannot be written safely (bad path, two pages to one file)."""


class ServeError(KbsiteError):
    """``kbsite serve`` cannot start: no site to serve, the port is taken, nothing to watch."""


def _where(path: Path | None, line: int | None) -> str:
    if path is None:
        return ""
    return f"{path}:{line}: " if line else f"{path}: "
