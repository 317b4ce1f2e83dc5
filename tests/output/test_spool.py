"""The spool of parsed articles: what one process puts, another takes back; nothing stays."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from kbsite.build import BuildOptions, build_site
from kbsite.model import Article
from kbsite.output.spool import ArticleSpool, Place
from kbsite.read import load


def test_articles_come_back_as_they_went_in(
    tmp_path: Path, content_articles: dict[str, Article]
) -> None:
    spool = ArticleSpool(tmp_path)
    places = {article_id: spool.put(a) for article_id, a in content_articles.items()}
    for article_id, place in places.items():
        assert spool.get(place) == content_articles[article_id]
    spool.close()
    assert not spool.folder.exists()


def _put(spool: ArticleSpool, article: Article, queue: multiprocessing.Queue[Place]) -> None:
    queue.put(spool.put(article))


def test_a_worker_process_puts_what_the_parent_takes(
    tmp_path: Path, content_articles: dict[str, Article]
) -> None:
    spool = ArticleSpool(tmp_path)
    article = next(iter(content_articles.values()))
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[Place] = context.Queue()
    worker = context.Process(target=_put, args=(spool, article, queue))
    worker.start()
    place = queue.get(timeout=30)
    worker.join(timeout=30)
    assert place[0] == f"{worker.pid}.pickle"
    assert spool.get(place) == article
    spool.close()


def test_the_spool_of_a_killed_build_is_removed_by_the_next(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    gone = context.Process(target=os.getpid)
    gone.start()
    gone.join()
    left = tmp_path / f"spool-{gone.pid}-x1"
    left.mkdir()
    mine = tmp_path / f"spool-{os.getpid()}-x2"
    mine.mkdir()
    spool = ArticleSpool(tmp_path)
    assert not left.exists() and mine.exists()
    spool.close()


def test_a_build_writes_the_articles_it_read_without_parsing_them_again(
    content_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[Path] = []
    real = load.load_article

    def counting(path: Path, data: bytes | None = None) -> load.LoadResult:
        parsed.append(path)
        return real(path, data)

    monkeypatch.setattr(load, "load_article", counting)
    report = build_site(
        BuildOptions([content_copy], tmp_path / "site", index=tmp_path / "ix", jobs=1)
    )
    assert report.articles > 0 and len(parsed) == len(set(parsed)) == report.parsed
    assert not list((tmp_path / ".site.kbsite-cache").glob("spool-*"))
