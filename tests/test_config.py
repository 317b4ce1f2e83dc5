from __future__ import annotations

from pathlib import Path

import pytest

from kbsite.config import Config, ZimSettings, find_config, load_config
from kbsite.errors import ConfigError


def write(folder: Path, text: str) -> Path:
    path = folder / "kbsite.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_the_defaults(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None
    assert load_config(None) == Config()


def test_every_setting_is_read_and_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "theme").mkdir()
    path = write(
        tmp_path,
        """
title = "Northwind Support Archive"
description = "Every Northwind Ledger article, 1995-2003."
base_url = "https://kb.example.org/ledger"
language = "en-GB"
per_page = 50
feed_size = 20
templates = "theme"
output = "public"
sources = ["articles", "more"]

[zim]
name = "northwind_ledger_en"
creator = "Northwind Traders"
publisher = "The Archive Team"
tags = ["ledger", "support"]
""",
    )
    assert find_config(tmp_path) == path
    assert load_config(path) == Config(
        title="Northwind Support Archive",
        description="Every Northwind Ledger article, 1995-2003.",
        base_url="https://kb.example.org/ledger/",
        language="en-GB",
        per_page=50,
        feed_size=20,
        templates=tmp_path / "theme",
        output=tmp_path / "public",
        sources=(tmp_path / "articles", tmp_path / "more"),
        zim=ZimSettings(
            "northwind_ledger_en", "Northwind Traders", "The Archive Team", ("ledger", "support")
        ),
        path=path,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('title = "x"\ntitel = "y"\n', r":2: unknown setting 'titel' \(did you mean 'title'\?\)"),
        ("\n\nper_page = 0\n", r":3: 'per_page' must be a whole number of at least 1, not 0"),
        ('per_page = "ten"\n', r":1: 'per_page' must be a whole number"),
        ("per_page = true\n", r":1: 'per_page' must be a whole number"),
        ('base_url = "kb.example.org"\n', r":1: 'base_url' must be an http:// or https://"),
        ('base_url = "javascript:alert(1)"\n', r"'base_url' must be an http"),
        ("title = 3\n", r":1: 'title' must be text in quotes, not 3"),
        ('templates = "nowhere"\n', r":1: 'templates': no such folder 'nowhere'"),
        ('language = "english!"\n', r"'language' must be a language code"),
        ('[zim]\nname = "has space"\n', r":2: 'zim.name' may hold only letters"),
        ('[zim]\ntags = "kb"\n', r"'zim.tags' must be a list of texts"),
        ('[zim]\ncreater = "x"\n', r"unknown setting 'zim.creater' \(did you mean 'creator'\?\)"),
        ('title = "unclosed\n', r":1: not valid TOML: "),
        ("sources = []\n", r"'sources' must be a folder or a list of folders"),
    ],
)
def test_mistakes_name_the_file_the_line_and_the_setting(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(caught.value).startswith(str(path))


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "kbsite.toml"
    path.write_bytes(b'title = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="cannot read settings"):
        load_config(path)
