from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbsite.cli import main
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


def test_synonyms_are_the_sites_own_short_forms_lowercased(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[synonyms]\nLDB3 = "Lighthouse  Database 3.0"\n"ldb#" = "lighthouse database #"\n',
    )
    assert load_config(path).synonyms == (
        ("ldb3", "lighthouse database 3.0"),
        ("ldb#", "lighthouse database #"),
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
        ("[synonyms]\nldb3 = 3\n", r":2: synonym 'ldb3' must stand for some words in quotes"),
        ('[synonyms]\n"two words" = "x"\n', r"synonym 'two words' must be one word"),
        ("synonyms = 1\n", r"unknown setting 'synonyms'"),
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


CONTENT = Path(__file__).parents[1] / "content"


def test_build_takes_its_settings_from_kbsite_toml_and_flags_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(CONTENT, tmp_path / "articles")
    write(
        tmp_path,
        'title = "Northwind Archive"\nsources = "articles"\noutput = "public"\n'
        'base_url = "https://kb.example.org"\n',
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["build", "-q"])
    assert result.exit_code == 0, result.output
    assert "Wrote 35 articles" in result.stdout
    home = (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Northwind Archive</h1>" in home
    assert "https://kb.example.org/kb/" in (tmp_path / "public" / "sitemap.xml").read_text()

    result = runner.invoke(main, ["build", "-q", "--title", "Flag Title", "-o", "other"])
    assert result.exit_code == 0, result.output
    assert "<h1>Flag Title</h1>" in (tmp_path / "other" / "index.html").read_text()


@pytest.mark.parametrize(
    ("toml", "args", "message"),
    [
        ('titel = "x"\n', ["build"], "kbsite.toml:1: unknown setting 'titel'"),
        ('per_page = "x"\n', ["check"], "kbsite.toml:1: 'per_page' must be a whole number"),
        ("", ["build", "--base-url", "kb.example.org"], "'base_url' must be an http"),
    ],
)
def test_a_wrong_setting_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, args: list[str], message: str
) -> None:
    write(tmp_path, toml)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr.startswith("ERROR ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "_site").exists()


def test_zim_metadata_comes_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("libzim")
    from libzim.reader import Archive  # type: ignore[import-untyped]

    write(
        tmp_path,
        f'title = "Northwind KB"\nsources = "{CONTENT}"\n'
        'description = "Northwind support, 1995-2003"\n'
        '[zim]\nname = "northwind_kb_en"\ncreator = "Northwind Software"\ntags = ["ledger"]\n',
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["export", "--format", "zim", "-q", "-o", "kb.zim"])
    assert result.exit_code == 0, result.output
    archive = Archive(tmp_path / "kb.zim")
    meta = {
        key: bytes(archive.get_metadata(key)).decode()
        for key in archive.metadata_keys
        if not key.startswith("Illustration")
    }
    assert meta["Title"] == "Northwind KB" and meta["Name"] == "northwind_kb_en"
    assert (
        meta["Creator"] == "Northwind Software"
        and meta["Description"] == "Northwind support, 1995-2003"
    )
    assert "ledger" in meta["Tags"].split(";")
