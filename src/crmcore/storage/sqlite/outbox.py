"""The outbox of a SQLite store: the ``outbox`` table, read and marked in position order.

Domain events are written to the table by the commit that collected them
([`crmcore.storage.sqlite.writes`][crmcore.storage.sqlite.writes]);
[`SqliteOutbox`][crmcore.storage.sqlite.outbox.SqliteOutbox] hands them on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from crmcore.kernel.errors import ValidationError
from crmcore.ports import OutboxMessage
from crmcore.storage.backend import check_limit
from crmcore.storage.outbox import relay
from crmcore.storage.sqlite.connections import Connections
from crmcore.storage.sqlite.encoding import corrupt
from crmcore.storage.sqlite.errors import translated

__all__ = ["SqliteOutbox"]


class SqliteOutbox:
    """The outbox of a [`SqliteStore`][crmcore.storage.sqlite.store.SqliteStore],
    in position order.
    """

    def __init__(self, connections: Connections) -> None:
        self._db = connections

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        """Up to ``limit`` unpublished messages, oldest first."""
        check_limit(limit)
        with self._db.use() as connection, translated("read of the outbox"):
            rows = connection.execute(
                "SELECT position, message_id, kind, aggregate_id, occurred_at, payload"
                " FROM outbox WHERE published_at IS NULL ORDER BY position LIMIT ?",
                (limit,),
            ).fetchall()
        messages = []
        for position, message_id, kind, aggregate_id, occurred_at, payload in rows:
            try:
                data = json.loads(payload)
                if not isinstance(data, dict):
                    raise TypeError("payload is not a JSON object")
                message = OutboxMessage(
                    position=position,
                    message_id=message_id,
                    kind=kind,
                    aggregate_id=aggregate_id,
                    occurred_at=datetime.fromisoformat(occurred_at),
                    payload=data,
                )
            except (ValueError, TypeError) as exc:
                raise corrupt("outbox message", position, exc) from exc
            messages.append(message)
        return messages

    def mark_published(self, positions: Iterable[int]) -> None:
        """Mark messages published (idempotent; unknown positions are ignored)."""
        wanted = list(positions)
        for position in wanted:
            if isinstance(position, bool) or not isinstance(position, int):
                raise ValidationError("positions", position, "must be integers")
        if not wanted:
            return
        now = datetime.now(UTC).isoformat()
        with self._db.use() as connection, translated("update of the outbox"):
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(
                    "UPDATE outbox SET published_at = ?"
                    " WHERE position = ? AND published_at IS NULL",
                    [(now, position) for position in wanted],
                )
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def relay(self, handler: Callable[[OutboxMessage], None], *, limit: int = 100) -> int:
        """Hand pending messages to ``handler`` in order
        ([`relay()`][crmcore.storage.outbox.relay])."""
        return relay(self, handler, limit)
