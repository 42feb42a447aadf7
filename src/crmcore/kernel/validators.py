"""attrs validators shared by the aggregates.

Every stored aggregate carries a ``version`` (0 until a repository saves it,
then 1, 2, ...) that the unit of work compares for optimistic concurrency.
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from crmcore.kernel.errors import ValidationError

__all__ = ["flag", "non_negative_int", "plain_text", "version"]


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


_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_OR_BREAK: Final = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def plain_text(value: str, field: str, *, multiline: bool = False) -> str:
    """``value`` if it holds no control character and no lone surrogate; else ValidationError.

    Names and codes take one line (``multiline=False``: tab, newline and carriage
    return are refused too); free text may hold those three. Control characters
    (C0, DEL, C1) and lone surrogates cannot be stored or shown reliably (SQLite's
    string functions stop at NUL, UTF-8 cannot encode a lone surrogate), so they are
    refused where the text enters rather than mangled later.

    Examples:
        >>> plain_text("Ann Lee", "name")
        'Ann Lee'
        >>> plain_text("Ann\\x07Lee", "name")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: name: must not contain control characters ...
    """
    found = (_CONTROL if multiline else _CONTROL_OR_BREAK).search(value)
    if found is not None:
        raise ValidationError(
            field,
            value,
            f"must not contain control characters (found U+{ord(found.group()):04X} at "
            f"position {found.start()})",
        )
    return value
