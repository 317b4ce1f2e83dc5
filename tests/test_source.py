from __future__ import annotations

from pathlib import Path

import pytest

from kbsite.errors import SourceError
from kbsite.source import decode_bytes, find_sources, normalise_text, read_source


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


def test_find_sources_any_case_recursively(tmp_path: Path) -> None:
    for name in (
        "a/Q100001.TXT",
        "a/b/q100002.txt",
        "c/Q100003.Txt",
        "c/readme.md",
        ".hidden/Q1.TXT",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in find_sources([tmp_path])]
    assert found == ["a/Q100001.TXT", "a/b/q100002.txt", "c/Q100003.Txt"]


def test_missing_source_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        find_sources([tmp_path / "nope"])


def test_unreadable_file_is_a_source_error(tmp_path: Path) -> None:
    folder = tmp_path / "dir.TXT"
    folder.mkdir()
    with pytest.raises(SourceError, match="cannot read file") as caught:
        read_source(folder)
    assert caught.value.path == folder
