"""The ZIM file's illustration: the icon Kiwix shows in its library, drawn here so
nothing is fetched or shipped."""

from __future__ import annotations

import struct
import zlib


def illustration_png(size: int = 48) -> bytes:
    """A page of text on the site's accent blue, drawn here so nothing is fetched or shipped."""
    accent, paper, ink = (11, 87, 164), (255, 255, 255), (140, 170, 205)
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            row += bytes(_pixel(x, y, size, accent, paper, ink))
        rows.append(bytes(row))
    return _png(size, size, b"".join(rows))


def _pixel(
    x: int,
    y: int,
    size: int,
    accent: tuple[int, int, int],
    paper: tuple[int, int, int],
    ink: tuple[int, int, int],
) -> tuple[int, int, int, int]:
    radius = size // 6
    cx = min(max(x, radius), size - 1 - radius)
    cy = min(max(y, radius), size - 1 - radius)
    if (x - cx) ** 2 + (y - cy) ** 2 > radius**2:
        return (0, 0, 0, 0)
    left, right, top, bottom = size // 4, size - size // 4, size // 6, size - size // 6
    if not (left <= x < right and top <= y < bottom):
        return (*accent, 255)
    fold = size // 6
    if x - (right - fold) > y - top:
        return (*accent, 255)
    line = (y - top - size // 8) % (size // 12)
    inside = left + size // 16 <= x < right - size // 16 and y >= top + size // 8
    if inside and line < size // 24 and y < bottom - size // 16:
        return (*ink, 255)
    return (*paper, 255)


def _png(width: int, height: int, rgba_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rgba_rows, 9))
        + chunk(b"IEND", b"")
    )
