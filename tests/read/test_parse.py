"""Parser cases as fixture files: ``NAME.TXT`` beside ``NAME.json``, the expected model.

A new quirk is a new pair of files. To write the expected file for a new input (then
read it and check it by eye), run ``KBSITE_REGEN=1 pytest tests/test_parse.py``.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kbsite.errors import ArticleError
from kbsite.output.export import model_as_data
from kbsite.read.parse import parse_article
from kbsite.read.source import SourceText, read_source

FIXTURES = Path(__file__).parents[1] / "fixtures" / "parse"
CASES = sorted(p for p in FIXTURES.iterdir() if p.suffix.upper() == ".TXT")


def model_as_json(source: Path) -> dict[str, Any]:
    """The parsed article and its problems as plain JSON data, paths relative to FIXTURES."""
    article, problems = parse_article(read_source(source))
    data = model_as_data(article)
    data["source"] = source.name
    return {
        "article": data,
        "problems": [f"{p.line}: {p.level.value}: {p.message}" for p in problems],
    }


def _default(value: object) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(type(value))


def _normalise(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data, default=_default))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_fixture(case: Path) -> None:
    expected_file = case.with_suffix(".json")
    actual = _normalise(model_as_json(case))
    if os.environ.get("KBSITE_REGEN"):
        expected_file.write_text(
            json.dumps(actual, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    assert expected_file.exists(), f"no expected output {expected_file.name}; see module docstring"
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert actual == expected


def test_every_fixture_has_its_expected_output() -> None:
    assert CASES, "no parser fixtures found"
    for case in CASES:
        assert case.with_suffix(".json").exists(), case.name


def test_file_without_any_id_is_an_article_error(tmp_path: Path) -> None:
    with pytest.raises(ArticleError) as caught:
        parse_article(SourceText(tmp_path / "notes.txt", "Just some notes.\n", "utf-8"))
    assert caught.value.line == 1
    assert "not a KB article" in str(caught.value)


def test_id_falls_back_to_the_file_name_with_a_warning(tmp_path: Path) -> None:
    article, problems = parse_article(
        SourceText(
            tmp_path / "Q123456.TXT",
            "TITLE   :Lost header\n\n=====================\n\nBody.\n",
            "utf-8",
        )
    )
    assert article.id == "Q123456"
    assert [p.message for p in problems] == [
        "no DOCUMENT line; using the id Q123456 from the file name"
    ]


def test_path_like_id_is_never_used(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match="invalid article id"):
        parse_article(
            SourceText(
                tmp_path / "evil.txt",
                "DOCUMENT:../../etc  01-JAN-2000  [x]\nTITLE   :x\n==========\nbody\n",
                "utf-8",
            )
        )
