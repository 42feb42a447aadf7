"""Validators shared by the aggregates and the public functions.

Every stored aggregate carries a ``version`` (0 until a repository saves it,
then 1, 2, ...) that the unit of work compares for optimistic concurrency.
[`items_of()`][crmcore.kernel.validators.items_of] and
[`instances_of()`][crmcore.kernel.validators.instances_of] check the collections a public
function takes, so a wrong type is a [`ValidationError`][crmcore.kernel.errors.ValidationError]
naming the argument rather than a ``TypeError`` from deep inside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final, TypeVar, overload

import attrs

from crmcore.kernel.errors import ValidationError

__all__ = [
    "flag",
    "instance_of",
    "instances_of",
    "items_of",
    "non_negative_int",
    "plain_text",
    "storable_text",
    "version",
]

T = TypeVar("T")


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


_SURROGATE: Final = re.compile("[\ud800-\udfff]")
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


def storable_text(value: str, field: str) -> str:
    """``value`` if it holds no lone surrogate (which UTF-8, hence every store, cannot encode).

    For free text (notes, summaries, the source of a consent), where control characters are
    kept as written; names and codes use [`plain_text()`][crmcore.kernel.validators.plain_text].

    Examples:
        >>> storable_text("tab\\tand newline\\n", "note")
        'tab\\tand newline\\n'
        >>> storable_text("a\\ud800", "note")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: note: must not contain a lone surrogate ...
    """
    found = _SURROGATE.search(value)
    if found is not None:
        raise ValidationError(
            field,
            value,
            f"must not contain a lone surrogate (U+{ord(found.group()):04X} at position "
            f"{found.start()}): it cannot be encoded as UTF-8",
        )
    return value


def _shown(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


@overload
def items_of(values: Iterable[T], field: str, what: str = ...) -> tuple[T, ...]: ...
@overload
def items_of(values: object, field: str, what: str = ...) -> tuple[object, ...]: ...
def items_of(values: object, field: str, what: str = "values") -> tuple[object, ...]:
    """The items of a collection (list, tuple, set, generator, array), as a tuple.

    A bare string, bytes, a mapping or anything not iterable is refused with a
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming ``field``: each
    would otherwise be taken apart character by character, key by key, or fail later with a
    ``TypeError``.

    Examples:
        >>> items_of(["vip", "b2b"], "tags")
        ('vip', 'b2b')
        >>> items_of("vip", "tags", "tags")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: tags: must be a collection of tags ...
    """
    if isinstance(values, str | bytes | bytearray | Mapping) or not isinstance(values, Iterable):
        raise ValidationError(field, _shown(values), f"must be a collection of {what}")
    return tuple(values)


def instance_of(value: object, cls: type[T], field: str, what: str | None = None) -> T:
    """``value`` if it is a ``cls``; else a ValidationError naming ``field``."""
    if not isinstance(value, cls):
        name = cls.__name__
        article = "an" if name[:1].lower() in "aeiou" else "a"
        raise ValidationError(field, _shown(value), f"must be {what or article + ' ' + name}")
    return value


def instances_of(values: object, cls: type[T], field: str) -> tuple[T, ...]:
    """The items of a collection, each a ``cls`` (else a ValidationError naming ``field[i]``).

    Examples:
        >>> instances_of([1, 2], int, "counts")
        (1, 2)
        >>> instances_of([1, "2"], int, "counts")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: counts[1]: must be an int (got '2')
    """
    found = items_of(values, field, f"{cls.__name__} objects")
    for i, item in enumerate(found):
        instance_of(item, cls, f"{field}[{i}]")
    return found  # type: ignore[return-value]  # every item checked above
