"""Records as the build holds them: what many share is held once."""

from __future__ import annotations

import datetime
from pathlib import Path

from kbsite.incremental.sources import share_fields
from kbsite.model import ArticleRecord


def _record(article_id: str, bare_title: str) -> ArticleRecord:
    """A record as it arrives from a reading process: every string its own copy."""
    return ArticleRecord(
        id=article_id,
        source=Path(f"/kb/{article_id}.TXT"),
        title="".join(["Setup ", "Fails"]),
        title_prefix="".join(["WD", "97"]),
        date=datetime.date(2001, 5, 1),
        category="".join(["win", "nt"]),
        product="".join(["Northwind ", "Cycle Tester"]),
        bare_title=bare_title,
        keywords=["".join(["kb", "bug"])],
        references=[],
        features="",
        excerpt="",
    )


def test_records_share_their_common_values_and_the_found_path() -> None:
    dates: dict[datetime.date, datetime.date] = {}
    first, second = _record("Q1", "Setup Fails"), _record("Q2", "Other")
    paths = [Path("/kb/Q1.TXT"), Path("/kb/Q2.TXT")]
    for record, path in zip((first, second), paths, strict=True):
        share_fields(record, path, dates)
        assert record.source is path
    for field in ("category", "product", "title_prefix", "date"):
        assert getattr(first, field) is getattr(second, field)
    assert first.keywords[0] is second.keywords[0]
    assert first.bare_title is first.title
    assert second.bare_title == "Other"


def test_a_record_of_another_path_keeps_its_own() -> None:
    record = _record("Q1", "Setup Fails")
    share_fields(record, Path("/elsewhere/Q1.TXT"), {})
    assert record.source == Path("/kb/Q1.TXT")
