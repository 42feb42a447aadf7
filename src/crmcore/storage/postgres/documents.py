"""How documents go into PostgreSQL and come back: ``jsonb`` text, rows, corrupt values.

Aggregates other than customers, records of kinds without a dedicated table and outbox payloads
are stored as ``jsonb`` documents of [`crmcore.kernel.codec`][crmcore.kernel.codec]: written as
compact JSON text ([`dumps()`][crmcore.storage.postgres.documents.dumps], cast with ``::jsonb``),
read back as the data psycopg parses and decoded, validating, by
[`decode_document()`][crmcore.storage.postgres.documents.decode_document]. A stored value that
cannot be read back raises a [`StorageError`][crmcore.kernel.errors.StorageError] naming it
([`corrupt()`][crmcore.storage.postgres.documents.corrupt]).

``jsonb`` keeps every value the codec writes exactly (decimals and times travel as strings, and
numbers as ``numeric``, so ``0.30000000000000004`` comes back bit for bit), with one exception:
``numeric`` has no negative zero, so a float ``-0.0`` in a document comes back as ``0.0`` (equal in
Python). Custom attributes are also kept as exact text in ``customer_attributes``, where ``-0.0``
survives for frames and segments.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from crmcore.kernel.codec import JSON, encode
from crmcore.kernel.errors import CrmError, StorageError
from crmcore.storage.kinds import AggregateKind, RecordKind

__all__ = ["Row", "corrupt", "decode_document", "dumps", "encode_document"]

A = TypeVar("A")

Row = tuple[Any, ...]
"""One row of parameters for a statement."""


def dumps(data: JSON) -> str:
    """Compact JSON text (``jsonb`` normalises it anyway)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def encode_document(value: object) -> str:
    """The stored ``jsonb`` text of an aggregate or record
    ([`crmcore.kernel.codec`][crmcore.kernel.codec])."""
    return dumps(encode(value))


def corrupt(entity: str, id: object, exc: BaseException) -> StorageError:
    """The error for a stored value that cannot be read back (``exc`` is chained)."""
    error = StorageError(f"stored {entity} {id!r} cannot be read back: {exc}")
    error.__cause__ = exc
    return error


def decode_document(kind: AggregateKind[A] | RecordKind[A], id: object, data: object) -> A:
    """The aggregate or record stored as the ``jsonb`` document ``data`` (parsed by psycopg),
    rebuilt by its kind ([`AggregateKind.decode()`][crmcore.storage.kinds.AggregateKind.decode]),
    or [`corrupt()`][crmcore.storage.postgres.documents.corrupt]."""
    try:
        value: A = kind.decode(data)  # type: ignore[arg-type]  # psycopg's parsed JSON
    except (CrmError, ValueError, TypeError) as exc:
        raise corrupt(kind.name, id, exc) from exc
    return value
