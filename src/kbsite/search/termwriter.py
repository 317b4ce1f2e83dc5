"""Writing a whoosh3 segment's terms and postings files a term at a time.

The commit of ``PreparedWriter`` (``segment.py``) hands ``TermWriter`` each term's
postings whole, as columns; it writes the bytes whoosh's ``W3FieldWriter`` and
``W3PostingsWriter`` would, posting by posting (``tests/search/test_segment.py`` checks).
"""

from __future__ import annotations

import operator
import pickle
import struct
import zlib
from array import array
from typing import Any

from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3FieldWriter,
    W3PostingsWriter,
    W3TermInfo,
)
from whoosh.filedb.filetables import OrderedHashWriter, md5_hash
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

from kbsite.search.termpool import Columns

COMPRESS_FROM = 8
"""Postings a block needs for the commit to compress it. whoosh compresses every block
(it means to skip those under 20 bytes, but a later line undoes that): most terms have
a block of a few postings, which zlib hardly shrinks (the index grows 2% without), and
compressing them was an eighth of the commit. A block says whether it is compressed, so
whoosh reads both kinds."""
COMPRESSION_LEVEL = 1
"""zlib's level for the blocks it compresses, where whoosh uses 3: a block records only
whether it is compressed, so whoosh reads either. Level 1 takes a fifth less of the
commit's compressing, for an index 1% larger."""


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
        self.compression = COMPRESSION_LEVEL if postwriter._compression else 0

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
