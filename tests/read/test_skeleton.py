from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from kbsite.cli import main
from kbsite.read.parse import parse_article
from kbsite.read.skeleton import skeleton_text
from kbsite.read.source import SourceText, normalise_text, read_source


def test_the_skeleton_parses_without_a_problem() -> None:
    text = skeleton_text("Q315817", datetime.date(2026, 11, 27), "HOWTO: Do It", "Ledger", "ledger")
    article, problems = parse_article(
        SourceText(Path("Q315817.TXT"), normalise_text(text), "utf-8")
    )
    assert problems == []
    assert (article.id, article.title, article.product, article.category) == (
        "Q315817",
        "HOWTO: Do It",
        "Ledger",
        "ledger",
    )
    assert article.date == datetime.date(2026, 11, 27) and article.title_prefix == "HOWTO"
    assert [s.title for s in article.sections] == ["SUMMARY", "MORE INFORMATION"]
    assert article.applies_to and article.footer and "\r\n" in text


def test_kbsite_new_writes_into_the_id_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["new", "315817", "--content", str(tmp_path), "--title", "A Title"]
    )
    assert result.exit_code == 0, result.output
    path = tmp_path / "315" / "Q315817.TXT"
    assert f"Wrote {path}" in result.output
    article, problems = parse_article(read_source(path))
    assert (article.id, article.title, problems) == ("Q315817", "A Title", [])

    again = runner.invoke(main, ["new", "Q315817", "--content", str(tmp_path)])
    assert again.exit_code == 1
    assert "article Q315817 already exists" in again.stderr


@pytest.mark.parametrize("bad", ["Q12", "../etc", "Q315817/..", "Q123456789", "abc"])
def test_kbsite_new_refuses_a_bad_id(tmp_path: Path, bad: str) -> None:
    result = CliRunner().invoke(main, ["new", bad, "--content", str(tmp_path)])
    assert result.exit_code == 2
    assert "Q and 5 to 8 digits" in result.stderr
    assert list(tmp_path.iterdir()) == []
