"""Writing a whoosh segment from documents kbsite has already analyzed, fast.

whoosh's ``SegmentWriter`` spends nearly all of a build in per-posting Python: a
``Token`` for every term of an analyzed list, a tuple per posting in its sorting pool,
a sort of millions of those tuples, then at commit a field-length lookup and an
``add_posting`` call for each posting. ``PreparedWriter`` writes the same files, byte
for byte for the same documents (``tests/test_segment.py`` checks), doing most of that
work per term instead:

- a text field given as a term list is counted with plain dicts into the postings
  whoosh's ``Positions`` and ``Frequency`` formats would make of it;
- postings are kept by field and term, already in document order (documents arrive
  in order), in one flat list per term, so the commit sorts terms, not postings;
- the commit writes each term's postings a block at a time, lengths taken from the
  lengths the writer kept per field: with whoosh3's writers, ``TermWriter`` writes their
  bytes itself, a term at once.

The pool holds at most ``RUN_POSTINGS`` postings in memory: beyond that it writes them
to a temporary file (a run, sorted by field and term) and starts again, and the commit
merges the runs. Memory stays bounded however large the archive; the segment is the same.

Anything else (other field types, other formats, postings of segments whoosh merges
in) takes whoosh's own path, so the writer stays a complete ``SegmentWriter``.
"""

from __future__ import annotations

import datetime
import heapq
import marshal
import operator
import pickle
import struct
import tempfile
import zlib
from array import array
from collections.abc import Iterator
from typing import IO, Any

from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3FieldWriter,
    W3PerDocWriter,
    W3PostingsWriter,
    W3TermInfo,
)
from whoosh.filedb.filetables import OrderedHashWriter, md5_hash
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

SLOTS = 3
"""A term's postings are one flat list: document number, weight, encoded value, ..."""
REPEATED_VALUES = (datetime.date, int, float)
"""Values whose postings whoosh makes are kept for the next document with the same one."""
RUN_POSTINGS = 4_000_000
"""Postings the pool holds in memory before it writes them out as a run (~300 MB)."""
RUN_CHUNK = 50_000
"""A run is written and read back in pieces of about this many postings."""

COMPRESS_FROM = 8
"""Postings a block needs for the commit to compress it. whoosh compresses every block
(it means to skip those under 20 bytes, but a later line undoes that): most terms have
a block of a few postings, which zlib hardly shrinks (the index grows 2% without), and
compressing them was an eighth of the commit. A block says whether it is compressed, so
whoosh reads both kinds."""
_CODEC_COMPRESSION = 3
"""whoosh's own level (``W3Codec``'s default)."""

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


