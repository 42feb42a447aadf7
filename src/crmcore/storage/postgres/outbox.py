"""The outbox of a PostgreSQL store: the ``outbox`` table, claimed in batches by relays.

Domain events are written to the table by the commit that collected them
([`crmcore.storage.postgres.writes`][crmcore.storage.postgres.writes]). A commit draws its outbox
positions under a transaction-scoped advisory lock it holds until ``COMMIT``, so **positions
increase with commit order** (the [`OutboxMessage`][crmcore.ports.OutboxMessage] contract): a
relay never sees position ``n + 1`` committed while ``n`` may still appear. The lock is taken only
by commits that carry events, at their very end; it serialises their last milliseconds, not their
work.

[`PostgresOutbox.relay()`][crmcore.storage.postgres.outbox.PostgresOutbox.relay] claims a batch
with ``SELECT … FOR UPDATE SKIP LOCKED``, hands the messages to the handler in position order and
marks those handed on as published in the same transaction. Several relays (threads or processes)
can therefore run at once: each claims a different batch and no message is handed on twice, except
after a crash between the handler and the commit, which the outbox contract allows (consumers drop
duplicates by ``message_id``). With one relay, messages are handed on in position order; with
several, each batch is in order but batches interleave: use one relay per ordering domain, or let
consumers order by ``position``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import TYPE_CHECKING, Any

from crmcore.kernel.errors import ValidationError
from crmcore.ports import OutboxMessage
from crmcore.storage.backend import check_limit
from crmcore.storage.postgres.connections import Database
from crmcore.storage.postgres.documents import corrupt
from crmcore.storage.postgres.errors import translated

if TYPE_CHECKING:
    import psycopg

__all__ = ["ClaimedBatch", "PostgresOutbox"]

_COLUMNS = "position, message_id, kind, aggregate_id, occurred_at, payload"


def _message(row: tuple[Any, ...]) -> OutboxMessage:
    position, message_id, kind, aggregate_id, occurred_at, payload = row
    try:
        if not isinstance(payload, dict):
            raise TypeError("payload is not a JSON object")
        return OutboxMessage(
            position=position,
            message_id=message_id,
            kind=kind,
            aggregate_id=aggregate_id,
            occurred_at=occurred_at.astimezone(UTC),
            payload=payload,
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise corrupt("outbox message", position, exc) from exc


class ClaimedBatch:
    """Messages claimed by one relay, locked until the claim ends (see
    [`PostgresOutbox.claim()`][crmcore.storage.postgres.outbox.PostgresOutbox.claim])."""

    def __init__(self, messages: list[OutboxMessage]) -> None:
        self.messages: tuple[OutboxMessage, ...] = tuple(messages)
        """The claimed messages, in position order."""
        self._done: list[int] = []

    def done(self, message: OutboxMessage) -> None:
        """Record that ``message`` was handed on: it is marked published when the claim ends."""
        if not isinstance(message, OutboxMessage) or message not in self.messages:
            raise ValidationError("message", message, "is not a message of this batch")
        self._done.append(message.position)

    @property
    def handed_on(self) -> tuple[int, ...]:
        """The positions recorded with
        [`done()`][crmcore.storage.postgres.outbox.ClaimedBatch.done]."""
        return tuple(self._done)

    def __iter__(self) -> Iterator[OutboxMessage]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self.messages)


class PostgresOutbox:
    """The outbox of a [`PostgresStore`][crmcore.storage.postgres.PostgresStore], in position
    order, safe to relay from several processes at once."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._table = db.table("outbox")

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        """Up to ``limit`` unpublished messages, oldest first (a read: nothing is claimed)."""
        check_limit(limit)
        rows = self._db.read(
            f"SELECT {_COLUMNS} FROM {self._table} WHERE published_at IS NULL"
            " ORDER BY position LIMIT %s",
            (limit,),
        )
        return [_message(row) for row in rows]

    def mark_published(self, positions: Iterable[int]) -> None:
        """Mark messages published (idempotent; unknown positions are ignored)."""
        wanted = list(positions)
        for position in wanted:
            if isinstance(position, bool) or not isinstance(position, int):
                raise ValidationError("positions", position, "must be integers")
        if not wanted:
            return
        with translated("update of the outbox"), self._db.connection() as connection:
            self._mark(connection, wanted)

    def _mark(self, connection: psycopg.Connection[Any], positions: list[int]) -> None:
        connection.execute(
            f"UPDATE {self._table} SET published_at = now()"
            " WHERE position = ANY(%s) AND published_at IS NULL",
            (positions,),
        )

    @contextmanager
    def claim(self, limit: int = 100) -> Iterator[ClaimedBatch]:
        """Claim up to ``limit`` unpublished messages no other relay holds, for the ``with``
        block.

        The messages stay locked (``FOR UPDATE SKIP LOCKED``: other relays skip them) until the
        block ends; then those recorded with
        [`ClaimedBatch.done()`][crmcore.storage.postgres.outbox.ClaimedBatch.done] are marked
        published, in the same transaction, also when the block raises. Keep the block short: it
        holds a connection and a transaction open.

        Examples:
            >>> # with store.outbox.claim(limit=50) as batch:
            >>> #     for message in batch:
            >>> #         broker.publish(message.kind, message.payload, id=message.message_id)
            >>> #         batch.done(message)
        """
        check_limit(limit)
        failure: BaseException | None = None
        with (
            translated("relay of the outbox"),
            self._db.connection() as connection,
            connection.transaction(),
        ):
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM {self._table} WHERE published_at IS NULL"
                " ORDER BY position LIMIT %s FOR UPDATE SKIP LOCKED",
                (limit,),
            ).fetchall()
            batch = ClaimedBatch([_message(row) for row in rows])
            try:
                yield batch
            except BaseException as exc:  # still mark what was handed on, then re-raise
                failure = exc
            if batch.handed_on:
                self._mark(connection, list(batch.handed_on))
        if failure is not None:
            raise failure

    def relay(self, handler: Callable[[OutboxMessage], None], *, limit: int = 100) -> int:
        """Hand up to ``limit`` pending messages to ``handler`` in position order; mark them sent.

        The batch is claimed with ``FOR UPDATE SKIP LOCKED``, so relays in other threads or
        processes take other messages meanwhile. Stops at the first exception, which propagates;
        the messages handed on before it are marked published, that one and the rest stay pending.
        Returns how many were handed on.
        """
        with self.claim(limit) as batch:
            for message in batch:
                handler(message)
                batch.done(message)
        return len(batch.handed_on)

    def count(self, *, published: bool | None = None) -> int:
        """How many messages the outbox holds (``published``: only those sent, or only those
        pending)."""
        if published is None:
            condition = ""
        elif published is True or published is False:
            condition = f" WHERE published_at IS {'NOT ' if published else ''}NULL"
        else:
            raise ValidationError("published", published, "must be None, True or False")
        rows = self._db.read(f"SELECT COUNT(*) FROM {self._table}{condition}")
        return int(rows[0][0])
