"""Stage 1: find the article files and decode their bytes into normalised text.

Archives mix UTF-8 (with or without BOM), Windows-1252 and the odd UTF-16 file saved by
Notepad, and CRLF, LF and lone CR line endings; everything after this stage sees ``str``
with ``\\n`` line endings. Files that are not text at all (images, archives, executables
misnamed ``.txt``) are refused here with the line of the first binary byte.
"""

from __future__ import annotations

import codecs
import dataclasses
import operator
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from kbsite.errors import Level, Problem, SourceError
from kbsite.output.write import MARKER

ARTICLE_SUFFIX = ".txt"
PAGE_SUFFIX = ".md"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_CONTROL_BYTES = bytes(code for code in range(128) if _CONTROL.match(chr(code)))
_BINARY_BYTES = bytes(code for code in range(256) if _BINARY.match(bytes([code])))
"""The two sets as bytes, for ``bytes.translate``, which counts them many times faster than
a regex search finds out there are none."""
BINARY_SHARE = 0.05
"""Past this share of control bytes (ESC excepted) a file is binary, not text with a stray
control character: KB articles have a few printer codes at most, never NUL."""


@dataclasses.dataclass(slots=True)
class SourceText:
    """A source file's text, decoded and with line endings normalised."""

    path: Path
    text: str
    encoding: str
    """``utf-8``, ``utf-8-sig`` or ``cp1252``: how the bytes were read."""


@dataclasses.dataclass(slots=True)
class SourceFiles:
    """What a build reads below its roots, found in one walk of the archive."""

    articles: list[Path]
    """Every ``*.txt`` file, any letter case."""
    pages: list[Path]
    """Every Markdown page (``*.md``)."""


def find_source_files(roots: Iterable[Path], problems: list[Problem] | None = None) -> SourceFiles:
    """The articles and pages below the roots, each in a stable order.

    A root may also be a single file: any file but a Markdown page is read as an
    article. Hidden files and folders are passed over, and so is every site kbsite
    wrote (a folder holding its marker): a build's own output inside its source holds
    ``robots.txt``, and its cache and index are hidden. Missing roots raise SourceError.
    A folder that cannot be listed is an error appended to ``problems`` (raised when
    None), so the articles in it never vanish silently. One walk finds both kinds:
    listing a large archive twice cost a second.
    """
    articles: dict[str, tuple[tuple[str, ...], Path | None]] = {}
    pages: dict[str, tuple[tuple[str, ...], Path | None]] = {}
    for root in roots:
        if root.is_file():
            found = pages if root.name.lower().endswith(PAGE_SUFFIX) else articles
            found.setdefault(str(root), (root.parts, root))
        elif root.is_dir():
            for folder, name, is_page in _walk(root, problems):
                (pages if is_page else articles).setdefault(
                    os.path.join(folder[0], name), ((*folder[1], name), None)
                )
        else:
            raise SourceError("no such file or folder", root)
    return SourceFiles(_in_order(articles), _in_order(pages))


def find_sources(roots: Iterable[Path], problems: list[Problem] | None = None) -> list[Path]:
    """Every article file below the roots; see ``find_source_files``."""
    return find_source_files(roots, problems).articles


def _in_order(found: dict[str, tuple[tuple[str, ...], Path | None]]) -> list[Path]:
    """The files in Path's order (by parts, without its slow ``__lt__``), each made a
    Path once: making and hashing them was most of finding a large archive's files."""
    folders: dict[tuple[str, ...], Path] = {}
    paths = []
    for parts, path in sorted(found.values(), key=_PARTS):
        if path is None:
            parent = folders.get(parts[:-1])
            if parent is None:
                parent = folders[parts[:-1]] = Path(*parts[:-1])
            path = _child(parent, parts[-1]) if _child else parent / parts[-1]
        paths.append(path)
    return paths


_PARTS = operator.itemgetter(0)
_child = getattr(Path, "_make_child_relpath", None)
"""pathlib's own way to make a folder's child of a plain name, as ``Path.iterdir`` makes
them, without parsing the name again: half the time of finding a large archive's files
(``/`` parses it). A private method: where a Python lacks it, ``/`` does the work."""


def _walk(
    root: Path, problems: list[Problem] | None
) -> Iterator[tuple[tuple[str, tuple[str, ...]], str, bool]]:
    """Each article or page file below ``root``: its folder (as text and as Path's parts),
    its name, and whether it is a page."""

    def unlistable(exc: OSError) -> None:
        message = f"cannot list folder: {exc.strerror or exc}; its articles are skipped"
        folder = Path(exc.filename) if exc.filename else root
        if problems is None:
            raise SourceError(message, folder) from exc
        problems.append(Problem(folder, None, Level.ERROR, message))

    for folder, dirs, files in os.walk(root, onerror=unlistable):
        if MARKER in files:
            dirs.clear()
            continue
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        where = (folder, Path(folder).parts)
        for name in files:
            lowered = name.lower()
            if name.startswith("."):
                continue
            if lowered.endswith(ARTICLE_SUFFIX):
                yield where, name, False
            elif lowered.endswith(PAGE_SUFFIX):
                yield where, name, True


def read_source(path: Path) -> SourceText:
    """Read and decode one file: UTF-8 first (BOM or not), then Windows-1252."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", path) from exc
    return decode_source(path, data)


def decode_source(path: Path, data: bytes) -> SourceText:
    """Decode the bytes read from ``path``; see ``read_source``."""
    if not data.strip():
        raise SourceError("empty file: no article in it", path, 1)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return SourceText(path, normalise_text(data.decode("utf-16")), "utf-16")
        except UnicodeDecodeError as exc:
            raise SourceError(
                "UTF-16 byte order mark but not UTF-16 text", path, _line_at(data, exc.start)
            ) from exc
    binary = binary_offset(data)
    if binary is not None:
        raise SourceError(
            f"binary file, not text (byte 0x{data[binary]:02x} at offset {binary})",
            path,
            _line_at(data, binary),
        )
    text, encoding = decode_bytes(data)
    return SourceText(path, normalise_text(text), encoding)


def binary_offset(data: bytes) -> int | None:
    """Where binary content shows, or None for text: any NUL byte, or many control bytes."""
    nul = data.find(b"\x00")
    if nul >= 0:
        return nul
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, _BINARY_BYTES))
    first = _BINARY.search(sample) if controls > BINARY_SHARE * len(sample) else None
    return first.start() if first is not None else None


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode archive bytes; never fails, since no text may be lost.

    The five bytes Windows-1252 leaves undefined are read as Latin-1, which is what
    the DOS and Windows tools that wrote these archives displayed.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="kbsite-latin1"), "cp1252"


def _latin1_fallback(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


codecs.register_error("kbsite-latin1", _latin1_fallback)


def normalise_text(text: str) -> str:
    """CRLF and lone CR become LF; control characters become visible symbols.

    Control characters (ESC sequences from old printers, DEL) are not allowed in HTML;
    the Unicode "control pictures" keep them visible instead of dropping them.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(_control_picture, text) if _has_control(text) else text


def _has_control(text: str) -> bool:
    """Whether any control character is left; ASCII text, nearly every article, as bytes."""
    if not text.isascii():
        return _CONTROL.search(text) is not None
    data = text.encode("ascii")
    return len(data.translate(None, _CONTROL_BYTES)) < len(data)


def _control_picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "\u2421" if code == 0x7F else chr(0x2400 + code)
