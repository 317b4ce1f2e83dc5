"""The build cache on its own: what is saved is what is loaded, chunk reuse included."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kbsite.incremental import cache as cache_module
from kbsite.incremental.cache import (
    BuildCache,
    SourceState,
    load_cache,
    load_cache_detail,
    save_cache,
)
from kbsite.model import Article
from kbsite.site.link import article_record


@pytest.fixture
def records_cache(content_articles: dict[str, Article]) -> BuildCache:
    sources = {
        str(article.source): SourceState(n, n * 10, f"digest{n}", article_record(article), [])
        for n, article in enumerate(content_articles.values())
    }
    return BuildCache(renderer="r", sources=sources, pages={"index.html": "k"})


def load(output: Path) -> BuildCache:
    loaded, why = load_cache(output)
    assert loaded is not None and why is None
    assert load_cache_detail(output, loaded) is None
    return loaded


def records(cache: BuildCache) -> list[object]:
    return [state.record for state in cache.sources.values()]


def test_a_saved_cache_loads_as_it_was(records_cache: BuildCache, tmp_path: Path) -> None:
    save_cache(tmp_path / "site", records_cache)
    loaded = load(tmp_path / "site")
    assert records(loaded) == records(records_cache)
    assert loaded.pages == records_cache.pages
    assert [s.digest for s in loaded.sources.values()] == [
        s.digest for s in records_cache.sources.values()
    ]


def test_only_chunks_with_a_changed_record_are_marshalled_again(
    records_cache: BuildCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "RECORD_CHUNK", 4)
    save_cache(tmp_path / "site", records_cache)
    loaded = load(tmp_path / "site")
    assert len(loaded.record_chunks) > 2
    states = list(loaded.sources.values())
    edited = states[5].record
    assert edited is not None
    states[5].record = dataclasses.replace(edited, title="Edited title")
    marshalled: list[object] = []
    dumps = cache_module.marshal.dumps
    monkeypatch.setattr(
        cache_module.marshal, "dumps", lambda v, *a: marshalled.append(v) or dumps(v, *a)
    )
    save_cache(tmp_path / "site", loaded)
    chunks = [value for value in marshalled if isinstance(value, list)]
    assert len(chunks) == 1 and chunks[0][1][2] == "Edited title"
    monkeypatch.undo()
    again = load(tmp_path / "site")
    assert records(again) == records(loaded)
