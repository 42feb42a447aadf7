"""attrs validators shared by the aggregates.

Every stored aggregate carries a ``version`` (0 until a repository saves it,
then 1, 2, ...) that the unit of work compares for optimistic concurrency.
"""

from __future__ import annotations

import attrs

from crmcore.kernel.errors import ValidationError

__all__ = ["flag", "non_negative_int", "version"]


def non_negative_int(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    """An attrs validator: ``value`` is an ``int`` (not a ``bool``) of at least 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(attribute.name, value, "must be a non-negative integer")


version = non_negative_int
"""The validator of an aggregate's stored ``version``."""


def flag(_instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    """An attrs validator: ``value`` is ``True`` or ``False`` (not a truthy stand-in)."""
    if not isinstance(value, bool):
        raise ValidationError(attribute.name, value, "must be True or False")
