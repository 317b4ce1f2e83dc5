"""The whoosh index: kept up to date incrementally, rebuilt when it cannot be trusted."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from whoosh import index

from kbsite.build import load_articles
from kbsite.cli import main
from kbsite.model import EXCERPT_LENGTH, Article, excerpt
from kbsite.parallel import Forked
from kbsite.read.source import find_sources
from kbsite.report import BuildReport
from kbsite.search.index import (
    INDEX_FORMAT,
    LEDGER,
    IndexError_,
    IndexReport,
    IndexUpdate,
    fingerprint,
    index_document,
    open_index,
    order_key,
    update_index,
    whoosh_document,
)
from kbsite.search.location import SHARED_INDEX, claim_index_dir, default_index_dir
from kbsite.search.searcher import index_dir_for_site, search
from kbsite.search.segment import SegmentBatch

SAMPLE_SIZE = 35


def articles_in(folder: Path) -> list[Article]:
    return load_articles(find_sources([folder]), 1, BuildReport())


def ids_found(index_dir: Path, query: str) -> list[str]:
    return [hit.id for hit in search(index_dir, query, limit=100).hits]


def counts(report: IndexReport) -> tuple[int, int, int, int, bool]:
    return report.added, report.changed, report.removed, report.unchanged, report.rebuilt


def test_a_second_run_changes_nothing(tmp_path: Path, content_copy: Path) -> None:
    articles = articles_in(content_copy)
    assert len(articles) == SAMPLE_SIZE
    index_dir = tmp_path / "index"
    assert counts(update_index(articles, index_dir)) == (SAMPLE_SIZE, 0, 0, 0, True)
    assert counts(update_index(articles, index_dir)) == (0, 0, 0, SAMPLE_SIZE, False)
    assert open_index(index_dir).doc_count() == SAMPLE_SIZE


def test_only_added_changed_and_removed_articles_are_touched(
    tmp_path: Path, content_copy: Path
) -> None:
    index_dir = tmp_path / "index"
    update_index(articles_in(content_copy), index_dir)
    assert ids_found(index_dir, "title:relay") == ["Q200107", "Q200103"]

    changed = content_copy / "200" / "Q200107.TXT"
    changed.write_bytes(
        changed.read_bytes().replace(b"Configure Relay Hosts", b"Configure Zeppelin Moorings")
    )
    (content_copy / "200" / "Q200103.TXT").unlink()
    template = (content_copy / "200" / "Q200129.TXT").read_bytes()
    added = re.sub(rb"TITLE   :[^\n]*", b"TITLE   :PRB: Quokkas Nest in CHAR Columns", template)
    (content_copy / "200" / "Q200199.TXT").write_bytes(added.replace(b"Q200129", b"Q200199"))

    report = update_index(articles_in(content_copy), index_dir)
    assert counts(report) == (1, 1, 1, SAMPLE_SIZE - 2, False)
    assert open_index(index_dir).doc_count() == SAMPLE_SIZE
    assert ids_found(index_dir, "zeppelin") == ["Q200107"]
    assert ids_found(index_dir, "quokkas") == ["Q200199"]
    assert ids_found(index_dir, "title:relay") == []
    assert "Q200103" not in ids_found(index_dir, '"relaying denied"')
    assert "Q200103" not in ids_found(index_dir, "Q200103")


@pytest.mark.parametrize(
    "ledger",
    [None, "not json", json.dumps({"format": INDEX_FORMAT + 1, "articles": {}})],
    ids=["missing", "unreadable", "other-format"],
)
def test_an_untrusted_ledger_rebuilds_the_index(
    tmp_path: Path, content_articles: dict[str, Article], ledger: str | None
) -> None:
    articles = list(content_articles.values())
    index_dir = tmp_path / "index"
    update_index(articles, index_dir)
    if ledger is None:
        (index_dir / LEDGER).unlink()
    else:
        (index_dir / LEDGER).write_text(ledger, encoding="utf-8")
    assert counts(update_index(articles, index_dir)) == (SAMPLE_SIZE, 0, 0, 0, True)
    assert open_index(index_dir).doc_count() == SAMPLE_SIZE
    assert json.loads((index_dir / LEDGER).read_text(encoding="utf-8"))["format"] == INDEX_FORMAT


def test_replacing_most_of_the_archive_starts_a_fresh_index(
    tmp_path: Path, content_articles: dict[str, Article]
) -> None:
    """Past half the index changing, a new index beats thousands of deletions."""
    articles = list(content_articles.values())
    index_dir = tmp_path / "index"
    update_index(articles, index_dir)
    few = articles[: len(articles) // 3]
    assert counts(update_index(few, index_dir)) == (len(few), 0, 0, 0, True)
    with open_index(index_dir).reader() as reader:
        assert reader.doc_count_all() == len(few)


def test_an_empty_folder_is_used(tmp_path: Path, content_articles: dict[str, Article]) -> None:
    report = update_index(list(content_articles.values()), tmp_path)
    assert counts(report) == (SAMPLE_SIZE, 0, 0, 0, True)


def test_a_folder_holding_something_else_is_not_reset(
    tmp_path: Path, content_articles: dict[str, Article]
) -> None:
    """A mistyped --index must not delete the user's files."""
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(IndexError_) as caught:
        update_index(list(content_articles.values()), tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}: the index folder is not empty")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_file_is_not_an_index_folder(
    tmp_path: Path, content_articles: dict[str, Article]
) -> None:
    path = tmp_path / "index"
    path.write_text("mine", encoding="utf-8")
    with pytest.raises(IndexError_, match="not a folder"):
        update_index(list(content_articles.values()), path)
    assert path.read_text(encoding="utf-8") == "mine"


