"""A vectorised CSV tokenizer: a block of bytes to the cells of every column, in numpy.

`mapped_blocks()` (a file) and `blocks()` (a stream) cut bytes into blocks
that end on a record boundary (a line end outside quotes); `tokenize()` finds
every field of a block with a handful of whole-array operations and no Python
object per field:

1. the separators are the commas and line ends outside quotes (a byte is
   inside quotes when an odd number of ``"`` come before it: a running count
   modulo 2, which needs no state for ``""``, the escaped quote);
2. the line ends split the fields into records; a record must have as many
   fields as the header, and an empty line is no record;
3. a quoted field loses its quotes, and its escaped quotes are unescaped by
   deleting one byte of each pair from the block.

Each column comes out as [`Cells`][crmcore.columnar._cells.Cells] over the
block's bytes. The tokenizer reads RFC 4180: fields quoted whole, ``\\n`` or
``\\r\\n`` line ends. A block that is anything else (a quote in the middle of
a field, a lone ``\\r``, a NUL byte, a row of the wrong width) is refused
(``None``), and the caller reads the rest of the file with the csv module,
whose rules (``csv.reader``) are the reference, and whose errors name the
row.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from typing import Final, NamedTuple

import numpy as np

from crmcore.columnar._cells import PAD, Cells, UInt8Array, padded
from crmcore.kernel.arrays import BoolArray, Int64Array

__all__ = ["BLOCK_BYTES", "BOM", "Block", "Records", "blocks", "mapped_blocks", "tokenize"]

BLOCK_BYTES: Final = 1 << 22
"""Bytes read per block: big enough to make numpy's per-call cost vanish, small enough for cache."""
BOM: Final = b"\xef\xbb\xbf"
_COMMA, _NEWLINE, _QUOTE, _RETURN = (ord(c) for c in ',\n"\r')


class Records(NamedTuple):
    """The records of a block: the header's cells (first block only), then each column's."""

    header: list[str] | None
    columns: list[Cells]
    rows: int


class Block(NamedTuple):
    """Bytes ``data[begin:size]`` of a file, ending on a record boundary.

    ``data`` is the block's own buffer, with at least ``PAD + 1`` zero bytes
    after ``size``; the cells of the block point into it.
    """

    data: bytearray | mmap.mmap
    begin: int
    size: int

    def raw(self) -> bytes:
        """The block's bytes."""
        return bytes(memoryview(self.data)[self.begin : self.size])


def mapped_blocks(path: str | os.PathLike[str], size: int = BLOCK_BYTES) -> Iterator[Block]:
    """The blocks of the file at ``path``, read through a memory map (no copy of the file).

    Each block views the mapped file; the last one is a copy with the zero
    bytes a block needs after its end.
    """
    with open(path, "rb") as stream:
        total = os.fstat(stream.fileno()).st_size
        if not total:
            return
        mapped = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    position = 0
    window = size
    while total - position > window + PAD + 1:
        cut = _record_end(mapped, position, position + window)
        if not cut:
            window *= 2  # a record longer than a block: look further
            continue
        yield Block(mapped, position, cut)
        position, window = cut, size
    tail = bytearray(total - position + PAD + 1)
    tail[: total - position] = mapped[position:total]
    yield Block(tail, 0, total - position)


def blocks(readinto: Callable[[memoryview], int], size: int = BLOCK_BYTES) -> Iterator[Block]:
    """The bytes of a stream in blocks of about ``size`` that end on a record boundary.

    ``readinto`` fills a buffer as a binary file's does; the bytes are read
    straight into each block's buffer.
    """
    carry = b""
    while True:
        buffer = bytearray(len(carry) + size + PAD + 1)
        buffer[: len(carry)] = carry
        filled = len(carry)
        view = memoryview(buffer)
        while filled < len(carry) + size:
            got = readinto(view[filled : len(carry) + size])
            if not got:
                break
            filled += got
        if filled == len(carry):  # the end of the stream
            if carry:
                yield Block(buffer, 0, filled)
            return
        cut = _record_end(buffer, 0, filled)
        carry = bytes(view[cut:filled])
        if cut:
            view[cut:filled] = bytes(filled - cut)
            yield Block(buffer, 0, cut)
        size *= 1 if cut else 2  # a record longer than a block: read on


