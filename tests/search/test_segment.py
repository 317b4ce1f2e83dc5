"""``PreparedWriter`` writes what whoosh's own ``SegmentWriter`` writes, only faster."""

from __future__ import annotations

import functools
import os
import random
from pathlib import Path
from typing import Any

import pytest
from whoosh import index
from whoosh.writing import SegmentWriter

import kbsite.search.termwriter
from kbsite.model import Article
from kbsite.parallel import Forked
from kbsite.search.index import TEXT_FIELDS, index_document, index_schema, whoosh_document
from kbsite.search.segment import PreparedWriter, SegmentBatch
from kbsite.search.termpool import RUN_POSTINGS
from kbsite.search.termwriter import TermWriter


def sample_documents(articles: dict[str, Article]) -> list[dict[str, Any]]:
    return [whoosh_document(index_document(article)) for article in articles.values()]


def synthetic_documents(count: int) -> list[dict[str, Any]]:
    """Documents whose common terms span several posting blocks (128 postings each)."""
    chance = random.Random(7)
    words = [f"w{n}" for n in range(40)] + ["caf\u00e9", "x\u2019y"]
    documents = []
    for number in range(count):
        document: dict[str, Any] = {"id": f"Q{number}", "order": b"%06d" % (count - number)}
        for name in TEXT_FIELDS:
            length = chance.choice([0, 1, 3, 40, 300])
            document[name] = [
                chance.choice(words[: chance.randint(1, len(words))]) for _ in range(length)
            ]
        document["_stored_title"] = " ".join(document["title"])
        documents.append(document)
    return documents


def write(
    writer_class: type[SegmentWriter], folder: Path, batches: list[list[dict[str, Any]]]
) -> index.Index:
    """An index written in one commit per batch; the last commit merges all segments."""
    folder.mkdir()
    ix = index.create_in(str(folder), index_schema())
    for number, batch in enumerate(batches):
        writer = writer_class(ix, compound=False)
        for document in batch:
            writer.add_document(**document)
        writer.commit(optimize=number == len(batches) - 1)
    return ix


def contents(ix: index.Index) -> dict[str, Any]:
    """Everything a search can read: postings, term statistics, lengths, stored fields."""
    with ix.reader() as reader:
        terms = {}
        for fieldname, text in reader.all_terms():
            info = reader.term_info(fieldname, text)
            matcher = reader.postings(fieldname, text)
            postings = []
            while matcher.is_active():
                postings.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            statistics = (
                info.weight(),
                info.doc_frequency(),
                info.min_length(),
                info.max_length(),
                info.max_weight(),
                info.min_id(),
                info.max_id(),
            )
            terms[fieldname, text] = (statistics, postings)
        names = reader.schema.scorable_names()
        return {
            "terms": terms,
            "stored": list(reader.iter_docs()),
            "lengths": [
                [reader.doc_field_length(docnum, name) for name in names]
                for docnum in range(reader.doc_count_all())
            ],
            "totals": [reader.field_length(name) for name in names],
            "order": list(reader.column_reader("order")),
            "segments": len(ix._segments()),
        }


def assert_same_index(
    tmp_path: Path, batches: list[list[dict[str, Any]]], run_postings: int | None = None
) -> None:
    expected = contents(write(SegmentWriter, tmp_path / "whoosh", batches))
    prepared: Any = PreparedWriter
    if run_postings is not None:
        prepared = functools.partial(PreparedWriter, run_postings=run_postings)
    found = contents(write(prepared, tmp_path / "prepared", batches))
    assert found.keys() == expected.keys()
    for key in expected:
        assert found[key] == expected[key], key


def test_the_sample_is_indexed_as_whoosh_indexes_it(
    tmp_path: Path, content_articles: dict[str, Article]
) -> None:
    assert_same_index(tmp_path, [sample_documents(content_articles)])


def test_postings_spanning_blocks_are_written_as_whoosh_writes_them(tmp_path: Path) -> None:
    assert_same_index(tmp_path, [synthetic_documents(400)])