def test_opening_a_folder_without_an_index_says_so(tmp_path: Path) -> None:
    with pytest.raises(IndexError_) as caught:
        open_index(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}: no search index here; build the site first (kbsite build) or give --index"
    )


def test_index_document(content_articles: dict[str, Article]) -> None:
    document = index_document(content_articles["Q200107"])
    assert document["id"] == "Q200107"
    assert document["title"] == "HMAIL: How to Configure Relay Hosts"
    assert document["product"] == "Northwind Harbor Mail Server"
    assert document["category"] == "hmail"
    assert document["type"] == "HMAIL"
    assert document["date"] == datetime.datetime(2001, 6, 11)
    assert document["headings"].splitlines()[:2] == ["SUMMARY", "MORE INFORMATION"]
    assert document["keywords"].splitlines()[:3] == ["kbhowto", "kbnetwork", "kbconfig"]
    assert "smarthost" in document["keywords"]
    assert document["body"].startswith("The information in this article applies to:")
    assert "hmadmin relay add 10.1.4.22" in document["body"]
    assert document["excerpt"].startswith("Harbor Mail Server 2.0 accepts mail for remote domains")
    assert document["order"] == order_key(content_articles["Q200107"])


def test_an_undated_article_has_no_date_field(content_articles: dict[str, Article]) -> None:
    undated = dataclasses.replace(content_articles["Q200107"], date=None)
    assert "date" not in index_document(undated)
    assert order_key(undated).split("\x1f")[3] == "0000-00-00"


def test_order_key_is_archive_order(content_articles: dict[str, Article]) -> None:
    """Category, product, type, date, then number: how ties between equal scores are broken."""
    ordered = sorted(content_articles.values(), key=order_key)
    assert [a.id for a in ordered[:3]] == ["Q90210", "Q200121", "Q200123"]
    hmail_howtos = [a.id for a in ordered if a.title_prefix == "HMAIL"]
    assert hmail_howtos == ["Q201777", "Q200107", "Q200102"]
    keys = [(a.category, a.product, a.title_prefix or "", a.date) for a in ordered]
    assert keys == sorted(keys)


def test_excerpts_are_bounded_and_cut_between_words(content_articles: dict[str, Article]) -> None:
    for article in content_articles.values():
        text = excerpt(article)
        assert 20 <= len(text) <= EXCERPT_LENGTH + 2, article.id
        if text.endswith(" …"):
            opening = text.removesuffix(" …")
            assert opening == opening.strip()
            assert " ".join(index_document(article)["body"].split()).find(opening) >= 0


