"""Whether the whoosh index is the one the build wrote: sizes and checksums of its files.

Each publish records, in a manifest in the index folder, every file's size, modification
time and CRC-32. ``kbsite search`` checks the sizes (a stat per file: a truncated or
missing segment is a one-line error, not whoosh's ``Block tag error``); a build checks
them too and the checksum of any file modified since (reading the whole index on every
edit's rebuild would cost it a second at 57,000 articles), and builds the index anew
when one does not match. whoosh writes each file once, so a checksum is computed once,
when its file is new, and carried over from manifest to manifest after that.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

from whoosh import index

from kbsite.errors import KbsiteError
from kbsite.search.index import IndexError_, open_index

MANIFEST = "kbsite-manifest.json"
MANIFEST_FORMAT = 1
_LOCK_SUFFIX = "_WRITELOCK"
"""whoosh's lock files: empty, never part of the index's content."""
_READ_BYTES = 1 << 20


class IndexDamaged(KbsiteError):
    """The index's files are not the ones its build wrote."""


def index_files(index_dir: Path) -> list[str]:
    """The names of the files that make the index (its lock files aside)."""
    try:
        names = os.listdir(index_dir)
    except OSError:
        return []
    return sorted(n for n in names if not n.endswith(_LOCK_SUFFIX) and n != MANIFEST)


def write_manifest(index_dir: Path) -> None:
    """Record the size, time and checksum of every file of the index in ``index_dir``.

    Checksums of files the manifest already there records with the same size and time
    (the old index's files, linked into a new generation) are carried over.
    """
    known = _read_manifest(index_dir) or {}
    files: dict[str, list[Any]] = {}
    for name in index_files(index_dir):
        path = index_dir / name
        stat = path.stat()
        mark = known.get(name)
        if mark is not None and mark[:2] == [stat.st_size, stat.st_mtime_ns]:
            files[name] = mark
        else:
            files[name] = [stat.st_size, stat.st_mtime_ns, _crc(path)]
    temporary = index_dir / (MANIFEST + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump({"format": MANIFEST_FORMAT, "files": files}, out, sort_keys=True)
    temporary.replace(index_dir / MANIFEST)


def damage(index_dir: Path, checksums: bool = True, required: bool = True) -> str | None:
    """What is wrong with the index at ``index_dir``, or None when it is as written.

    ``checksums``: also compare the checksum of every file whose modification time is
    not the recorded one. ``required``: an index with no manifest (written by an older
    kbsite) is damaged, since nothing vouches for it; otherwise it passes.
    """
    files = _read_manifest(index_dir)
    if files is None:
        if not required:
            return None
        return "no manifest of its files" if index_dir.exists() else "it is missing"
    for name, (size, mtime_ns, crc) in sorted(files.items()):
        path = index_dir / name
        try:
            stat = path.stat()
        except OSError:
            return f"{name} is missing"
        if stat.st_size != size:
            return f"{name} is {stat.st_size:,} bytes, not {size:,}"
        if checksums and stat.st_mtime_ns != mtime_ns and _crc(path) != crc:
            return f"{name} does not hold what was written"
    extra = sorted(set(index_files(index_dir)) - files.keys())
    if extra:
        return f"{extra[0]} is not one of its files"
    return None


def open_checked(index_dir: Path) -> index.Index:
    """The index at ``index_dir`` for ``kbsite search``, once its files' sizes are as the
    build wrote them; raises one-line errors for a damaged or an empty index."""
    why = damage(index_dir, checksums=False, required=False)
    if why is not None:
        raise IndexDamaged(
            f"the search index is damaged ({why}); run kbsite build to repair it", index_dir
        )
    ix = open_index(index_dir)
    if ix.doc_count_all() == 0:
        raise IndexError_("the search index holds no articles; build a site from some", index_dir)
    return ix


def _read_manifest(index_dir: Path) -> dict[str, list[Any]] | None:
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    files = data.get("files")
    if not isinstance(files, dict):
        return None
    marks = {str(k): v for k, v in files.items() if isinstance(v, list) and len(v) == 3}
    return marks if len(marks) == len(files) else None


def _crc(path: Path) -> str:
    crc = 0
    with path.open("rb") as data:
        while chunk := data.read(_READ_BYTES):
            crc = zlib.crc32(chunk, crc)
    return f"{crc:08x}"
