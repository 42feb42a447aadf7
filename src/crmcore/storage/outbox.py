"""What both shipped outboxes share: message ids and the relay loop.

[`relay()`][crmcore.storage.outbox.relay] is the [`relay()`][crmcore.ports.Outbox.relay] of
[`MemoryOutbox`][crmcore.storage.memory.MemoryOutbox] and
[`SqliteOutbox`][crmcore.storage.sqlite.SqliteOutbox]: hand pending messages on in
order, then mark them published.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from crmcore.kernel.errors import ValidationError
from crmcore.ports import Outbox, OutboxMessage
from crmcore.storage.backend import check_limit

__all__ = ["new_message_id", "relay"]


def new_message_id() -> str:
    """A unique outbox message id."""
    return uuid.uuid4().hex


def relay(outbox: Outbox, handler: Callable[[OutboxMessage], None], limit: int) -> int:
    """The shared [`Outbox.relay()`][crmcore.ports.Outbox.relay] loop: hand on in order, mark what
    was handed on.

    The marks of one call are written together when it ends, also when the
    handler raises (one transaction, one disk sync, per call rather than per
    message). A crash before that write hands those messages on again, which
    the outbox contract allows: consumers drop duplicates by ``message_id``.
    """
    if not all(callable(getattr(outbox, name, None)) for name in ("pending", "mark_published")):
        raise ValidationError("outbox", outbox, "must be an Outbox")
    if not callable(handler):
        raise ValidationError("handler", handler, "must be callable")
    check_limit(limit)
    handed: list[int] = []
    try:
        for message in outbox.pending(limit):
            handler(message)
            handed.append(message.position)
    finally:
        if handed:
            outbox.mark_published(handed)
    return len(handed)