class PreparedWriter(SegmentWriter):  # type: ignore[misc]
    """A whoosh ``SegmentWriter`` fast for text fields given as lists of index terms."""

    def __init__(self, ix: Any, run_postings: int = RUN_POSTINGS, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.pool = TermPool(run_postings, getattr(self.storage, "folder", None))
        self._lengths: dict[str, array[int]] = {}
        """Each scorable field's length per document, as the lengths column rounds it."""
        self._prepared = self.docnum
        """Documents below this number came through ``add_document``."""
        self._indexed: dict[tuple[str, Any], tuple[list[tuple[bytes, float, bytes]], int]] = {}
        """whoosh's postings of values that are not text (dates), which repeat."""

    def add_document(self, **fields: Any) -> None:
        """``SegmentWriter.add_document``, with term lists counted here, not tokenized."""
        self._check_state()
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter = self.perdocwriter
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    boost = self._field_boost(fields, fieldname, docboost)
                    length = self._index(fieldname, field, value, docnum, boost)
                stored = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
                column = field.column_type
                if column and stored is not None:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(stored))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1
        self._prepared = self.docnum
        if self.pool.full():
            self.pool.spill()

    def _index(self, fieldname: str, field: Any, value: Any, docnum: int, boost: float) -> int:
        """Pool the postings of one field's value; its length (0 unless scorable)."""
        if field.vector or field.separate_spelling():
            raise NotImplementedError(f"{fieldname}: term vectors and spelling fields")
        terms = self.pool.field(fieldname)
        format_ = field.format
        if isinstance(value, list) and type(format_) in (Positions, Frequency):
            self.pool.size += _pool_terms(terms, value, docnum, format_, boost)
            length = len(value)
        else:
            key = (fieldname, value) if isinstance(value, REPEATED_VALUES) else None
            indexed = self._indexed.get(key) if key else None
            if indexed is None:
                indexed = _whoosh_postings(field, value, boost)
                if key:
                    self._indexed[key] = indexed
            postings, length = indexed
            self.pool.size += len(postings)
            for text, weight, vbytes in postings:
                found = terms.get(text)
                if found is None:
                    terms[text] = [docnum, weight, vbytes]
                else:
                    found.extend((docnum, weight, vbytes))
        if not field.scorable:
            return 0
        if length:
            lengths = self._lengths.get(fieldname)
            if lengths is None:
                lengths = self._lengths[fieldname] = array("i")
            if len(lengths) < docnum:
                lengths.extend([0] * (docnum - len(lengths)))
            lengths.append(byte_to_length(length_to_byte(length)))
        return length

    def flush_files(self) -> bool:
        """Write out what the writer's open files hold buffered, so that a forked copy of
        this process can commit: the copies share the files' offsets, and this process's
        buffers would land in them when it let go of the writer. False when the codec's
        files are not the ones known here (then only this process may commit)."""
        files = self._open_files()
        if files is None:
            return False
        for file in files:
            file.flush()
        return True

    def close_copy(self) -> None:
        """Close this process's copy of the writer's files after a forked copy committed
        (or was stopped): nothing of it is written, and the index is left as the commit
        left it."""
        for file in self._open_files() or []:
            file.close()
        searcher: Any = getattr(self, "_searcher", None)
        if searcher is not None:  # closed as whoosh's ``_finish`` closes it
            searcher._orig_close()
            self._searcher = None
        if self.writelock is not None and self.writelock.fd is not None:
            self.writelock.release()
        self.is_closed = True

    def _open_files(self) -> list[Any] | None:
        perdoc, fieldwriter = self.perdocwriter, self.fieldwriter
        if type(perdoc) is not W3PerDocWriter or type(fieldwriter) is not W3FieldWriter:
            return None
        files = [perdoc._cols._temp, fieldwriter._tindex.dbfile, fieldwriter._postfile]
        if perdoc._vpostfile is not None:
            files.append(perdoc._vpostfile)
        return [*files, *self.pool.runs]

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.docnum > self._prepared else None
        try:
            self._write_postings(pdr)
        finally:
            if pdr is not None:
                pdr.close()
        self.fieldwriter.close()

    def _write_postings(self, pdr: Any) -> None:
        """The pool's postings into the segment: fields and terms in order, blocks at once.

        Lengths of documents this writer added are its own; those of documents whoosh
        merged in (``add_reader``, after them) come from the lengths column, like whoosh's.
        """
        fieldwriter = self.fieldwriter
        terms = TermWriter.for_(fieldwriter)
        current: str | None = None
        lengths: array[int] | None = None
        for fieldname, text, postings in self.pool.merged():
            if fieldname not in self.schema:
                continue
            if fieldname != current:
                if current is not None:
                    fieldwriter.finish_field()
                current = fieldname
                field = self.schema[fieldname]
                lengths = self._field_lengths(fieldname, pdr) if field.scorable else None
                fieldwriter.start_field(fieldname, field)
                if terms is not None:
                    terms.start_field(fieldwriter)
            if terms is not None:
                terms.add(text, postings, lengths)
                continue
            fieldwriter.start_term(text)
            _add_postings(fieldwriter._postwriter, postings, lengths)
            fieldwriter.finish_term()
        if current is not None:
            fieldwriter.finish_field()
        if terms is not None:
            terms.finish()

    def _field_lengths(self, fieldname: str, pdr: Any) -> array[int]:
        lengths = self._lengths.get(fieldname, array("i"))
        lengths.extend([0] * (self._prepared - len(lengths)))
        lengths.extend(
            pdr.doc_field_length(docnum, fieldname) or 0
            for docnum in range(self._prepared, self.docnum)
        )
        return lengths


_WEIGHTS = [float(count) for count in range(256)]
_FREQUENCIES = [pack_uint(count) for count in range(256)]
_ONE_POSITION: dict[int, bytes] = {}
"""``Positions.encode([position])``, the value of most postings, made once each."""


