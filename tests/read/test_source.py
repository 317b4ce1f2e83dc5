from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import kbsite.read.source
from kbsite.errors import SourceError
from kbsite.read.source import decode_bytes, find_sources, normalise_text, read_source


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        (b"plain", "plain", "utf-8"),
        ("Zürich".encode(), "Zürich", "utf-8"),
        (b"\xef\xbb\xbfZ\xc3\xbcrich", "Zürich", "utf-8-sig"),
        (b"caf\xe9 \x93quoted\x94 it\x92s", "café “quoted” it’s", "cp1252"),
        (b"undefined \x81 byte \xe9", "undefined \x81 byte é", "cp1252"),
    ],
)
def test_decode_utf8_first_then_cp1252(data: bytes, text: str, encoding: str) -> None:
    assert decode_bytes(data) == (text, encoding)


def test_line_endings_are_normalised() -> None:
    assert normalise_text("a\r\nb\rc\nd") == "a\nb\nc\nd"


def test_control_characters_become_visible() -> None:
    assert normalise_text("esc\x1b[0m del\x7f tab\t") == "esc\u241b[0m del\u2421 tab\t"


@pytest.mark.parametrize("fast_paths", [True, False], ids=["pathlib-child", "slash"])
def test_find_sources_any_case_recursively(
    tmp_path: Path, fast_paths: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found files are the Paths ``/`` makes, whether pathlib's faster way is there or not."""
    if not fast_paths:
        monkeypatch.setattr(kbsite.read.source, "_child", None)
    for name in (
        "a/Q100001.TXT",
        "a/b/q100002.txt",
        "c/Q100003.Txt",
        "c/readme.md",
        ".hidden/Q1.TXT",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = find_sources([tmp_path])
    expected = ["a/Q100001.TXT", "a/b/q100002.txt", "c/Q100003.Txt"]
    assert [p.relative_to(tmp_path).as_posix() for p in found] == expected
    assert found == [tmp_path / name for name in expected]
    assert [str(p) for p in found] == [str(tmp_path / name) for name in expected]


def test_a_site_inside_the_source_is_never_read(content_copy: Path) -> None:
    """``kbsite build content -o content/_site``, twice: the second build finds the same
    articles as the first, not the site's ``robots.txt``."""
    articles = find_sources([content_copy])
    build = [sys.executable, "-m", "kbsite", "build", str(content_copy), "-q", "--jobs", "1"]
    for _ in range(2):
        subprocess.run([*build, "-o", str(content_copy / "_site")], check=True)
    assert (content_copy / "_site" / "robots.txt").is_file()
    assert find_sources([content_copy]) == articles


def test_missing_source_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        find_sources([tmp_path / "nope"])


def test_unreadable_file_is_a_source_error(tmp_path: Path) -> None:
    folder = tmp_path / "dir.TXT"
    folder.mkdir()
    with pytest.raises(SourceError, match="cannot read file") as caught:
        read_source(folder)
    assert caught.value.path == folder


@pytest.mark.parametrize("data", [b"", b"  \r\n\r\n\t\n"])
def test_empty_file_is_a_source_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "Q100001.TXT"
    path.write_bytes(data)
    with pytest.raises(SourceError, match="empty file") as caught:
        read_source(path)
    assert caught.value.line == 1


@pytest.mark.parametrize(
    ("data", "line", "offset"),
    [
        (b"DOCUMENT:Q100001\nTITLE:x\n\x00\x01\x02junk", 3, 25),
        (bytes(range(256)) * 8, 1, 0),
        (b"text\n" + bytes([1, 2, 3, 4, 5, 6, 7, 8, 0x0E, 0x0F]) * 20, 2, 5),
    ],
)
def test_binary_file_is_a_source_error_at_its_first_binary_byte(
    tmp_path: Path, data: bytes, line: int, offset: int
) -> None:
    path = tmp_path / "Q100001.TXT"
    path.write_bytes(data)
    with pytest.raises(SourceError, match=f"binary file, not text .* offset {offset}") as caught:
        read_source(path)
    assert caught.value.line == line


def test_a_few_printer_codes_are_still_text(tmp_path: Path) -> None:
    path = tmp_path / "Q100001.TXT"
    path.write_bytes(b"DOCUMENT:Q100001\n\x1b&l1O\x0c" + b"words " * 50 + b"\x01")
    assert read_source(path).text.endswith("words \u2401")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_decoded(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "Q100001.TXT"
    bom = "\ufeff".encode(codec)
    path.write_bytes(bom + "DOCUMENT:Q100001\r\nTITLE   :Zürich\r\n".encode(codec))
    source = read_source(path)
    assert (source.text, source.encoding) == ("DOCUMENT:Q100001\nTITLE   :Zürich\n", "utf-16")


def test_lone_cr_file_is_read_as_lines(tmp_path: Path) -> None:
    path = tmp_path / "Q100001.TXT"
    path.write_bytes(b"DOCUMENT:Q100001\rTITLE   :Old Mac file\r\rBody.\r")
    assert read_source(path).text == "DOCUMENT:Q100001\nTITLE   :Old Mac file\n\nBody.\n"