def _record_end(data: bytearray | mmap.mmap, start: int, end: int) -> int:
    """Where the last record of ``data[start:end]`` ends (0: no record ends there).

    The last line end outside quotes: blocks end on record boundaries, so the
    quotes are counted from ``start``. When the quoting is not RFC 4180 the
    count may be wrong, but then `tokenize()` refuses the block and the caller
    reads on from its start with the csv module, which does not care where the
    blocks were cut.
    """
    last = data.rfind(b"\n", start, end)
    if last < 0:
        return 0
    if data.find(b'"', start, last) < 0:
        return last + 1
    array = np.frombuffer(data, dtype=np.uint8)[start:end]
    lines = np.flatnonzero(array == _NEWLINE)
    quotes = np.flatnonzero(array == _QUOTE)
    outside = lines[np.searchsorted(quotes, lines) % 2 == 0]
    return start + int(outside[-1]) + 1 if outside.size else 0


def tokenize(block: Block, width: int | None) -> Records | None:
    """The cells of the records of ``block`` (``None``: not RFC 4180, read it with csv).

    ``width`` is the number of fields of the header; ``None`` when the block
    starts with the header, which is then returned decoded.
    """
    raw, begin, size = block
    if raw.find(b"\x00", begin, size) >= 0:
        return None
    data: UInt8Array = np.frombuffer(raw, dtype=np.uint8)
    if size == begin or data[size - 1] != _NEWLINE:
        data[size] = _NEWLINE  # the last block of a file without a final line end
        size += 1
    body = data[begin:size]  # positions below are relative to the block
    returns = raw.find(b"\r", begin, size) >= 0
    if raw.find(b'"', begin, size) < 0:
        if returns and not _returns_end_lines(body, None):
            return None
        fast = _plain(data[begin:], size - begin, width, returns)
        if fast is not None:
            return fast
    separator = body == _COMMA
    separator |= body == _NEWLINE
    inside: BoolArray | None = None
    if raw.find(b'"', begin, size) >= 0:
        inside = (np.cumsum(body == _QUOTE, dtype=np.uint8) & 1).view(np.bool_)
        if inside[-1]:
            return None
        separator &= ~inside
    ends = np.flatnonzero(separator)
    last = np.flatnonzero(body[ends] == _NEWLINE)  # the last field of each record
    if returns and not _returns_end_lines(body, inside):
        return None
    starts = np.empty(len(ends), dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    if returns:
        tails = ends[last]
        ends[last[body[tails - 1] == _RETURN]] -= 1
    counts = np.diff(last, prepend=-1)
    blank = (counts == 1) & (starts[last] == ends[last])
    buffer, offset = data, begin
    if inside is not None:
        unquoted = _unquote(body, starts, ends)
        if unquoted is None:
            return None
        moved, starts, ends = unquoted
        if moved is not None:
            buffer, offset = moved, 0
    if blank.any():
        keep = np.repeat(~blank, counts)
        starts, ends, counts = starts[keep], ends[keep], counts[~blank]
    starts += offset
    ends += offset
    header = None
    if width is None:
        if not len(counts):
            return Records([], [], 0)
        width = int(counts[0])
        header = Cells(buffer, starts[:width], ends[:width], False).texts(0, "header")
        starts, ends, counts = starts[width:], ends[width:], counts[1:]
    if (counts != width).any():
        return None
    rows = len(counts)
    field_starts = np.ascontiguousarray(starts.reshape(rows, width).T)
    field_ends = np.ascontiguousarray(ends.reshape(rows, width).T)
    columns = [
        Cells(buffer, field_starts[j], field_ends[j], False, room=True) for j in range(width)
    ]
    return Records(header, columns, rows)


def _returns_end_lines(body: UInt8Array, inside: BoolArray | None) -> bool:
    """Whether every carriage return outside quotes is the first half of a CRLF line end.

    A carriage return of its own ends a line for the csv module: that block is its.
    """
    returns = np.flatnonzero(body == _RETURN)
    if inside is not None:
        returns = returns[~inside[returns]]
    return bool((body[returns + 1] == _NEWLINE).all())


def _plain(data: UInt8Array, size: int, width: int | None, returns: bool) -> Records | None:
    """The records of a block without quotes, read straight off the separators.

    ``data[:size]`` is the block (it ends with a line end; ``data`` goes on past it).
    When there are ``rows`` line ends and every ``width``-th separator is one of them,
    every record has ``width`` fields: column ``j`` ends at separators ``j``,
    ``j + width``, ... and starts one byte after the end of column ``j - 1``. The
    cells are strided views of the separators (no copy per column). ``None`` when some
    record has another width or the block holds an empty line (the general path
    handles those).
    """
    body = data[:size]
    lines = body == _NEWLINE
    separator = body == _COMMA
    separator |= lines
    ends = np.flatnonzero(separator)
    rows = int(np.count_nonzero(lines))
    skip = 0
    if width is None:
        width = int(np.searchsorted(ends, int(np.argmax(lines)))) + 1
        skip, rows = width, rows - 1
    if rows <= 0 or len(ends) != skip + rows * width:
        return None
    grid = ends[skip:].reshape(rows, width)
    if not (body[grid[:, -1]] == _NEWLINE).all():
        return None
    header = None
    if skip:
        header_starts = np.concatenate([[0], ends[: width - 1] + 1])
        header_ends = ends[:width].copy()
        if returns:
            header_ends[-1] -= data[header_ends[-1] - 1] == _RETURN
        header = Cells(data, header_starts, header_ends, False).texts(0, "header")
    # One transposing copy makes every column's separators contiguous (a strided view
    # per column would stream the whole block through the cache once per column).
    field_ends = np.ascontiguousarray(grid.T)
    field_starts = np.empty_like(field_ends)
    field_starts[1:] = field_ends[:-1]
    field_starts[0, 0] = ends[skip - 1] if skip else -1
    field_starts[0, 1:] = field_ends[-1, :-1]
    field_starts += 1
    if returns:
        last = field_ends[-1]
        last -= data[last - 1] == _RETURN
    columns = [Cells(data, field_starts[j], field_ends[j], False, room=True) for j in range(width)]
    if width == 1 and (columns[0].lengths == 0).any():
        return None  # an empty line, which is no record: the general path drops it
    return Records(header, columns, rows)


def _unquote(
    body: UInt8Array, starts: Int64Array, ends: Int64Array
) -> tuple[UInt8Array | None, Int64Array, Int64Array] | None:
    """Fields without their quotes, escaped quotes unescaped (``None``: not RFC 4180).

    A field with a quote must start and end with one, and hold others only
    as ``""`` pairs; one byte of each pair is deleted, into a new buffer (the
    first item; ``None`` when there was nothing to delete).
    """
    quotes = np.flatnonzero(body == _QUOTE)
    field = np.searchsorted(starts, quotes, side="right") - 1
    opening = quotes == starts[field]
    quoted = np.zeros(len(starts), dtype=bool)
    quoted[field[opening]] = True
    closing = ~opening & quoted[field] & (quotes == ends[field] - 1)
    closed = np.zeros(len(starts), dtype=bool)
    closed[field[closing]] = True
    if (closed != quoted).any():
        return None
    inner = ~opening & ~closing
    pairs = quotes[inner]
    if pairs.size and (
        not quoted[field[inner]].all() or pairs.size % 2 or (np.diff(pairs)[::2] != 1).any()
    ):
        return None
    starts = starts + quoted
    ends = ends - quoted
    if not pairs.size:
        return None, starts, ends
    dropped = pairs[1::2]
    moved = padded(np.delete(body, dropped))
    return moved, starts - np.searchsorted(dropped, starts), ends - np.searchsorted(dropped, ends)
