"""The postings of a segment being written, grouped by field and term, in bounded memory.

``PreparedWriter`` (``segment.py``) pools its postings here instead of in whoosh's
``PostingPool``. Postings are kept by field and term, already in document order
(documents arrive in order), in one flat list per term, so the commit sorts terms, not
postings. The pool holds at most ``RUN_POSTINGS`` postings in memory: beyond that it
writes them to a temporary file (a run, sorted by field and term) and starts again, and
the commit merges the runs. Memory stays bounded however large the archive; the segment
is the same.
"""

from __future__ import annotations

import heapq
import marshal
import struct
import tempfile
from array import array
from collections.abc import Iterator
from typing import IO, Any

SLOTS = 3
"""A term's postings are one flat list: document number, weight, encoded value, ..."""
RUN_POSTINGS = 4_000_000
"""Postings the pool holds in memory before it writes them out as a run (~300 MB)."""
RUN_CHUNK = 50_000
"""A run is written and read back in pieces of about this many postings."""

_LENGTH = struct.Struct("<Q")

Columns = tuple["array[int]", "array[float]", list[bytes]]
"""One term's postings as columns: document numbers, weights, values."""
TermPostings = tuple[str, bytes, Columns]
"""A field name, a term and its postings."""


class TermPool:
    """Postings grouped by field and term, each term's in document order.

    Stands in for whoosh's ``PostingPool`` (``add``, ``iter_postings``, ``cleanup``),
    which keeps one sortable tuple per posting. Once it holds ``limit`` postings
    (``size``, which the writer counts), ``spill`` writes them to a run in ``folder``.
    """

    def __init__(self, limit: int = RUN_POSTINGS, folder: str | None = None) -> None:
        self.terms: dict[str, dict[bytes, list[Any]]] = {}
        """Field name -> term -> [docnum, weight, value, docnum, weight, value, ...]."""
        self.fieldnames: set[str] = set()
        self.size = 0
        """Postings held in memory."""
        self.limit = limit
        self.folder = folder
        self.runs: list[IO[bytes]] = []

    def field(self, fieldname: str) -> dict[bytes, list[Any]]:
        terms = self.terms.get(fieldname)
        if terms is None:
            terms = self.terms[fieldname] = {}
            self.fieldnames.add(fieldname)
        return terms

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """whoosh's pool interface: one (fieldname, term, docnum, weight, value) posting."""
        fieldname, text, docnum, weight, value = item
        self.field(fieldname).setdefault(text, []).extend((docnum, weight, value or b""))
        self.size += 1

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        for fieldname, text, (docnums, weights, values) in self.merged():
            for docnum, weight, value in zip(docnums, weights, values, strict=True):
                yield fieldname, text, docnum, weight, value

    def full(self) -> bool:
        return self.size >= self.limit

    def spill(self) -> None:
        """Write the postings held to a new run and let them go.

        A run is a series of marshalled ``(fieldname, [term, documents, weights, values,
        ...])`` pieces, fields and terms in order. Document numbers and weights are
        arrays' bytes, which read back without making an object per posting; marshal
        keeps the values shared in memory (single positions) shared in the run.
        """
        run = tempfile.TemporaryFile(prefix="kbsite-run-", dir=self.folder)  # noqa: SIM115  # closed by cleanup()
        self.runs.append(run)
        for fieldname, terms in sorted(self.terms.items()):
            piece: list[Any] = []
            held = 0
            for text in sorted(terms):
                docnums, weights, values = _columns(terms[text])
                piece += (text, docnums.tobytes(), weights.tobytes(), values)
                held += len(values)
                if held >= RUN_CHUNK:
                    _write_piece(run, fieldname, piece)
                    piece, held = [], 0
            if piece:
                _write_piece(run, fieldname, piece)
        self.terms = {}
        self.size = 0

    def merged(self) -> Iterator[TermPostings]:
        """Every field's terms in order, each with all its postings in document order:
        the runs' and the memory's, merged (runs hold earlier documents)."""
        if not self.runs:
            yield from self._held()
            return
        streams = [_read_run(run) for run in self.runs]
        streams.append(self._held())
        pending: TermPostings | None = None
        for item in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
            if pending is not None and pending[:2] == item[:2]:
                for column, more in zip(pending[2], item[2], strict=True):
                    column.extend(more)  # type: ignore[attr-defined]
                continue
            if pending is not None:
                yield pending
            pending = item
        if pending is not None:
            yield pending

    def _held(self) -> Iterator[TermPostings]:
        for fieldname in sorted(self.terms):
            terms = self.terms[fieldname]
            for text in sorted(terms):
                yield fieldname, text, _columns(terms[text])

    def cleanup(self) -> None:
        self.terms.clear()
        for run in self.runs:
            run.close()
        self.runs = []


def _columns(postings: list[Any]) -> Columns:
    return array("I", postings[0::SLOTS]), array("d", postings[1::SLOTS]), postings[2::SLOTS]


def _write_piece(run: IO[bytes], fieldname: str, piece: list[Any]) -> None:
    """A length, then the marshalled piece: ``marshal.load`` from a file reads it a few
    bytes at a time, ``marshal.loads`` all at once, over ten times faster."""
    data = marshal.dumps((fieldname, piece))
    run.write(_LENGTH.pack(len(data)))
    run.write(data)


def _read_run(run: IO[bytes]) -> Iterator[TermPostings]:
    run.seek(0)
    while header := run.read(_LENGTH.size):
        (length,) = _LENGTH.unpack(header)
        fieldname, piece = marshal.loads(run.read(length))
        for at in range(0, len(piece), 4):
            docnums, weights = array("I"), array("d")
            docnums.frombytes(piece[at + 1])
            weights.frombytes(piece[at + 2])
            yield fieldname, piece[at], (docnums, weights, piece[at + 3])