def _pool_terms(
    terms: dict[bytes, list[Any]], value: list[str], docnum: int, format_: Any, boost: float
) -> int:
    """Pool the postings whoosh's ``Positions`` or ``Frequency`` format makes of a term
    list (weight: the term's count, boosted; value: its positions, or its count); how
    many it pooled."""
    field_boost = format_.field_boost
    unboosted = field_boost == 1.0 and boost == 1.0
    if type(format_) is Frequency:
        counts: dict[str, int] = {}
        for term in value:
            counts[term] = counts.get(term, 0) + 1
        for term, count in counts.items():
            small = count < 256
            weight = _WEIGHTS[count] if small and unboosted else count * field_boost * boost
            vbytes = _FREQUENCIES[count] if small else pack_uint(count)
            text = term.encode("utf-8")
            found = terms.get(text)
            if found is None:
                terms[text] = [docnum, weight, vbytes]
            else:
                found.extend((docnum, weight, vbytes))
        return len(counts)
    positions: dict[str, Any] = {}
    for position, term in enumerate(value):
        found = positions.get(term)
        if found is None:
            positions[term] = position
        elif isinstance(found, int):
            positions[term] = [found, position]
        else:
            found.append(position)
    encode = format_.encode
    one = _ONE_POSITION
    for term, found in positions.items():
        if isinstance(found, int):
            weight = 1.0 * field_boost * boost
            vbytes = one.get(found)
            if vbytes is None:
                vbytes = one[found] = encode([found])
        else:
            count = len(found)
            weight = _WEIGHTS[count] if count < 256 and unboosted else count * field_boost * boost
            vbytes = encode(found)
        text = term.encode("utf-8")
        pooled = terms.get(text)
        if pooled is None:
            terms[text] = [docnum, weight, vbytes]
        else:
            pooled.extend((docnum, weight, vbytes))
    return len(positions)


def _whoosh_postings(
    field: Any, value: Any, boost: float
) -> tuple[list[tuple[bytes, float, bytes]], int]:
    """whoosh's own indexing of a value: its postings and (summed frequencies) length."""
    postings = []
    length = 0
    for text, frequency, weight, vbytes in field.index(value):
        postings.append((text, weight * boost, vbytes))
        length += frequency
    return postings, length


