"""Recompressing a finished ZIM file's clusters at a level chosen for speed.

libzim compresses every cluster with zstd at level 19, a level it hard-codes: about
1 MB/s per core here, two thirds of an export's time, for a file 7% smaller than level 6
makes at sixty times the speed. So ``zim.py`` has libzim write its clusters uncompressed,
and ``recompress_clusters`` then compresses them, a few at a time on every core, into a
new file (openZIM format, https://wiki.openzim.org/wiki/ZIM_file_format):

- a cluster is one info byte (its compression in the low four bits) and its body
  (blob offsets, then blobs); compressing it is compressing its body as one zstd frame;
- entries name their cluster by number, so only what lies after a cluster moves: the
  cluster pointer list, the directory entries' pointer list, the header's positions,
  and the MD5 checksum at the end, which are rewritten;
- a cluster that compression would not make smaller (images, say) is copied as it is,
  and so is every cluster holding one of libzim's own ``X`` entries (among them the
  Xapian full-text and title indexes, which readers open in place, at their offset).
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import hashlib
import os
import struct
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import zstandard

from kbsite.errors import OutputError

LEVEL = 6
"""zstd level: at 11,339 articles, a file 7% larger than level 19's in 1/60 of the time
(level 3: 14% larger, twice as fast again; level 9: 5% larger, 1/40 of the time)."""

MAGIC = 72173914
HEADER = struct.Struct("<IHH16sIIQQQQIIQ")
NO_POSITION = 0xFFFFFFFFFFFFFFFF
REDIRECT = 0xFFFF
UNCOMPRESSED = (0, 1)
ZSTD = 5
EXTENDED = 0x10
"""Info-byte flag: the cluster's blob offsets are eight bytes, not four."""
COPY_CHUNK = 1 << 20


@dataclasses.dataclass(slots=True)
class Header:
    magic: int
    major: int
    minor: int
    uuid: bytes
    entry_count: int
    cluster_count: int
    path_pointers: int
    title_pointers: int
    cluster_pointers: int
    mime_list: int
    main_page: int
    layout_page: int
    checksum: int

    @classmethod
    def read(cls, data: bytes) -> Header:
        return cls(*HEADER.unpack_from(data))

    def pack(self) -> bytes:
        return HEADER.pack(*dataclasses.astuple(self))


@dataclasses.dataclass(slots=True, frozen=True)
class Cluster:
    number: int
    start: int
    info: int
    length: int
    """Bytes in the file, info byte included."""
    pinned: bool
    """Holds an entry readers open in place: copied, never compressed."""


def cluster_count(path: Path) -> int:
    with path.open("rb") as zim:
        return _header(zim, path).cluster_count


def recompress_clusters(
    source: Path,
    target: Path,
    level: int = LEVEL,
    jobs: int = 1,
    advance: Callable[[int], None] | None = None,
) -> None:
    """Write ``source`` to ``target`` with every uncompressed cluster that may be
    compressed compressed with zstd at ``level``; ``advance(1)`` after each cluster."""
    with source.open("rb") as zim, target.open("wb") as out:
        header = _header(zim, source)
        clusters = _clusters(zim, header)
        # (old position, how far everything from there on moved back), in file order
        moved: list[tuple[int, int]] = []
        position = 0
        shift = 0
        for cluster, body in _compressed(zim, clusters, level, jobs):
            _copy(zim, out, position, cluster.start - position)
            if body is None or len(body) >= cluster.length - 1:
                _copy(zim, out, cluster.start, cluster.length)
            else:
                out.write(bytes([ZSTD | (cluster.info & EXTENDED)]))
                out.write(body)
                shift += cluster.length - 1 - len(body)
            position = cluster.start + cluster.length
            moved.append((position, shift))
            if advance is not None:
                advance(1)
        _copy(zim, out, position, header.checksum - position)
        ends = [p for p, _ in moved]

        def new(old: int) -> int:
            at = bisect.bisect_right(ends, old)
            return old - (moved[at - 1][1] if at else 0)

        for at, count in (
            (header.path_pointers, header.entry_count),
            (header.cluster_pointers, header.cluster_count),
        ):
            out.seek(new(at))
            out.write(struct.pack(f"<{count}Q", *map(new, _unpack_list(zim, at, count))))
        if header.title_pointers != NO_POSITION:
            header.title_pointers = new(header.title_pointers)
        header.path_pointers = new(header.path_pointers)
        header.cluster_pointers = new(header.cluster_pointers)
        header.mime_list = new(header.mime_list)
        header.checksum = new(header.checksum)
        out.seek(0)
        out.write(header.pack())
        out.flush()
    _write_checksum(target, header.checksum)


