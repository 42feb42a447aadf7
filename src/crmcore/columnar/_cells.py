"""Text cells as spans of UTF-8 bytes: what every CSV parser hands the column builders.

A column of text arrives as `Cells`: one byte buffer and, for each row, where
its cell starts and ends. The tokenizer of `crmcore.columnar._tokenize` points
into the bytes of the file, pyarrow's string arrays are a data buffer and
offsets already, and the cells of the csv module or of pandas are encoded into
one buffer. The builders then read a whole column with numpy (digits, ISO
times, dictionary keys) without a Python object per cell. An empty cell is
missing.

Two views make that possible, both gathers of fixed width at each start:
`grid()` (the first bytes of every cell, zero past its end) and `words()` (the
cell's bytes as little-endian 64-bit words, the exact key of a short cell).
The buffer always holds `PAD` zero bytes past the last cell, so those reads
stay inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt

from crmcore.columnar._layout import STRING_DTYPE
from crmcore.columnar._validation import row_error
from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array
from crmcore.kernel.errors import ValidationError

__all__ = ["KEY_BYTES", "PAD", "Cells", "UInt8Array", "UInt64Array", "padded", "utf8_strings"]

UInt8Array: TypeAlias = npt.NDArray[np.uint8]
UInt64Array: TypeAlias = npt.NDArray[np.uint64]

PAD: Final = 64
"""Zero bytes kept after the last cell: room for 8-word reads (`words()`) at any start."""
KEY_BYTES: Final = PAD
"""Cells up to this long have exact `words()` keys (longer ones are compared as text)."""
_GRID_BYTES: Final = 64  # widest cell converted to text through one fixed-width gather
_HIGH: Final = np.uint64(0x8080808080808080)  # the top bit of every byte: not ASCII
_LOW: Final = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)
# _WORD_MASKS[j, length]: the bytes of word j that a cell of that length fills
_WORD_MASKS: Final = _LOW[np.clip(np.arange(PAD + 1) - 8 * np.arange(PAD // 8)[:, None], 0, 8)]


def padded(raw: bytes | memoryview | UInt8Array, extra: int = PAD) -> UInt8Array:
    """A fresh uint8 array holding ``raw`` followed by ``extra`` zero bytes."""
    source = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
    out = np.zeros(len(source) + extra, dtype=np.uint8)
    out[: len(source)] = source
    return out


class Cells:
    """The text cells of one column: ``data[starts[i]:ends[i]]`` is row ``i``, UTF-8.

    ``data`` must hold `PAD` bytes after the last cell's end (the constructor
    copies it into a larger buffer when it does not).
    """

    __slots__ = ("_lengths", "_nul", "data", "ends", "starts")

    data: UInt8Array
    starts: Int64Array
    ends: Int64Array

    def __init__(
        self,
        data: UInt8Array,
        starts: Int64Array,
        ends: Int64Array,
        nul: bool | None = None,
        *,
        room: bool = False,
    ) -> None:
        # room: the caller knows that PAD bytes follow the last cell (no pass to check)
        if not room and len(ends) and len(data) < int(ends.max()) + PAD:
            data = padded(data)
        self.data = data
        self.starts = starts
        self.ends = ends
        self._lengths: Int64Array | None = None
        self._nul = nul

    @classmethod
    def from_strings(cls, values: Sequence[str], start: int = 0, name: str = "") -> Cells:
        """Cells of Python strings (``""``: missing); ``start`` and ``name`` name a bad one."""
        joined = "".join(values)
        nul = "\x00" in joined
        if joined.isascii():
            raw = joined.encode("ascii")
            lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        else:
            try:
                pieces = [value.encode("utf-8") for value in values]
            except UnicodeEncodeError:
                i = next(i for i, v in enumerate(values) if not _encodable(v))
                raise row_error(
                    start + i, name, values[i], "is not valid text (a lone surrogate)"
                ) from None
            raw = b"".join(pieces)
            lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        ends = np.cumsum(lengths)
        return cls(padded(raw), ends - lengths, ends, nul)

    @classmethod
    def from_offsets(cls, data: Any, offsets: AnyArray) -> Cells:
        """Cells of a buffer and ``n + 1`` offsets (an Arrow string array's layout)."""
        bounds = np.asarray(offsets, dtype=np.int64)
        raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
        if len(bounds) > 1:
            raw = raw[int(bounds[0]) : int(bounds[-1])]
            bounds = bounds - bounds[0]
        nul = bool(raw.size) and not raw.all()  # the cells are the buffer: one pass tells
        return cls(padded(raw), bounds[:-1], bounds[1:], nul, room=True)

    @staticmethod
    def concat(parts: Sequence[Cells]) -> Cells:
        """One column of the rows of ``parts``, in order (their bytes copied once)."""
        compact = [part.compact() for part in parts]
        if not compact:
            return Cells.from_strings([])
        sizes = [len(part.data) - PAD for part in compact]
        shift = np.cumsum([0, *sizes[:-1]])
        data = padded(
            np.concatenate([part.data[:size] for part, size in zip(compact, sizes, strict=True)])
        )
        starts = np.concatenate(
            [p.starts + s for p, s in zip(compact, shift.tolist(), strict=True)]
        )
        ends = np.concatenate([p.ends + s for p, s in zip(compact, shift.tolist(), strict=True)])
        nul = None if any(part._nul is not False for part in compact) else False
        return Cells(data, starts, ends, nul)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def lengths(self) -> Int64Array:
        """Bytes in each cell."""
        if self._lengths is None:
            self._lengths = self.ends - self.starts
        return self._lengths

    @property
    def missing(self) -> BoolArray:
        """Empty cells."""
        out: BoolArray = self.lengths == 0
        return out

    @property
    def has_nul(self) -> bool:
        """Whether a cell holds a NUL byte (fixed-width views would lose it: read per cell)."""
        if self._nul is None:
            compact = self.compact()
            self._nul = bool((compact.data[: len(compact.data) - PAD] == 0).any())
        return self._nul

    def take(self, rows: Int64Array) -> Cells:
        """The cells at ``rows``."""
        return Cells(
            self.data,
            self.starts[rows],
            self.ends[rows],
            False if self._nul is False else None,
            room=True,
        )

    def compact(self) -> Cells:
        """The same cells in a buffer of their own bytes only (drops the rest of a block)."""
        lengths = self.lengths
        total = int(lengths.sum())
        ends = np.cumsum(lengths)
        starts = ends - lengths
        source = np.repeat(self.starts - starts, lengths) + np.arange(total, dtype=np.int64)
        data = np.zeros(total + PAD, dtype=np.uint8)
        data[:total] = self.data[source]
        return Cells(data, starts, ends, self._nul)

    def text(self, i: int) -> str:
        """Cell ``i`` as text (undecodable bytes replaced: for messages)."""
        return (
            self.data[int(self.starts[i]) : int(self.ends[i])]
            .tobytes()
            .decode("utf-8", errors="replace")
        )

    def texts(self, start: int = 0, name: str = "") -> list[str]:
        """Every cell as a Python string (the per-cell path)."""
        view = memoryview(self.data.data)
        bounds = zip(self.starts.tolist(), self.ends.tolist(), strict=True)
        try:
            return [str(view[a:b], "utf-8") for a, b in bounds]
        except UnicodeDecodeError:
            raise self._undecodable(start, name) from None

    def grid(self, width: int, zero: bool = True) -> UInt8Array:
        """The first ``width`` bytes of every cell, one row each (zero past the cell's end).

        With ``zero=False`` the bytes past a cell's end are whatever follows it
        in the buffer (for callers that check lengths themselves).
        """
        n = len(self)
        if width <= 0 or not n:
            return np.zeros((n, max(width, 0)), dtype=np.uint8)
        data = self.data
        if int(self.starts.max()) + width > len(data):
            data = padded(data, width)
        view = np.ndarray((len(data) - width + 1,), dtype=f"S{width}", buffer=data, strides=(1,))
        out: UInt8Array = view[self.starts].view(np.uint8).reshape(n, width)
        if zero:
            out *= np.arange(width) < self.lengths[:, None]
        return out

    def columns(self, width: int, zero: bool = True) -> UInt8Array:
        """`grid()` transposed: byte ``p`` of every cell is row ``p``, contiguous.

        Parsers that walk the bytes position by position read contiguous rows.
        """
        return np.ascontiguousarray(self.grid(width, zero).T)

    def words(self, count: int) -> UInt64Array:
        """Each cell's first ``8 * count`` bytes as little-endian words, zero past its end.

        Word ``j`` of every cell is row ``j`` (shape ``(count, n)``).
        """
        n = len(self)
        if not n:
            return np.empty((count, n), dtype="<u8")
        # One gather of 8 * count bytes per cell through an unaligned bytes view (numpy
        # copies those with memcpy; a gather of unaligned uint64 takes its slow path).
        width = 8 * count
        view = np.ndarray(
            (len(self.data) - width + 1,), dtype=f"S{width}", buffer=self.data, strides=(1,)
        )
        gathered = view[self.starts].view("<u8").reshape(n, count)
        out: UInt64Array = np.ascontiguousarray(gathered.T) if count > 1 else gathered.T
        lengths = self.lengths
        shortest, longest = int(lengths.min()), int(lengths.max())
        sizes = lengths if longest <= PAD else np.minimum(lengths, PAD)
        for j in range(count):
            if shortest >= 8 * (j + 1):
                continue  # every cell fills this word
            word = out[j]
            if shortest == longest:  # one length (ids, codes): one mask for all
                word &= _LOW[min(max(shortest - 8 * j, 0), 8)]
            else:  # keep each cell's own bytes only
                word &= _WORD_MASKS[j][sizes]
        return out

    def strings(self, start: int = 0, name: str = "") -> AnyArray:
        """The cells as a StringDType array (``""`` where missing)."""
        n = len(self)
        if not n:
            return np.empty(0, dtype=STRING_DTYPE)
        width = int(self.lengths.max())
        if width <= _GRID_BYTES and not self.has_nul:
            fixed = self.grid(width).view(f"S{max(width, 1)}").reshape(n) if width else None
            if fixed is None:
                return np.full(n, "", dtype=STRING_DTYPE)
            strings, bad = utf8_strings(fixed)
            if bad is not None:
                raise self._undecodable(start, name)
            return strings
        return np.array(self.texts(start, name), dtype=STRING_DTYPE)

    def _undecodable(self, start: int, name: str) -> ValidationError:
        view = memoryview(self.data.data)
        for i, (a, b) in enumerate(zip(self.starts.tolist(), self.ends.tolist(), strict=True)):
            try:
                str(view[a:b], "utf-8")
            except UnicodeDecodeError:
                return row_error(
                    start + i, name, self.text(i), "is not valid UTF-8: save the file as UTF-8"
                )
        return row_error(start, name, None, "is not valid UTF-8")  # pragma: no cover


def utf8_strings(fixed: AnyArray) -> tuple[AnyArray, int | None]:
    """An ``S<w>`` array as StringDType, and the first item that is not UTF-8 (``None``: none).

    numpy's cast copies the bytes without checking them, so they are checked here:
    plain ASCII (most files) at once, the rest decoded together by Python's codec
    (joined by line ends, which cannot complete a broken sequence) and, only when
    that fails, one by one to find the bad item.
    """
    width = fixed.dtype.itemsize
    raw = np.ascontiguousarray(fixed).view(np.uint8).reshape(len(fixed), width)
    # Eight bytes at a time where the width allows.
    high = (raw.view("<u8") & _HIGH).any() if width % 8 == 0 else (raw >= 0x80).any()
    if high:
        rows = np.flatnonzero((raw >= 0x80).any(axis=1))
        chosen: list[bytes] = fixed[rows].tolist()
        try:
            b"\n".join(chosen).decode("utf-8")
        except UnicodeDecodeError:
            for i, item in zip(rows.tolist(), chosen, strict=True):
                try:
                    item.decode("utf-8")
                except UnicodeDecodeError:
                    return fixed.astype(STRING_DTYPE), i
    return fixed.astype(STRING_DTYPE), None


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