class TermWriter:
    """Writes terms as ``W3FieldWriter`` and ``W3PostingsWriter`` write them, byte for byte,
    a term at a time: its blocks made in one pass and its postings written at once, and
    where each goes in the postings and terms files counted here, not asked of the files
    (a system call each time): a fifth less time for a whole index's commit. Blocks of
    fewer than ``COMPRESS_FROM`` postings are left uncompressed.

    Only for the whoosh3 codec's writers with their usual settings (``for_``); nothing
    else may write to the two files meanwhile, which ``finish`` checks.
    """

    def __init__(self, fieldwriter: W3FieldWriter) -> None:
        self.postfile = fieldwriter._postfile
        self.tindex = fieldwriter._tindex
        self.post_at: int = self.postfile.tell()
        self.terms_at: int = self.tindex.dbfile.tell()
        self.fieldid = b""
        self.fixedsize: int | None = None
        self.blocklimit = 0
        self.compression = 0

    @classmethod
    def for_(cls, fieldwriter: Any) -> TermWriter | None:
        if (
            type(fieldwriter) is not W3FieldWriter
            or type(fieldwriter._tindex) is not OrderedHashWriter
        ):
            return None
        postwriter = fieldwriter._codec.postings_writer(fieldwriter._postfile)
        if type(postwriter) is not W3PostingsWriter or postwriter._inlinelimit > 1:
            return None
        if fieldwriter._tindex.hashtype != 0:
            return None
        return cls(fieldwriter)

    def start_field(self, fieldwriter: Any) -> None:
        """After ``fieldwriter.start_field``."""
        postwriter = fieldwriter._postwriter
        self.fieldid = pack_ushort(fieldwriter._fieldid)
        self.fixedsize = fieldwriter._format.fixed_value_size()
        self.blocklimit = postwriter._blocklimit
        self.compression = postwriter._compression or _CODEC_COMPRESSION

    def add(self, text: bytes, postings: Columns, lengths: array[int] | None) -> None:
        """One term: what ``start_term``, ``add`` for each posting and ``finish_term`` write."""
        docnums, weights, values = postings
        count = len(docnums)
        step = self.blocklimit
        pieces = [WHOOSH3_HEADER_MAGIC]
        total_weight = 0.0
        heaviest = 0.0
        minlength: int | None = None
        maxlength = 0
        for start in range(0, count, step):
            block = docnums[start : start + step]
            block_weights = weights[start : start + step]
            stored_weights = array("f", block_weights)
            block_heaviest = max(block_weights)
            if block_heaviest <= 0:
                block_heaviest = 0
            block_min: int | None = None
            block_max = 0
            if lengths is not None:
                known = list(filter(None, map(lengths.__getitem__, block)))
                if known:
                    block_min, block_max = min(known), max(known)
            total_weight += sum(stored_weights)
            minlength = block_min if minlength is None else min(minlength, block_min)  # type: ignore[type-var]  # as W3TermInfo.add_block
            maxlength = max(maxlength, block_max)
            heaviest = max(heaviest, block_heaviest)
            data = pickle.dumps(
                (
                    (block[0], *map(operator.sub, block[1:], block[:-1])),
                    _mini_weights(stored_weights),
                    self._mini_values(values[start : start + step]),
                ),
                2,
            )
            compression = self.compression if len(block) >= COMPRESS_FROM else 0
            if compression:
                data = zlib.compress(data, compression)
            info = pickle.dumps(
                (
                    len(block),
                    block[-1],
                    block_heaviest,
                    compression,
                    _length_byte(block_min),
                    _length_byte(block_max),
                ),
                2,
            )
            size = len(info) + len(data)
            pieces += (pack_int(-size if start + step >= count else size), info, data)
        written = b"".join(pieces)
        self.postfile.write(written)
        terminfo = _TERM_INFO.pack(
            0,
            total_weight,
            count,
            _length_byte(minlength),
            _length_byte(maxlength),
            heaviest,
            docnums[0],
            docnums[-1],
        )
        self._add_term(
            self.fieldid + text, terminfo + pack_long(self.post_at) + pack_int(len(written))
        )
        self.post_at += len(written)

    def _mini_values(self, values: list[bytes]) -> Any:
        """``W3PostingsWriter._mini_values`` of a block's values (empty ones are not kept)."""
        fixedsize = self.fixedsize
        if fixedsize is None or fixedsize < 0:
            return tuple(filter(None, values))
        if fixedsize == 0:
            return None
        return b"".join(values)

    def _add_term(self, key: bytes, value: bytes) -> None:
        """``OrderedHashWriter.add``."""
        tindex = self.tindex
        if key <= tindex.lastkey:
            raise ValueError(f"Keys must increase: {tindex.lastkey!r}..{key!r}")
        position = self.terms_at
        tindex.index.append(position)
        record = _KEY_VALUE_LENGTHS.pack(len(key), len(value)) + key + value
        tindex.dbfile.write(record)
        hashed = md5_hash(key)
        tindex.buckets[hashed & 255].append((hashed, position))
        tindex.lastkey = key
        self.terms_at += len(record)

    def finish(self) -> None:
        if (self.postfile.tell(), self.tindex.dbfile.tell()) != (self.post_at, self.terms_at):
            raise RuntimeError("the postings or terms file was written to behind TermWriter")


def _mini_weights(weights: array[float]) -> Any:
    """``W3PostingsWriter._mini_weights``: None when all are 1, one when all the same."""
    if weights.count(1.0) == len(weights):
        return None
    if weights.count(weights[0]) == len(weights):
        return weights[0]
    return tuple(weights)


_LENGTH_BYTES: dict[int | None, int] = {None: 0}


def _length_byte(length: int | None) -> int:
    """``length_to_byte``, remembered: a commit asks it of the same few lengths a million
    times."""
    found = _LENGTH_BYTES.get(length)
    if found is None:
        found = _LENGTH_BYTES[length] = length_to_byte(length)
    return found


_TERM_INFO = W3TermInfo._struct
_KEY_VALUE_LENGTHS = struct.Struct("!ii")
"""``filetables._lengths``: a key's and a value's length before them."""


def _add_postings(postwriter: Any, postings: Columns, lengths: array[int] | None) -> None:
    """One term's postings through the codec's own postings writer, one at a time: for
    writers ``TermWriter`` does not stand in for."""
    docnums, weights, values = postings
    for docnum, weight, value in zip(docnums, weights, values, strict=True):
        postwriter.add_posting(docnum, weight, value, lengths[docnum] if lengths else None)
