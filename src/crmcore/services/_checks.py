"""Checks the services make where their arguments enter (private to ``crmcore.services``).

A service refuses a wrong argument before it opens a unit of work, so a refused call leaves the
store as it was and the [`ValidationError`][crmcore.kernel.errors.ValidationError] names the
argument instead of an ``AttributeError`` surfacing from inside a repository.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import Outcome
from crmcore.kernel.ids import validate_id
from crmcore.kernel.validators import items_of
from crmcore.ports import Store

__all__ = ["callback", "id_list", "outcome_of", "store_of"]

T = TypeVar("T")


def _shown(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def store_of(value: object, field: str = "store") -> Store:
    """``value`` if it is a store (it opens units of work); else a ValidationError.

    The [`Store`][crmcore.ports.Store] protocol is checked by its one method every service uses,
    so any adapter (memory, SQLite, PostgreSQL, a user's own) passes.
    """
    if isinstance(value, type) or not callable(getattr(value, "unit_of_work", None)):
        raise ValidationError(field, _shown(value), "must be a Store (with a unit_of_work())")
    return value  # type: ignore[return-value]  # the protocol's method checked above


def callback(value: object, field: str) -> Callable[..., Any]:
    """``value`` if it is callable; else a ValidationError naming ``field``."""
    if not callable(value):
        raise ValidationError(field, _shown(value), "must be callable")
    return value


def outcome_of(value: Outcome[T] | object, field: str, cls: type[T]) -> Outcome[T]:
    """What a callback (``field``) returned, if it is an Outcome of a ``cls``; else a
    ValidationError naming the callback (checked before anything is written)."""
    if not isinstance(value, Outcome) or not isinstance(value.value, cls):
        raise ValidationError(field, _shown(value), f"must return an Outcome of a {cls.__name__}")
    return value


def id_list(values: object, field: str) -> tuple[str, ...]:
    """The ids of a collection (a bare string is refused), each checked."""
    found = items_of(values, field, "ids")
    for i, item in enumerate(found):
        validate_id(item, f"{field}[{i}]")
    return found  # type: ignore[return-value]  # every item checked above
