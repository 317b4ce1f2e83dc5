"""The search stage's side of a build: which articles both indexes need analyzed, and
what to do with the results.

The whoosh index is updated by its ledger (``IndexUpdate``). The browser's index is
patched (``patch_web_index``) when articles only changed text and kept their place in
archive order, and written whole otherwise. Patching takes an edited article's old
postings out of the shards it touched: each article's postings and words are kept in
the cache folder's postings files (``POSTINGS_FILES``), which this module alone reads
and writes; ``SearchState`` says which entry is where.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import IO, Any

from kbsite import __version__
from kbsite.errors import KbsiteError
from kbsite.model import Article, ArticleRecord
from kbsite.output.write import SiteWriter
from kbsite.parallel import Finish
from kbsite.search import synonyms
from kbsite.search.index import (
    VOCABULARY,
    IndexReport,
    IndexUpdate,
    analyzed_fields,
    index_document,
    order_key,
    whoosh_document,
)
from kbsite.search.segment import SegmentBatch
from kbsite.search.spelling import WORDS_FILE, write_words
from kbsite.search.webindex import (
    ArticleEdit,
    ArticlePostings,
    WebIndexBuilder,
    WebIndexReport,
    article_postings,
    patch_web_index,
)

POSTINGS_FILES = "postings-*.bin"
"""In the cache folder: each article's browser-index postings and words, so an edit
can take its old ones out of the shards it touched. Each build that analyzes articles
writes a new file; the cache says which entry is where, and files no entry points to
are removed once the cache is saved."""

SHARED_RUN_POSTINGS = 1_000_000
"""Postings the analyzing processes together hold before they write them out as runs
(``termpool.TermPool``), each its share: the build's memory (below 1 GiB at 57,000
articles) does not grow with the jobs."""

PostingsPlace = list[Any]
"""Where an article's packed postings are: file name, offset, length (a list: the cache
keeps it as marshal data)."""


@dataclasses.dataclass(slots=True)
class SearchState:
    """What the last build's search stage left, kept in the build cache."""

    ids: list[str] = dataclasses.field(default_factory=list)
    """The articles in archive order."""
    order: list[str] = dataclasses.field(default_factory=list)
    """Their ``order_key``, in the same order."""
    digests: dict[str, str] = dataclasses.field(default_factory=dict)
    """Each article's source digest as its index entries were made from it."""
    offsets: dict[str, PostingsPlace] = dataclasses.field(default_factory=dict)
    """Where each article's postings and words are (``POSTINGS_FILES``)."""
    files: dict[str, str] = dataclasses.field(default_factory=dict)
    """The browser index's files in the site, with their page key."""

    def as_data(self) -> dict[str, Any]:
        """The fields as they are (``dataclasses.asdict`` would copy every list)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    @classmethod
    def from_data(cls, data: Any) -> SearchState:
        """The state as read from the cache; a wrong shape raises TypeError."""
        if not isinstance(data, dict):
            raise TypeError("search state is not an object")
        state = cls(**data)
        for value in (state.digests, state.offsets, state.files):
            if not isinstance(value, dict):
                raise TypeError("search state holds a list where a mapping belongs")
        return state


@dataclasses.dataclass(slots=True)
class AnalyzedArticle:
    """What the main process gets of one article a build process analyzed (its whoosh
    entry went into that process's own segment, ``SearchShare``)."""

    postings: ArticlePostings
    """For the browser's index."""
    words: list[str] | None
    """The article's distinct words (its ``index.VOCABULARY`` terms), when the browser's
    index is patched; else each process counts them itself."""
    place: PostingsPlace | None
    """Where its postings and words were kept (``POSTINGS_FILES``), when they are."""


@dataclasses.dataclass(slots=True)
class ShareResult:
    """What one build process hands back, once, after analyzing its share of the articles."""

    segment: Any | None
    """Its whoosh segment (``SegmentBatch``), or None."""
    indexed: list[str]
    """The articles in that segment."""


@dataclasses.dataclass(slots=True)
class SearchShare:
    """The search stage's part in each process that analyzes articles: it writes its
    own whoosh segment and postings file, so that the main
    process, which must take every article's browser postings in archive order, does
    no more than that. Made by ``SearchWork.share`` before the workers are forked."""

    index_dir: Path
    postings_dir: Path
    stale: set[str]
    """The articles whose whoosh entries are written anew."""
    kept: set[str] | None
    """The articles whose postings are kept in the cache folder; None for all."""
    whole: bool
    """The browser's index is written whole: its builder counts the words (``WORDS_CODE``
    postings), and they need not be sent apart."""
    run_postings: int
    segment: SegmentBatch | None = None
    postings_name: str = ""
    postings_out: IO[bytes] | None = None

    def analyze(self, article: Article) -> AnalyzedArticle:
        """One analysis of the article's text, feeding whoosh and the browser's index."""
        document = index_document(article)
        terms = analyzed_fields(document)
        if article.id in self.stale:
            if self.segment is None:
                self.segment = SegmentBatch(self.index_dir, self.run_postings)
            self.segment.add(whoosh_document(document, terms))
        postings = article_postings(terms)
        words = terms[VOCABULARY]
        place = None
        if self.kept is None or article.id in self.kept:
            place = self._keep(pack_postings(postings, "\n".join(words)))
        return AnalyzedArticle(postings, None if self.whole else words, place)

    def _keep(self, packed: bytes) -> PostingsPlace:
        if self.postings_out is None:
            self.postings_dir.mkdir(parents=True, exist_ok=True)
            self.postings_name = f"postings-{time.time_ns()}-{os.getpid()}.bin"
            self.postings_out = (self.postings_dir / self.postings_name).open("wb")
        place = [self.postings_name, self.postings_out.tell(), len(packed)]
        self.postings_out.write(packed)
        return place

    def finish(self) -> ShareResult:
        """Close this process's postings file and write its segment."""
        if self.postings_out is not None:
            self.postings_out.close()
            self.postings_out = None
        segment, self.segment = self.segment, None
        if segment is None:
            return ShareResult(None, [])
        return ShareResult(segment.finish(), segment.ids)

    def cancel(self) -> None:
        if self.postings_out is not None:
            self.postings_out.close()
            self.postings_out = None
        if self.segment is not None:
            self.segment.cancel()
            self.segment = None


def word_list(words: str) -> list[str]:
    """Words as ``pack_postings`` keeps them (a word a line), as a list."""
    return words.split("\n") if words else []


def pack_postings(postings: ArticlePostings, words: str) -> bytes:
    """An article's browser-index postings and words, as ``SearchWork`` reads them back."""
    return zlib.compress(marshal.dumps((postings, words)), 1)


def archive_order(
    records: list[ArticleRecord], previous: SearchState | None = None
) -> tuple[list[str], list[ArticleRecord]]:
    """The records' ``order_key`` in archive order, and the records in that order.

    Given the state of a build whose records had the same links (``links_unchanged``),
    its order is this one (the key is made of linked fields), and an edit's rebuild need
    not sort the archive again.
    """
    if previous is not None:
        ids, keys = previous.ids, previous.order
        if ids and keys and len(ids) == len(keys) == len(records):
            by_id = {record.id: record for record in records}
            ordered = [by_id.get(i) for i in ids]
            if None not in ordered:
                return keys, ordered  # type: ignore[return-value]  # no None, as checked
    order = sorted(zip(map(order_key, records), range(len(records)), strict=True))
    return [key for key, _ in order], [records[at] for _, at in order]


class SearchWork:
    """Both indexes' updates for one build, fed in archive order (``add``)."""

    def __init__(
        self,
        index_dir: Path,
        postings_dir: Path,
        ordered: list[ArticleRecord],
        order: list[str],
        digests: dict[str, str],
        previous: SearchState,
        table: synonyms.Table,
    ) -> None:
        """``index_dir``: the new generation of the whoosh index (``publish.stage_index``);
        ``ordered``: the records in archive order; ``order``: their ``order_key``;
        ``digests``: each article's source digest; ``previous``: the state of the build
        whose site this one updates in place (an empty one when it writes it whole);
        ``table``: the site's short forms (``synonyms.site_table``)."""
        self.ordered = ordered
        self.order = order
        self.postings_dir = postings_dir
        self.digests = digests
        self.previous = previous
        self.table = table
        marks = {i: f"{__version__}:{d}" for i, d in digests.items()}
        self.update = IndexUpdate(index_dir, marks, generation=True)
        self.index_dir = index_dir
        self.changed = {i for i, _ in digests.items() - previous.digests.items()}
        """The articles whose browser-index entries change."""
        self.old_entries: dict[str, tuple[ArticlePostings, list[str]]] = {}
        """The changed articles' postings and words as the last build kept them."""
        try:
            self.patch = self._patchable() and self._read_old_entries()
        except BaseException:
            self.update.cancel()
            raise
        self.numbers = {r.id: n for n, r in enumerate(ordered)}
        self.builder = None if self.patch else WebIndexBuilder(table)
        self.edits: list[ArticleEdit] = []
        self.new_words: dict[str, list[str]] = {}
        self.offsets = dict(previous.offsets) if self.patch else {}
        self.files: dict[str, str] = {}
        self.shares: list[Finish[ShareResult]] = []
        """The analyzing processes' segments, still being written while this process
        writes the browser's index: ``finish`` waits for them."""

    def _patchable(self) -> bool:
        """Whether the browser's index can be patched: the articles kept their order,
        the last build's index files and postings are all there, and whoosh's index
        (which keeps the spelling words) is updated rather than made anew."""
        previous = self.previous
        return (
            previous.order == self.order
            and bool(previous.files)
            and not self.update.report.rebuilt
            and all((self.postings_dir / name).exists() for name in self._previous_postings())
            and (self.index_dir / WORDS_FILE).exists()
        )

    def _read_old_entries(self) -> bool:
        """Read the changed articles' old postings and words; False when a postings file
        is damaged, and the browser's index must be written whole."""
        try:
            for article_id in self.changed:
                self.old_entries[article_id] = self._old_entry(article_id)
        except (OSError, ValueError, EOFError, TypeError, zlib.error):
            self.old_entries.clear()
            return False
        return True

    def _previous_postings(self) -> set[str]:
        """The postings files the last build's entries are in (a few, for many entries)."""
        return {entry[0] for entry in self.previous.offsets.values()}

    def wanted(self, article_id: str) -> bool:
        """Whether the article must be analyzed."""
        return not self.patch or article_id in self.changed or article_id in self.update.stale

    def share(self, jobs: int) -> SearchShare:
        """The part of this build's search work each analyzing process does itself."""
        return SearchShare(
            self.index_dir,
            self.postings_dir,
            self.update.stale,
            None if self.builder is not None else self.changed,
            whole=self.builder is not None,
            run_postings=SHARED_RUN_POSTINGS // max(jobs, 1),
        )

    def add(self, record: ArticleRecord, analyzed: AnalyzedArticle | None) -> None:
        """One wanted article's analysis (None when it could not be read), in order."""
        if analyzed is None:
            if self.builder is not None:
                self.builder.add({})
            return
        if self.builder is not None:
            self.builder.add(analyzed.postings)
        elif record.id in self.changed:
            edit = ArticleEdit(
                self.numbers[record.id], record, self.old_entries[record.id][0], analyzed.postings
            )
            self.edits.append(edit)
            self.new_words[record.id] = analyzed.words or []
        if analyzed.place is not None:
            self.offsets[record.id] = analyzed.place

    def take(self, shares: list[Finish[ShareResult]]) -> None:
        """What the analyzing processes hand back, each its segment, once they finish."""
        self.shares.extend(shares)

    def _old_entry(self, article_id: str) -> tuple[ArticlePostings, list[str]]:
        where = self.previous.offsets.get(article_id)
        if where is None:
            return {}, []
        name, offset, length = where
        with (self.postings_dir / name).open("rb") as data:
            data.seek(offset)
            postings, words = marshal.loads(zlib.decompress(data.read(length)))
        if not isinstance(postings, dict) or not isinstance(words, str):
            raise TypeError("not an article's postings and words")
        return postings, word_list(words)

    def write_web_index(self, writer: SiteWriter) -> WebIndexReport:
        """Write the browser's index (patched or whole), and beside the whoosh index the
        spelling word list and, when whole, the short forms (a patch keeps the settings,
        so the table already there is this build's)."""
        if self.builder is None:
            return self._patch(writer)
        if self.builder.documents != len(self.ordered):
            raise KbsiteError("internal error: the browser's index lacks articles")
        web = self.builder.write(self.ordered, writer)
        self.files = {p: "search" for p in writer.staged if p.startswith("search/")}
        write_words(self.index_dir, self.builder.vocabulary)
        synonyms.write_table(self.index_dir, self.table)
        return web

    def finish(self) -> IndexReport:
        """Finish the whoosh index with the processes' segments, for the publish."""
        shares = [share for finish in self.shares for share in finish.results()]
        self.shares.clear()
        segments = [share.segment for share in shares if share.segment is not None]
        self.update.add_segments(segments, [i for share in shares for i in share.indexed])
        return self.update.finish()

    def cancel(self) -> None:
        for finish in self.shares:
            finish.cancel()
        self.update.cancel()

    def _patch(self, writer: SiteWriter) -> WebIndexReport:
        self.files = dict(self.previous.files)
        if not self.edits:
            return WebIndexReport(documents=len(self.ordered), patched=True)
        report = patch_web_index(
            writer.live_path("search").parent, self.ordered, self.edits, writer
        )
        if report is None:
            raise KbsiteError(
                "the site's search index cannot be patched; run the build again with --full",
                writer.output / "search",
            )
        counts = _read_words(self.index_dir)
        for edit in self.edits:
            _, old_words = self.old_entries[edit.record.id]
            counts.subtract(old_words)
            counts.update(self.new_words[edit.record.id])
        write_words(self.index_dir, +counts)
        return report

    def forget_unused_postings(self) -> None:
        """Remove the postings files no cached entry points to (after the cache is saved)."""
        used = {entry[0] for entry in self.offsets.values()}
        for path in self.postings_dir.glob(POSTINGS_FILES):
            if path.name not in used:
                path.unlink(missing_ok=True)

    def state(self) -> SearchState:
        return SearchState(
            [record.id for record in self.ordered],
            self.order,
            self.digests,
            self.offsets,
            self.files,
        )


def _read_words(index_dir: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in (index_dir / WORDS_FILE).read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition("\t")
        if count.isdigit():
            counts[word] = int(count)
    return counts