def _update(
    articles: list[Article], changed: int, index_dir: Path, marks: dict[str, str] | None = None
) -> IndexUpdate:
    """An update of ``index_dir`` to ``articles``, the first ``changed`` of them changed
    (or to the articles of the index, those in ``marks`` changed, to be added by others)."""
    if marks is not None:
        held = json.loads((index_dir / "kbsite-index.json").read_text())["articles"]
        marks = {i: mark + marks.get(i, "") for i, mark in held.items()}
    else:
        marks = {a.id: fingerprint(index_document(a)) for a in articles}
    for article in articles[:changed]:
        marks[article.id] += "+"
    update = IndexUpdate(index_dir, marks)
    for article in articles[:changed]:
        update.add(whoosh_document(index_document(article)))
    return update


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def by_article(ix: index.Index) -> dict[Any, Any]:
    """What a search can read of the index, with documents named by article id rather
    than by number (which depends on the segments the articles are in)."""
    with ix.reader() as reader:
        ids = {docnum: fields["id"] for docnum, fields in reader.iter_docs()}
        found: dict[Any, Any] = {"stored": sorted(reader.iter_docs(), key=lambda d: d[1]["id"])}
        found["stored"] = [fields for _, fields in found["stored"]]
        for fieldname, text in reader.all_terms():
            matcher = reader.postings(fieldname, text)
            postings = []
            while matcher.is_active():
                postings.append((ids[matcher.id()], matcher.weight(), matcher.value()))
                matcher.next()
            info = reader.term_info(fieldname, text)
            found[fieldname, text] = (sorted(postings), info.weight(), info.doc_frequency())
        for name in ix.schema.scorable_names():
            found["length", name] = reader.field_length(name)
    return found


def _batch(articles: list[Article], index_dir: Path) -> tuple[Any, list[str]]:
    batch = SegmentBatch(index_dir)
    for article in articles:
        batch.add(whoosh_document(index_document(article)))
    return batch.finish(), batch.ids


@pytest.mark.parametrize("rebuilt", [True, False], ids=["fresh-index", "updated-index"])
def test_segments_written_by_other_processes_make_the_index_one_writer_makes(
    tmp_path: Path, content_articles: dict[str, Article], rebuilt: bool
) -> None:
    """A build's workers each write a segment of the articles they analyzed; the main
    process's commit adds them and deletes the old entries of the changed articles."""
    articles = list(content_articles.values())
    changed = len(articles) if rebuilt else 3
    results = []
    for where in ("here", "workers"):
        index_dir = tmp_path / where
        update_index(articles, index_dir)
        if where == "here":
            update = _update(articles, changed, index_dir)
        else:
            update = _update([], 0, index_dir, {a.id: "+" for a in articles[:changed]})
            half = changed // 2
            parts = [
                Forked(functools.partial(_batch, part, update.index_dir))
                for part in (articles[:half], articles[half:changed])
            ]
            shares = [part.result() for part in parts]
            update.add_segments([seg for seg, _ in shares], [i for _, ids in shares for i in ids])
        report = update.finish()
        assert counts(report) == (
            (changed, 0, 0, 0, True) if rebuilt else (0, 3, 0, len(articles) - 3, False)
        )
        results.append(by_article(open_index(index_dir)))
        assert [p.name for p in tmp_path.iterdir() if where in p.name] == [where]
        assert not [p for p in index_dir.iterdir() if p.is_dir()]
    assert results[0] == results[1]


def test_a_segment_batch_cancelled_leaves_the_index_as_it_was(
    tmp_path: Path, content_articles: dict[str, Article]
) -> None:
    articles = list(content_articles.values())
    index_dir = tmp_path / "index"
    update_index(articles, index_dir)
    before = _files(index_dir)
    update = _update([], 0, index_dir, {a.id: "+" for a in articles})
    batch = SegmentBatch(update.index_dir)
    batch.add(whoosh_document(index_document(articles[0])))
    batch.cancel()
    update.cancel()
    assert _files(index_dir) == before
    assert [p.name for p in tmp_path.iterdir()] == ["index"]


