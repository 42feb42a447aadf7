"""How values go into SQLite and come back: parameters, identifiers, chunks, JSON documents.

A value ``sqlite3`` binds is a [`SqlValue`][crmcore.storage.sqlite.encoding.SqlValue], a row of them
a `Row`. Aggregates other than customers, and records of kinds without a dedicated table, are stored
as the JSON document of [`crmcore.kernel.codec`][crmcore.kernel.codec]
([`encode_body()`][crmcore.storage.sqlite.encoding.encode_body],
[`decode_body()`][crmcore.storage.sqlite.encoding.decode_body]). Bulk statements run in chunks of at
most 500 rows or ids ([`chunks()`][crmcore.storage.sqlite.encoding.chunks]). A stored value that
cannot be read back raises a [`StorageError`][crmcore.kernel.errors.StorageError] naming it
([`corrupt()`][crmcore.storage.sqlite.encoding.corrupt]).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Final, TypeVar

from crmcore.kernel.codec import JSON, encode
from crmcore.kernel.errors import CrmError, StorageError
from crmcore.storage.kinds import AggregateKind, RecordKind

__all__ = [
    "Row",
    "SqlValue",
    "chunks",
    "corrupt",
    "decode_body",
    "dumps",
    "encode_body",
    "placeholders",
    "quote",
]

A = TypeVar("A")

SqlValue = str | int | float | bytes | None
"""A value sqlite3 binds as a parameter."""
Row = tuple[SqlValue, ...]

_CHUNK: Final = 500  # rows per executemany batch and ids per "IN (...)" lookup


def quote(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def placeholders(n: int) -> str:
    """``n`` parameter marks: ``?, ?, ...``."""
    return ", ".join("?" * n)


def chunks(items: Sequence[A]) -> Iterator[Sequence[A]]:
    """``items`` in slices of at most 500 (one ``executemany`` batch or ``IN (...)`` list)."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def dumps(data: JSON) -> str:
    """Compact JSON text."""
    return json.dumps(data, separators=(",", ":"))


def encode_body(value: object) -> str:
    """The stored JSON document of an aggregate or record
    ([`crmcore.kernel.codec`][crmcore.kernel.codec])."""
    return dumps(encode(value))


def corrupt(entity: str, id: object, exc: BaseException) -> StorageError:
    """The error for a stored value that cannot be read back (``exc`` is chained)."""
    error = StorageError(f"stored {entity} {id!r} cannot be read back: {exc}")
    error.__cause__ = exc
    return error


def decode_body(kind: AggregateKind[A] | RecordKind[A], id: object, body: object) -> A:
    """The aggregate or record stored as the JSON document ``body``, rebuilt by its kind
    ([`AggregateKind.decode()`][crmcore.storage.kinds.AggregateKind.decode]), or
    [`corrupt()`][crmcore.storage.sqlite.encoding.corrupt]."""
    try:
        if not isinstance(body, str):
            raise TypeError(f"body is a {type(body).__name__}, not text")
        value: A = kind.decode(json.loads(body))
    except (CrmError, ValueError, TypeError) as exc:
        raise corrupt(kind.name, id, exc) from exc
    return value
