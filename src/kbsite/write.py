"""Stage 6: put pages on disk, safely.

The writer builds the new site in a staging folder beside OUTPUT and swaps it in only
when the build finished, so a failed build leaves the previous site as it was. It
accepts only plain relative paths made of safe characters, never writes two pages to
one path, and never replaces a folder that kbsite did not write.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from kbsite.errors import OutputError

MARKER = ".kbsite-site"
"""A file in every output folder kbsite writes; its presence allows replacing the folder."""

_SAFE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class SiteWriter:
    """Writes one site into a staging folder and publishes it at ``output``."""

    def __init__(self, output: Path) -> None:
        self.output = output.resolve()
        _check_replaceable(self.output)
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(
            tempfile.mkdtemp(prefix=f".{self.output.name}.building-", dir=self.output.parent)
        )
        self.written: set[str] = set()
        self._folders: set[Path] = set()

    def path_for(self, relative: str) -> Path:
        """The staging path for a page, after checking the relative path is safe."""
        parts = relative.split("/")
        if not all(_SAFE_PART.fullmatch(p) for p in parts) or any(p in (".", "..") for p in parts):
            raise OutputError(f"refusing to write unsafe output path {relative!r}", self.output)
        return self.staging.joinpath(*parts)

    def write_text(self, relative: str, content: str) -> None:
        if relative in self.written:
            raise OutputError(f"two pages would be written to {relative}", self.output)
        self.written.add(relative)
        self.write_unchecked(relative, content)

    def write_unchecked(self, relative: str, content: str) -> None:
        """Write without the duplicate check: for workers, whose paths the parent checked."""
        target = self.path_for(relative)
        folder = target.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        target.write_text(content, encoding="utf-8")

    def copy_tree(self, source: Path, relative: str) -> None:
        shutil.copytree(source, self.path_for(relative), dirs_exist_ok=True)

    def publish(self, notes: dict[str, str] | None = None) -> None:
        """Swap the finished staging folder in place of the old site.

        ``notes`` go into the marker file, for later commands (where the index is).
        """
        marker = {"written_by": "kbsite", **(notes or {})}
        (self.staging / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        os.chmod(self.staging, 0o755)
        old = None
        if self.output.exists():
            _check_replaceable(self.output)
            old = Path(tempfile.mkdtemp(prefix=f".{self.output.name}.old-", dir=self.output.parent))
            os.rename(self.output, old / "site")
        os.rename(self.staging, self.output)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def read_site_marker(site: Path) -> dict[str, str] | None:
    """The notes in a site's marker file; None when the folder is not a kbsite site."""
    try:
        text = (site / MARKER).read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        notes = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in notes.items()} if isinstance(notes, dict) else {}


def _check_replaceable(output: Path) -> None:
    if not output.exists():
        return
    if not output.is_dir():
        raise OutputError("output exists and is not a folder", output)
    if (output / MARKER).exists() or not any(output.iterdir()):
        return
    raise OutputError(
        "output folder exists and was not written by kbsite; "
        "refusing to replace it (remove it or choose another -o)",
        output,
    )
