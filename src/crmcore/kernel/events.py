"""Domain events and the result type of domain operations.

A domain operation never stores anything and never publishes anything: it
returns an [`Outcome`][crmcore.kernel.events.Outcome], the new value plus the events it raised. A
service hands both to a unit of work, which saves the value and writes the
events to the outbox in the same transaction.

Every event class is registered under a stable ``kind`` string
(``"customer.registered"``) with [`event_type()`][crmcore.kernel.events.event_type], so stored
events decode back to their classes with
[`event_from_json()`][crmcore.kernel.events.event_from_json].
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import attrs

from crmcore.kernel.clock import ensure_aware
from crmcore.kernel.codec import JSON, decode, encode
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.validators import instances_of

__all__ = [
    "DomainEvent",
    "Outcome",
    "event_from_json",
    "event_kinds",
    "event_type",
]

T = TypeVar("T")
E = TypeVar("E", bound="DomainEvent")

_REGISTRY: dict[str, type[DomainEvent]] = {}


def _aware(_instance: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    ensure_aware(value, attribute.name)


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Something that happened to an aggregate.

    ``aggregate_id`` names the aggregate (for customers, the customer id) and
    ``occurred_at`` when, in business time (not when it was stored).
    Subclasses add their facts as fields and declare a ``kind``.
    """

    kind: ClassVar[str] = "event"

    aggregate_id: str
    occurred_at: datetime = attrs.field(validator=_aware)

    def payload(self) -> dict[str, JSON]:
        """The event's fields as JSON data (exact: decimals as strings)."""
        data = encode(self)
        assert isinstance(data, dict)
        return data


def event_type(kind: str) -> Callable[[type[E]], type[E]]:
    """Class decorator: register an event class under ``kind`` (put it above ``@attrs.frozen``)."""

    def register(cls: type[E]) -> type[E]:
        existing = _REGISTRY.get(kind)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValidationError("kind", kind, f"is already registered to {existing.__name__}")
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls

    return register


def event_kinds() -> dict[str, type[DomainEvent]]:
    """All registered event kinds and their classes."""
    return dict(_REGISTRY)


def event_from_json(kind: str, payload: dict[str, JSON]) -> DomainEvent:
    """Rebuild an event from its ``kind`` and
    [`DomainEvent.payload()`][crmcore.kernel.events.DomainEvent.payload]."""
    cls = _REGISTRY.get(kind)
    if cls is None:
        raise ValidationError("kind", kind, "is not a registered event kind")
    event: DomainEvent = decode(cls, payload)
    return event


def _events(values: Iterable[DomainEvent]) -> tuple[DomainEvent, ...]:
    # The hot path (an operation's own tuple of events) is checked without copying.
    if type(values) is tuple:
        for event in values:
            if not isinstance(event, DomainEvent):
                break
        else:
            return values
    return instances_of(values, DomainEvent, "events")


@attrs.frozen
class Outcome(Generic[T]):
    """The result of a domain operation: the new ``value`` and the ``events`` raised."""

    value: T
    events: tuple[DomainEvent, ...] = attrs.field(default=(), converter=_events)

    def then(self, step: Callable[[T], Outcome[Any]]) -> Outcome[Any]:
        """Apply another operation to the value, keeping the events of both in order.

        Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``step`` when it
        is not callable or does not return an [`Outcome`][crmcore.kernel.events.Outcome].
        """
        if not callable(step):
            raise ValidationError("step", step, "must be a function returning an Outcome")
        nxt = step(self.value)
        if not isinstance(nxt, Outcome):
            raise ValidationError("step", nxt, "must return an Outcome")
        return Outcome(nxt.value, self.events + nxt.events)

    @staticmethod
    def collect(events: Iterable[DomainEvent], value: T) -> Outcome[T]:
        """An outcome from ``value`` and an iterable of events.

        Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``events`` when
        it is not a collection of [`DomainEvent`][crmcore.kernel.events.DomainEvent] objects.
        """
        return Outcome(value, _events(events))
