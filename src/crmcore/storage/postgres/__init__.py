"""PostgreSQL storage: the adapter a web application runs on, under concurrent load.

Optional extra ``postgres`` (psycopg 3 and psycopg-pool): ``pip install 'crmcore[postgres]'``.
Nothing here imports psycopg until a store is opened.

    from crmcore.storage.postgres import PostgresStore

    store = PostgresStore("postgresql://crm@db.internal:5432/app", schema="crmcore")
    with store.unit_of_work() as uow:
        uow.customers.count()

**Transactions.** A unit of work is applied in one ``READ COMMITTED`` transaction that locks the
stored rows of the aggregates it writes (``SELECT … FOR UPDATE``, in one global order) and
re-checks every expected version and unique key, exactly like
[`crmcore.storage.memory`][crmcore.storage.memory]; a stale version raises
[`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError], never a lost update.
Domain events go to the ``outbox`` table in the same transaction, positioned in commit order.
Reads outside a commit run in autocommit, one statement each (the bulk read of
[`to_frame()`][crmcore.ports.CustomerRepository.to_frame] in one snapshot).

**Concurrency.** Any number of processes and threads may use one schema. Wrap a unit of work in
[`crmcore.services.retry.retry()`][crmcore.services.retry.retry] (the services do) to redo it after
a conflict, a serialization failure or a deadlock, with bounded exponential backoff and jitter.
Relays claim outbox batches with ``FOR UPDATE SKIP LOCKED``
([`PostgresOutbox.relay()`][crmcore.storage.postgres.outbox.PostgresOutbox.relay]), so several can
run at once.

**Schema.** All tables live in one PostgreSQL schema (``crmcore`` by default) beside the host's;
[`crmcore.storage.postgres.schema`][crmcore.storage.postgres.schema] has the tables, indexes and
versioned migrations, applied on open or explicitly with
[`migrate()`][crmcore.storage.postgres.schema.migrate]. Documents are ``jsonb``.

**Errors.** The public API raises only [`CrmError`][crmcore.kernel.errors.CrmError] subclasses:
conflicts as [`ConcurrencyConflictError`][crmcore.kernel.errors.ConcurrencyConflictError], taken
ids and unique keys as [`AlreadyExistsError`][crmcore.kernel.errors.AlreadyExistsError] (also when
the database's own unique index catches a race), and every psycopg failure as
[`StorageError`][crmcore.kernel.errors.StorageError] with the original chained
([`crmcore.storage.postgres.errors`][crmcore.storage.postgres.errors]).

**Modules.** [`store`][crmcore.storage.postgres.store]
([`PostgresStore`][crmcore.storage.postgres.PostgresStore]),
[`outbox`][crmcore.storage.postgres.outbox]
([`PostgresOutbox`][crmcore.storage.postgres.PostgresOutbox]),
[`schema`][crmcore.storage.postgres.schema] (tables and migrations),
[`backend`][crmcore.storage.postgres.backend] (reads and the commit),
[`writes`][crmcore.storage.postgres.writes] (change sets as rows and the private crash-test hook),
[`connections`][crmcore.storage.postgres.connections] (the pool and the schema's names),
[`customer_columns`][crmcore.storage.postgres.customer_columns] and
[`record_tables`][crmcore.storage.postgres.record_tables] (how customers and records map to tables),
[`documents`][crmcore.storage.postgres.documents] (``jsonb`` documents) and
[`errors`][crmcore.storage.postgres.errors] (psycopg failures as crmcore errors).
"""

from crmcore.storage.postgres.outbox import ClaimedBatch, PostgresOutbox
from crmcore.storage.postgres.schema import SCHEMA_VERSION, migrate
from crmcore.storage.postgres.store import PostgresStore

__all__ = ["SCHEMA_VERSION", "ClaimedBatch", "PostgresOutbox", "PostgresStore", "migrate"]