# -- one index per site ---------------------------------------------------------------

CYCLE = Path(__file__).parents[1] / "sites" / "cycle"
CYCLE_IDS = {"Q300001", "Q300002", "Q300003"}
OTHER_IDS = {"Q400001", "Q400002", "Q400003"}


def two_archives(folder: Path) -> tuple[Path, Path]:
    """The cycle archive, and a copy of it whose articles are Q4000NN instead of Q3000NN."""
    other = folder / "b-src"
    other.mkdir()
    for source in CYCLE.iterdir():
        renamed = source.name.replace("Q3000", "Q4000")
        (other / renamed).write_bytes(source.read_bytes().replace(b"Q3000", b"Q4000"))
    return CYCLE, other


def run_kbsite(*arguments: str | Path) -> str:
    result = CliRunner().invoke(main, [str(a) for a in arguments])
    assert result.exit_code == 0, result.output
    return result.output


def found(site: Path) -> set[str]:
    """The articles ``kbsite search --site`` finds for a word all six articles hold."""
    hits = json.loads(run_kbsite("search", "cycle", "--site", site, "--json", "-n", "20"))
    return {hit["id"] for hit in hits}


def test_two_sites_built_side_by_side_keep_their_own_indexes(tmp_path: Path) -> None:
    a_src, b_src = two_archives(tmp_path)
    run_kbsite("build", a_src, "-o", tmp_path / "a", "-q")
    run_kbsite("build", b_src, "-o", tmp_path / "b", "-q")
    assert found(tmp_path / "a") == CYCLE_IDS
    assert found(tmp_path / "b") == OTHER_IDS
    assert default_index_dir(tmp_path / "a") != default_index_dir(tmp_path / "b")
    assert not (tmp_path / SHARED_INDEX).exists()


def test_an_index_one_site_kept_in_the_old_shared_place_is_moved_to_its_own(
    tmp_path: Path,
) -> None:
    shared, site = tmp_path / SHARED_INDEX, tmp_path / "a"
    run_kbsite("build", CYCLE, "-o", site, "-q", "--index", shared)  # as before each had its own
    output = run_kbsite("build", CYCLE, "-o", site, "-q")
    own = default_index_dir(site)
    assert f"Note: moved the search index from {shared} to {own}, this site's own" in output
    assert "Search index: 0 added, 0 changed, 0 removed, 3 unchanged" in output
    assert not shared.exists() and own.is_dir()
    assert found(site) == CYCLE_IDS


def test_an_index_two_sites_shared_is_taken_by_neither(tmp_path: Path) -> None:
    a_src, b_src = two_archives(tmp_path)
    shared, a, b = tmp_path / SHARED_INDEX, tmp_path / "a", tmp_path / "b"
    run_kbsite("build", a_src, "-o", a, "-q", "--index", shared)
    run_kbsite("build", b_src, "-o", b, "-q", "--index", shared)
    output = run_kbsite("build", a_src, "-o", a, "-q")
    assert f"Note: the search index {shared} is shared with b; this site's own is built anew" in (
        " ".join(output.split())
    )
    assert "Search index: 3 added, 0 changed, 0 removed, 0 unchanged" in output
    assert shared.is_dir()
    assert found(a) == CYCLE_IDS
    assert found(b) == OTHER_IDS  # still the shared one, which b wrote last
    assert "Note: moved the search index" in run_kbsite("build", b_src, "-o", b, "-q")
    assert not shared.exists()
    assert (found(a), found(b)) == (CYCLE_IDS, OTHER_IDS)


def test_a_site_whose_index_was_moved_before_its_marker_was_rewritten_finds_it(
    tmp_path: Path,
) -> None:
    shared, site = tmp_path / SHARED_INDEX, tmp_path / "a"
    run_kbsite("build", CYCLE, "-o", site, "-q", "--index", shared)
    notes: list[str] = []
    own = claim_index_dir(site, notes)  # a build that stops right after moving it
    assert own == default_index_dir(site) and own.is_dir() and notes
    assert index_dir_for_site(site) == own
    assert found(site) == CYCLE_IDS
