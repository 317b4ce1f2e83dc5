"""``PreparedWriter`` writes what whoosh's own ``SegmentWriter`` writes, only faster."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.writing import SegmentWriter

from kbsite.index import TEXT_FIELDS, index_document, index_schema, whoosh_document
from kbsite.model import Article
from kbsite.segment import PreparedWriter


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


def assert_same_index(tmp_path: Path, batches: list[list[dict[str, Any]]]) -> None:
    expected = contents(write(SegmentWriter, tmp_path / "whoosh", batches))
    found = contents(write(PreparedWriter, tmp_path / "prepared", batches))
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