def _header(zim: BinaryIO, path: Path) -> Header:
    data = zim.read(HEADER.size)
    if len(data) != HEADER.size or struct.unpack_from("<I", data)[0] != MAGIC:
        raise OutputError("not a ZIM file", path)
    return Header.read(data)


def _clusters(zim: BinaryIO, header: Header) -> list[Cluster]:
    pointers = _unpack_list(zim, header.cluster_pointers, header.cluster_count)
    pinned, entries = _pinned_clusters(zim, header)
    ends = {*pointers, entries, header.checksum, header.path_pointers, header.cluster_pointers}
    clusters = []
    for number, start in enumerate(pointers):
        info = _read_at(zim, start, 1)[0]
        if info & 0x0F in UNCOMPRESSED:
            length = 1 + _uncompressed_length(zim, start, info)
        else:
            length = min(e for e in ends if e > start) - start
        clusters.append(Cluster(number, start, info, length, number in pinned))
    return sorted(clusters, key=lambda c: c.start)


def _uncompressed_length(zim: BinaryIO, start: int, info: int) -> int:
    """The body's length, which its last blob offset gives (the offsets count from the body)."""
    size = 8 if info & EXTENDED else 4
    kind = "<Q" if size == 8 else "<I"
    (first,) = struct.unpack(kind, _read_at(zim, start + 1, size))
    (last,) = struct.unpack(kind, _read_at(zim, start + 1 + first - size, size))
    return int(last)


def _pinned_clusters(zim: BinaryIO, header: Header) -> tuple[set[int], int]:
    """Clusters holding an entry of libzim's ``X`` namespace; where the entries start."""
    pinned = set()
    offsets = _unpack_list(zim, header.path_pointers, header.entry_count)
    for offset in offsets:
        mimetype, _, namespace = struct.unpack("<HBc", _read_at(zim, offset, 4))
        if mimetype != REDIRECT and namespace == b"X":
            (cluster,) = struct.unpack("<I", _read_at(zim, offset + 8, 4))
            pinned.add(cluster)
    return pinned, min(offsets, default=header.path_pointers)


def _compressed(
    zim: BinaryIO, clusters: list[Cluster], level: int, jobs: int
) -> Iterator[tuple[Cluster, bytes | None]]:
    """Each cluster in file order with its compressed body, or None to copy it as it is;
    bodies are compressed ``jobs`` at a time (zstd works without the GIL)."""

    def compress(body: bytes) -> bytes:
        return zstandard.ZstdCompressor(level=level).compress(body)

    window = max(1, jobs) * 2
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        pending: collections.deque[tuple[Cluster, Future[bytes] | None]] = collections.deque()
        for cluster in clusters:
            if cluster.pinned or cluster.info & 0x0F not in UNCOMPRESSED:
                pending.append((cluster, None))
            else:
                body = _read_at(zim, cluster.start + 1, cluster.length - 1)
                pending.append((cluster, pool.submit(compress, body)))
            while len(pending) > window:
                yield _done(*pending.popleft())
        while pending:
            yield _done(*pending.popleft())


def _done(cluster: Cluster, future: Future[bytes] | None) -> tuple[Cluster, bytes | None]:
    return cluster, None if future is None else future.result()


def _unpack_list(zim: BinaryIO, at: int, count: int) -> list[int]:
    return list(struct.unpack(f"<{count}Q", _read_at(zim, at, 8 * count)))


def _read_at(zim: BinaryIO, at: int, size: int) -> bytes:
    zim.seek(at)
    data = zim.read(size)
    if len(data) != size:
        raise OSError(f"ZIM file ends early (at {at + len(data)}, expected {at + size})")
    return data


def _copy(zim: BinaryIO, out: BinaryIO, at: int, size: int) -> None:
    zim.seek(at)
    while size > 0:
        chunk = zim.read(min(size, COPY_CHUNK))
        if not chunk:
            raise OSError("ZIM file ends early")
        out.write(chunk)
        size -= len(chunk)


def _write_checksum(path: Path, at: int) -> None:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("r+b") as zim:
        remaining = at
        while remaining > 0:
            chunk = zim.read(min(remaining, COPY_CHUNK))
            digest.update(chunk)
            remaining -= len(chunk)
        zim.seek(at)
        zim.write(digest.digest())
        zim.truncate()
        zim.flush()
        os.fsync(zim.fileno())
