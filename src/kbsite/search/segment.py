"""Writing a whoosh segment from documents kbsite has already analyzed, fast.

whoosh's ``SegmentWriter`` spends nearly all of a build in per-posting Python: a
``Token`` for every term of an analyzed list, a tuple per posting in its sorting pool,
a sort of millions of those tuples, then at commit a field-length lookup and an
``add_posting`` call for each posting. ``PreparedWriter`` writes the same files, byte
for byte for the same documents (``tests/search/test_segment.py`` checks), doing most of
that work per term instead:

- a text field given as a term list is counted with plain dicts into the postings
  whoosh's ``Positions`` and ``Frequency`` formats would make of it;
- postings are pooled by field and term in a ``TermPool`` (``termpool.py``), which
  keeps memory bounded by writing runs to disk;
- the commit writes each term's postings a block at a time, lengths taken from the
  lengths the writer kept per field: with whoosh3's writers, ``TermWriter``
  (``termwriter.py``) writes their bytes itself, a term at once.

Anything else (other field types, other formats, postings of segments whoosh merges
in) takes whoosh's own path, so the writer stays a complete ``SegmentWriter``.
"""

from __future__ import annotations

import datetime
import os
from array import array
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from kbsite.search.termpool import RUN_POSTINGS, Columns, TermPool
from kbsite.search.termwriter import TermWriter

REPEATED_VALUES = (datetime.date, int, float)
"""Values whose postings whoosh makes are kept for the next document with the same one."""


class SegmentBatch:
    """A whoosh segment of its own, which one build process writes the articles it
    analyzes into, for the main process's commit to add (``IndexUpdate.add_segments``):
    the index is written by all the build's processes at once, rather than every
    article's terms funnelled through one process."""

    def __init__(self, index_dir: Path, run_postings: int = RUN_POSTINGS) -> None:
        self.index_dir = index_dir
        self.run_postings = run_postings
        self.ids: list[str] = []
        """The articles added, in the order added."""
        self._writer: PreparedWriter | None = None

    def add(self, document: dict[str, Any]) -> None:
        """One article's prepared ``whoosh_document``."""
        if self._writer is None:
            storage = _ProcessStorage(str(self.index_dir))
            # no lock: the main process holds the index's, and only it commits
            self._writer = PreparedWriter(
                storage.open_index(), self.run_postings, _lk=False, compound=False
            )
        self._writer.add_document(**document)
        self.ids.append(document["id"])

    def finish(self) -> Any | None:
        """Write the segment's files; the segment, or None when nothing was added."""
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        segment = writer._finalize_segment()
        writer._finish()
        return segment

    def cancel(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()


class _ProcessStorage(FileStorage):  # type: ignore[misc]
    """whoosh's file storage, with temporary folders of this process's own: a writer
    keeps its temporary files in a folder named after the index, which another
    process's writer would remove when it finished."""

    def temp_storage(self, name: str | None = None) -> Any:
        return super().temp_storage(f"{name}.{os.getpid()}" if name else None)


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


def _add_postings(postwriter: Any, postings: Columns, lengths: array[int] | None) -> None:
    """One term's postings through the codec's own postings writer, one at a time: for
    writers ``TermWriter`` does not stand in for."""
    docnums, weights, values = postings
    for docnum, weight, value in zip(docnums, weights, values, strict=True):
        postwriter.add_posting(docnum, weight, value, lengths[docnum] if lengths else None)