def test_boosts_weigh_postings_as_in_whoosh(tmp_path: Path) -> None:
    documents = synthetic_documents(40)
    for number, document in enumerate(documents):
        if number % 3 == 0:
            document["_boost"] = 1.5
        if number % 4 == 0:
            document["_body_boost"] = 0.25
    assert_same_index(tmp_path, [documents])


def test_segments_whoosh_merges_in_keep_their_postings_and_lengths(
    tmp_path: Path, content_articles: dict[str, Article]
) -> None:
    """Merged segments' postings reach the pool through whoosh's ``add_reader``."""
    documents = sample_documents(content_articles)
    assert_same_index(tmp_path, [documents[:10], synthetic_documents(150), documents[10:]])


@pytest.mark.parametrize("run_postings", [1, 700])
def test_postings_written_out_in_runs_make_the_same_segment(
    tmp_path: Path, content_articles: dict[str, Article], run_postings: int
) -> None:
    """A pool that spills (after every document, or every few) merges its runs back
    into the segment it would have written from memory, merged-in segments included."""
    documents = sample_documents(content_articles)
    batches = [documents[:10], synthetic_documents(150), documents[10:]]
    assert_same_index(tmp_path, batches, run_postings)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_runs_are_temporary_files_in_the_index_folder(tmp_path: Path) -> None:
    """On the index's disk (the system's temporary folder may be memory), and gone after."""
    ix = index.create_in(str(tmp_path), index_schema())
    writer = PreparedWriter(ix, run_postings=100, compound=False)
    for document in synthetic_documents(30):
        writer.add_document(**document)
    runs = list(writer.pool.runs)
    assert len(runs) > 3
    for run in runs:
        assert Path(os.readlink(f"/proc/self/fd/{run.fileno()}")).parent == tmp_path
    writer.commit()
    assert all(run.closed for run in runs)


@pytest.mark.parametrize("run_postings", [RUN_POSTINGS, 100])
def test_a_batch_written_by_another_process_is_the_segment_a_writer_commits(
    tmp_path: Path, content_articles: dict[str, Article], run_postings: int
) -> None:
    """A build's worker writes a ``SegmentBatch``; the main process's commit adds it to
    the index as it is, and the worker's temporary files are gone."""
    documents = sample_documents(content_articles) + synthetic_documents(150)
    expected = contents(write(PreparedWriter, tmp_path / "here", [documents]))
    folder = tmp_path / "batch"
    folder.mkdir()
    ix = index.create_in(str(folder), index_schema())

    def batch() -> Any:
        written = SegmentBatch(folder, run_postings)
        for document in documents:
            written.add(document)
        assert written.ids == [document["id"] for document in documents]
        return written.finish()

    segment = Forked(batch).result()
    ix.writer().commit(mergetype=lambda writer, segments: [*segments, segment])
    assert contents(index.open_dir(str(folder))) == expected
    assert not [p for p in folder.iterdir() if p.is_dir()]


def test_term_writer_writes_the_bytes_whooshs_postings_writer_writes(
    tmp_path: Path, content_articles: dict[str, Article], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``TermWriter`` against whoosh's own postings writer, posting by posting, file by
    file: the same bytes once it compresses every block as whoosh does, at its level."""
    documents = sample_documents(content_articles) + synthetic_documents(400)
    written = []
    for name in ("whoosh", "term-writer"):
        with monkeypatch.context() as patch:
            if name == "whoosh":
                patch.setattr(TermWriter, "for_", classmethod(lambda cls, fieldwriter: None))
            else:
                patch.setattr(kbsite.search.termwriter, "COMPRESS_FROM", 1)
                patch.setattr(kbsite.search.termwriter, "COMPRESSION_LEVEL", 3)
            write(PreparedWriter, tmp_path / name, [documents])
        written.append(
            {
                path.suffix: path.read_bytes()
                for path in (tmp_path / name).iterdir()
                if path.suffix in (".pst", ".trm")
            }
        )
    assert written[0].keys() == {".pst", ".trm"}
    assert written[1] == written[0]
