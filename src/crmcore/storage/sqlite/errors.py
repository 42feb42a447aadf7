"""How the SQLite adapter's failures become crmcore errors.

Every ``sqlite3`` failure (locked past the timeout, disk full, corrupt or
non-SQLite file, closed store) becomes a
[`StorageError`][crmcore.kernel.errors.StorageError] with the original chained, a
UNIQUE constraint the database itself caught an
[`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] naming the entity and
key (a stored value that cannot be read back is
[`corrupt()`][crmcore.storage.sqlite.encoding.corrupt]).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final

from crmcore.kernel.errors import AlreadyExistsError, CrmError, StorageError
from crmcore.storage.kinds import INTERACTIONS, PURCHASES, SERVICE_RECORDS
from crmcore.storage.sqlite.encoding import Row

__all__ = ["BIND_ERRORS", "integrity_error", "storage_error", "translated"]


def storage_error(exc: BaseException, action: str) -> StorageError:
    """A [`StorageError`][crmcore.storage.sqlite.errors.StorageError] describing a failed
    ``sqlite3`` call (chain it with ``from``)."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name == "SQLITE_NOTADB":
        reason = "the file is not a SQLite database (or it is encrypted or corrupt)"
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        reason = "the database stayed locked by another connection past the timeout"
    elif name == "SQLITE_FULL":
        reason = "the disk is full"
    elif name.startswith("SQLITE_CORRUPT"):
        reason = "the database file is corrupt"
    elif isinstance(exc, OverflowError | UnicodeError):
        reason = f"a value cannot be stored in SQLite ({exc})"
    else:
        reason = str(exc) or type(exc).__name__
    suffix = f" [{name}]" if name else ""
    return StorageError(f"SQLite {action} failed: {reason}{suffix}")


BIND_ERRORS: Final = (OverflowError, UnicodeEncodeError)
"""What sqlite3 raises besides sqlite3.Error: binding a too-large int or an unencodable str."""


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn ``sqlite3`` (and parameter binding) errors into
    [`StorageError`][crmcore.storage.sqlite.errors.StorageError]."""
    try:
        yield
    except (sqlite3.Error, *BIND_ERRORS) as exc:
        raise storage_error(exc, action) from exc


# Entity names of the tables, for errors raised by the database's own constraints.
_TABLE_ENTITIES: Final = {
    "customers": "customer",
    "customer_tags": "customer",
    "customer_attributes": "customer",
    "purchases": PURCHASES.name,
    "interactions": INTERACTIONS.name,
    "service_records": SERVICE_RECORDS.name,
    "outbox": "outbox message",
}


def integrity_error(
    exc: sqlite3.IntegrityError, table: str, columns: Sequence[str], row: Row
) -> CrmError:
    """The error for a constraint the database caught on ``row`` (inserted into ``table``)."""
    message = str(exc)
    prefix = "UNIQUE constraint failed: "
    if not message.startswith(prefix) or len(columns) != len(row):
        return storage_error(exc, f"write to {table}")
    values = dict(zip(columns, row, strict=True))
    failed = [part.strip().rpartition(".")[2] for part in message[len(prefix) :].split(",")]
    entity = str(values["kind"]) if "kind" in values else _TABLE_ENTITIES.get(table, table)
    if table == "aggregate_keys":
        return AlreadyExistsError(entity, values["value"], str(values["key"]))
    if table == "customer_attributes":
        return AlreadyExistsError(entity, values["customer_id"], f"attributes.{values['name']!s}")
    fields = [f for f in failed if f != "kind" and f in values]
    if len(fields) == 1:
        field = fields[0]
        if field in ("id", "order_id", "position"):
            return AlreadyExistsError(entity, values[field])
        return AlreadyExistsError(entity, values[field], field)
    return AlreadyExistsError(entity, tuple(values[f] for f in fields), ", ".join(fields))
