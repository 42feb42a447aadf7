"""SQLite storage: the embedded, durable adapter (stdlib `sqlite3` only).

Examples:
    >>> store = SqliteStore()  # ":memory:": one shared connection, gone on close
    >>> with store.unit_of_work() as uow:
    ...     uow.customers.count()
    0
    >>> store.close()

**Durability.** Every connection runs with ``journal_mode=WAL`` and
``synchronous=FULL``: when a commit returns, its WAL frames have been synced
to disk, so nothing is lost even on power failure (``NORMAL`` would only
survive a crash of the process, not of the machine). A unit of work is
applied in one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction that re-checks
every expected version and unique key first, exactly like
[`crmcore.storage.memory`][crmcore.storage.memory]; domain events go to the ``outbox`` table in
the same transaction.

**Concurrency.** Any number of processes and threads may open the same file.
Writers take the database's write lock at ``BEGIN IMMEDIATE`` and wait up to
``timeout`` seconds for it (``busy_timeout``); readers never wait for writers
(WAL). Single-statement reads run in autocommit; the multi-statement read of
[`to_frame()`][crmcore.ports.CustomerRepository.to_frame] runs in one read
transaction, so it sees one consistent snapshot.

**Threads.** A store opened on a file gives each thread its own connection
(connections of threads that have ended are closed as new ones open, and all
by [`SqliteStore.close()`][crmcore.storage.sqlite.store.SqliteStore.close]). ``":memory:"`` (the
default) is one private database, so that store keeps a single connection shared by all threads and
serialises every operation on it with a lock; it is not durable and is gone when closed. Do not
share a store across ``fork()``.

**Errors.** The public API raises only [`CrmError`][crmcore.kernel.errors.CrmError]
subclasses: conflicts as
[`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError], taken ids and unique
keys as [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] (also when the database's
own UNIQUE constraint catches one), and every ``sqlite3`` failure (locked past the timeout, disk
full, corrupt or non-SQLite file, closed store) as
[`StorageError`][crmcore.kernel.errors.StorageError] with the original chained. A database written
by a newer crmcore raises [`SchemaVersionError`][crmcore.kernel.errors.SchemaVersionError]; see
[`crmcore.storage.sqlite.schema`][crmcore.storage.sqlite.schema] for the tables and migrations.

**Modules.** [`store`][crmcore.storage.sqlite.store]
([`SqliteStore`][crmcore.storage.sqlite.SqliteStore]), [`outbox`][crmcore.storage.sqlite.outbox]
([`SqliteOutbox`][crmcore.storage.sqlite.SqliteOutbox]), [`schema`][crmcore.storage.sqlite.schema]
(tables and migrations), [`backend`][crmcore.storage.sqlite.backend] (reads and the commit),
[`writes`][crmcore.storage.sqlite.writes] (change sets as rows, batched writes and the private
crash-test hook), [`connections`][crmcore.storage.sqlite.connections],
[`customer_columns`][crmcore.storage.sqlite.customer_columns] and
[`record_tables`][crmcore.storage.sqlite.record_tables] (how customers and records map to tables),
[`encoding`][crmcore.storage.sqlite.encoding] (parameters and JSON documents) and
[`errors`][crmcore.storage.sqlite.errors] (``sqlite3`` failures as crmcore errors).
"""

from crmcore.storage.sqlite.outbox import SqliteOutbox
from crmcore.storage.sqlite.schema import SCHEMA_VERSION
from crmcore.storage.sqlite.store import SqliteStore

__all__ = ["SCHEMA_VERSION", "SqliteOutbox", "SqliteStore"]
