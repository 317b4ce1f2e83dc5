"""The project's settings: ``kbsite.toml`` beside the archive, overridden by flags.

Every setting has a default, so the file is optional. Paths in it are relative to the
file's folder, so a build gives the same site from whatever folder it is started in.
Mistakes are reported with the file and line, like problems in articles.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import sys
from pathlib import Path
from typing import Any

from kbsite.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "kbsite.toml"


@dataclasses.dataclass(frozen=True, slots=True)
class ZimSettings:
    """What Kiwix shows about the archive (``[zim]`` table)."""

    name: str = ""
    """The ZIM's short identifier (``kb_archive_en``); empty: made from the title."""
    creator: str = "Unknown"
    """Who wrote the articles."""
    publisher: str = "kbsite"
    """Who made the file."""
    tags: tuple[str, ...] = ("kbsite", "knowledge-base")


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    """Every setting, with its default; see the README for each one."""

    title: str = "Knowledge Base Archive"
    description: str = "An archive of knowledge-base articles, cross-linked and searchable."
    base_url: str = ""
    """Where the site will be published (``https://kb.example.org/``): absolute links in
    the sitemap and the feed. Empty: no sitemap, and feed links relative to the feed."""
    language: str = "en"
    per_page: int = 200
    """Articles on one listing page."""
    feed_size: int = 50
    """Articles in the Atom feed, newest first."""
    templates: Path | None = None
    """A folder whose templates replace the packaged ones of the same name."""
    output: Path = Path("_site")
    sources: tuple[Path, ...] = (Path("content"),)
    zim: ZimSettings = dataclasses.field(default_factory=ZimSettings)
    synonyms: tuple[tuple[str, str], ...] = ()
    """The archive's own short forms (``[synonyms]`` table: ``ldb3 = "lighthouse database
    3.0"``), in front of the packaged table (``search/synonyms.txt``)."""
    path: Path | None = None
    """The file these settings came from, if any."""


_TYPES: dict[str, str] = {
    "title": "text",
    "description": "text",
    "base_url": "url",
    "language": "language",
    "per_page": "count",
    "feed_size": "count",
    "templates": "folder",
    "output": "path",
    "sources": "paths",
}
_ZIM_TYPES: dict[str, str] = {
    "name": "name",
    "creator": "text",
    "publisher": "text",
    "tags": "texts",
}


def find_config(start: Path) -> Path | None:
    """``kbsite.toml`` in the folder ``start``, if there is one."""
    candidate = start / CONFIG_FILE
    return candidate if candidate.is_file() else None


def load_config(path: Path | None) -> Config:
    """Read and check a settings file; None gives the defaults."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read settings: {exc}", path) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(
            f"not valid TOML: {message}", path, int(found.group(1)) if found else None
        ) from exc
    return parse_config(data, path, text)


def parse_config(data: dict[str, Any], path: Path, text: str = "") -> Config:
    """Settings from parsed TOML, each checked; ``text`` lets errors give their line."""
    folder = path.parent
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "zim" and isinstance(value, dict):
            values["zim"] = ZimSettings(
                **{
                    k: _check(f"zim.{k}", _ZIM_TYPES, k, v, folder, path, text)
                    for k, v in value.items()
                }
            )
            continue
        if key == "synonyms" and isinstance(value, dict):
            values["synonyms"] = _synonyms(value, path, text)
            continue
        values[key] = _check(key, _TYPES, key, value, folder, path, text)
    return Config(**values, path=path)


def _synonyms(table: dict[str, Any], path: Path, text: str) -> tuple[tuple[str, str], ...]:
    """The ``[synonyms]`` table: each short form one word (``#`` for a version number), what
    it stands for some words."""
    entries = []
    for short, long in table.items():
        if not isinstance(long, str) or not long.split():
            raise ConfigError(
                f"synonym {short!r} must stand for some words in quotes, not {long!r}",
                path,
                _line_of(short, text),
            )
        if not re.fullmatch(r"[A-Za-z0-9#.+_-]+", short):
            raise ConfigError(
                f"synonym {short!r} must be one word (letters, digits, '#' for a version)",
                path,
                _line_of(short, text),
            )
        entries.append((short.lower(), " ".join(long.split()).lower()))
    return tuple(entries)


def _check(
    label: str,
    types: dict[str, str],
    key: str,
    value: Any,
    folder: Path,
    path: Path,
    text: str,
) -> Any:
    def fail(message: str) -> ConfigError:
        return ConfigError(message, path, _line_of(key, text))

    kind = types.get(key)
    if kind is None:
        known = [*types, "zim", "synonyms"] if types is _TYPES else list(types)
        guess = difflib.get_close_matches(key, known, 1, 0.6)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        raise fail(f"unknown setting {label!r}{hint}")
    if kind in ("text", "url", "language", "name"):
        if not isinstance(value, str):
            raise fail(f"{label!r} must be text in quotes, not {value!r}")
        value = value.strip()
        if kind == "url" and value:
            if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
                raise fail(f"{label!r} must be an http:// or https:// address, not {value!r}")
            return value if value.endswith("/") else value + "/"
        if kind == "language" and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
            raise fail(f"{label!r} must be a language code such as 'en' or 'en-US', not {value!r}")
        if kind == "name" and value and not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise fail(f"{label!r} may hold only letters, digits, '-' and '_', not {value!r}")
        return value
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail(f"{label!r} must be a whole number of at least 1, not {value!r}")
        return value
    if kind == "texts":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f'{label!r} must be a list of texts, such as ["kb", "support"]')
        return tuple(v.strip() for v in value if v.strip())
    if kind == "paths":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
            raise fail(f"{label!r} must be a folder or a list of folders, not {value!r}")
        return tuple(folder / v for v in items)
    if not isinstance(value, str) or not value.strip():
        raise fail(f"{label!r} must be a folder name in quotes, not {value!r}")
    resolved = folder / value
    if kind == "folder" and not resolved.is_dir():
        raise fail(f"{label!r}: no such folder {value!r}")
    return resolved


def _line_of(key: str, text: str) -> int | None:
    """The line where ``key`` is set, for messages (tomllib does not keep positions)."""
    found = re.search(rf"(?m)^[ \t]*{re.escape(key)}[ \t]*=", text)
    return text.count("\n", 0, found.start()) + 1 if found else None
