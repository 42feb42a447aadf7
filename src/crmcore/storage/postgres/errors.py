"""How the PostgreSQL adapter's failures become crmcore errors.

Every psycopg or pool failure (server unreachable, authentication refused, no free connection
within the timeout, a statement cancelled, text with a NUL byte, a serialization failure or a
deadlock) becomes a [`StorageError`][crmcore.kernel.errors.StorageError] that says what happened,
names the SQLSTATE and chains the original (``raise ... from``), so
[`crmcore.services.retry.is_transient()`][crmcore.services.retry.is_transient] can recognise the
transaction-rollback class (SQLSTATE ``40xxx``: serialization failure ``40001``, deadlock
``40P01``) and retry the unit of work. A unique violation the database itself catches during a
commit is explained by the backend as an
[`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] or
[`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError]
([`crmcore.storage.postgres.backend`][crmcore.storage.postgres.backend]).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from crmcore.kernel.errors import StorageError

__all__ = ["UNIQUE_VIOLATION", "is_driver_error", "sqlstate", "storage_error", "translated"]

UNIQUE_VIOLATION: Final = "23505"
"""The SQLSTATE of a unique violation."""

_REASONS: Final = {
    "40001": "a serialization failure: a concurrent transaction changed the same data; "
    "retry the unit of work",
    "40P01": "a deadlock with a concurrent transaction; retry the unit of work",
    "23505": "a unique constraint refused a duplicate",
    "57014": "the statement was cancelled (statement_timeout or a cancel request)",
    "55P03": "a lock was not available within lock_timeout",
    "53300": "the server has no free connection slot (max_connections)",
    "3D000": "the database does not exist",
    "28P01": "the password was refused",
    "28000": "the role may not connect (pg_hba.conf or authentication)",
    "42501": "permission denied (the role lacks a privilege on crmcore's schema or tables)",
    "57P01": "the server is shutting down",
}


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a psycopg error (``None`` for other exceptions and client-side errors)."""
    state = getattr(exc, "sqlstate", None)
    return state if isinstance(state, str) else None


def is_driver_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from psycopg or psycopg_pool (checked without importing them)."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.Error):
        return True
    pool = sys.modules.get("psycopg_pool")
    return pool is not None and isinstance(exc, pool.PoolTimeout | pool.PoolClosed)


def storage_error(exc: BaseException, action: str) -> StorageError:
    """A [`StorageError`][crmcore.kernel.errors.StorageError] describing a failed psycopg call
    (chain it with ``from``)."""
    state = sqlstate(exc)
    pool = sys.modules.get("psycopg_pool")
    if state is not None and state in _REASONS:
        reason = _REASONS[state]
    elif state is not None and state.startswith("08"):
        reason = f"the connection to the server failed ({_first_line(exc)})"
    elif pool is not None and isinstance(exc, pool.PoolTimeout):
        reason = f"no connection to the server within the timeout ({_first_line(exc)})"
    elif pool is not None and isinstance(exc, pool.PoolClosed):
        reason = "the connection pool is closed"
    elif "NUL (0x00)" in str(exc):
        reason = "a text value contains a NUL character, which PostgreSQL cannot store"
    else:
        reason = _first_line(exc) or type(exc).__name__
    suffix = f" [SQLSTATE {state}]" if state else ""
    return StorageError(f"PostgreSQL {action} failed: {reason}{suffix}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn psycopg and pool errors into [`StorageError`][crmcore.kernel.errors.StorageError]."""
    try:
        yield
    except Exception as exc:
        if is_driver_error(exc):
            raise storage_error(exc, action) from exc
        raise
