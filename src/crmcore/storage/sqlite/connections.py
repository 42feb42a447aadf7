"""The SQLite adapter's connections: opened configured, one per thread or one shared.

Every connection runs in autocommit (transactions are begun explicitly) with
foreign keys on, ``synchronous=FULL`` and a busy timeout. A store opened on a
file gives each thread its own connection, closing those of threads that
have ended as new ones open; ``":memory:"`` is one private database, so it
keeps a single connection shared by all threads under a lock.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from crmcore.kernel.errors import StorageError
from crmcore.storage.sqlite.errors import translated

__all__ = ["Connections"]


class Connections:
    """Opens and hands out configured connections.

    A file gets one connection per thread (``check_same_thread=False`` only so
    that [`close()`][crmcore.storage.sqlite.connections.Connections.close] can close them all from
    one thread); ``":memory:"`` gets one connection, shared under a lock.
    """

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.shared = path == ":memory:"
        self._lock = threading.RLock()
        self._local = threading.local()
        self._open: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._closed = False

    def connect(self) -> sqlite3.Connection:
        """A new connection: autocommit, foreign keys, synchronous FULL, secure delete, timeout."""
        with translated(f"open of {self.path!r}"):
            connection = sqlite3.connect(
                self.path,
                timeout=self.timeout,
                isolation_level=None,  # we issue BEGIN / COMMIT ourselves
                check_same_thread=False,
            )
        try:
            with translated(f"open of {self.path!r}"):
                connection.execute(f"PRAGMA busy_timeout = {round(self.timeout * 1000)}")
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("PRAGMA synchronous = FULL")
                # Deleted and overwritten content is zeroed, not left in free space: erased
                # personal data must not survive in the file (see SqliteStore.scrub).
                connection.execute("PRAGMA secure_delete = ON")
        except BaseException:
            connection.close()
            raise
        return connection

    def adopt(self, connection: sqlite3.Connection) -> None:
        """Register ``connection`` as the calling thread's (or the shared) connection."""
        with self._lock:
            self._open.append((weakref.ref(threading.current_thread()), connection))
            self._local.connection = connection

    @contextmanager
    def use(self) -> Iterator[sqlite3.Connection]:
        """The calling thread's connection (the shared one, locked, for ``:memory:``)."""
        if self.shared:
            with self._lock:
                yield self._get()
        else:
            yield self._get()

    def _get(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError(f"the SQLite store {self.path!r} is closed")
        if self.shared:
            return self._open[0][1]
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        with self._lock:  # so that a concurrent close() cannot miss the new connection
            if self._closed:
                raise StorageError(f"the SQLite store {self.path!r} is closed")
            self._close_orphans()
            connection = self.connect()
            self.adopt(connection)
            return connection

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended (call with the lock held)."""
        alive = []
        for ref, connection in self._open:
            thread = ref()
            if thread is not None and thread.is_alive():
                alive.append((ref, connection))
            else:
                connection.close()
        self._open = alive

    def discard(self, connection: sqlite3.Connection) -> None:
        """Close a connection left in an unknown state; the thread gets a new one next time."""
        if self.shared:
            return  # the only copy of the database: keep it
        with self._lock:
            self._open = [(r, c) for r, c in self._open if c is not connection]
            if getattr(self._local, "connection", None) is connection:
                del self._local.connection
        connection.close()

    @property
    def closed(self) -> bool:
        """True once [`close()`][crmcore.storage.sqlite.connections.Connections.close] ran."""
        return self._closed

    def close(self) -> None:
        """Close every connection (idempotent)."""
        with self._lock:
            self._closed = True
            connections = [c for _r, c in self._open]
            self._open = []
        for connection in connections:
            connection.close()
