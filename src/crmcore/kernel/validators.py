"""Validators shared by the aggregates and the public functions.

Every stored aggregate carries a ``version`` (0 until a repository saves it,
then 1, 2, ...) that the unit of work compares for optimistic concurrency.
[`items_of()`][crmcore.kernel.validators.items_of] and
[`instances_of()`][crmcore.kernel.validators.instances_of] check the collections a public
function takes, so a wrong type is a [`ValidationError`][crmcore.kernel.errors.ValidationError]
naming the argument rather than a ``TypeError`` from deep inside.
"""

from __future__ import annotations

import enum
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from typing import Final, TypeVar, overload

import attrs

from crmcore.kernel.errors import ValidationError

__all__ = [
    "boolean",
    "choice",
    "flag",
    "instance_of",
    "instances_of",
    "integer",
    "items_of",
    "mapping_of",
    "non_negative_int",
    "nul_free_text",
    "number",
    "plain_text",
    "storable_text",
    "text",
    "version",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)


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


def nul_free_text(value: str, field: str) -> str:
    """``value`` if it holds no NUL (U+0000) and no lone surrogate; else ValidationError.

    For stored values that keep other control characters as written (a custom attribute's
    text): SQLite's string functions (``length``, ``substr``, ``like``, ``instr``) stop at a NUL,
    so a back end filtering in SQL and one filtering in numpy would disagree about the value.

    Examples:
        >>> nul_free_text("line\\tbreak", "attributes.note")
        'line\\tbreak'
        >>> nul_free_text("ab\\x00c", "note")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: note: must not contain NUL (U+0000 at position 2)...
    """
    position = value.find("\x00")
    if position >= 0:
        raise ValidationError(
            field,
            _shown(value),
            f"must not contain NUL (U+0000 at position {position}): SQLite's string functions "
            "stop at it",
        )
    return storable_text(value, field)


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


def boolean(value: object, field: str) -> bool:
    """``value`` if it is ``True`` or ``False``; a truthy stand-in (1, "yes", None) is refused.

    Examples:
        >>> boolean(True, "strict")
        True
        >>> boolean(1, "strict")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: strict: must be True or False (got 1)
    """
    if not isinstance(value, bool):
        raise ValidationError(field, _shown(value), "must be True or False")
    return value


def integer(value: object, field: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` if it is a whole number (not a bool) within ``[low, high]``.

    numpy integers are accepted (and returned as ``int``); floats, even whole ones, are refused
    because a float where a count is expected is almost always a mistake upstream.

    Examples:
        >>> integer(3, "top", low=1)
        3
        >>> integer(0, "top", low=1)
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: top: must be an integer of at least 1 (got 0)
        >>> integer(1.5, "top")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: top: must be an integer (got 1.5)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(field, _shown(value), "must be an integer" + _bounds(low, high))
    whole = int(value)
    if (low is not None and whole < low) or (high is not None and whole > high):
        raise ValidationError(field, whole, "must be an integer" + _bounds(low, high))
    return whole


def number(
    value: object, field: str, *, low: float | None = None, high: float | None = None
) -> float:
    """``value`` as a finite ``float`` within ``[low, high]``; NaN, infinities and bools refused.

    Examples:
        >>> number(0.25, "rate", low=0.0, high=1.0)
        0.25
        >>> number(float("nan"), "rate")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: rate: must be a finite number (got nan)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(field, _shown(value), "must be a finite number" + _bounds(low, high))
    try:
        real = float(value)
    except (OverflowError, ValueError):  # an int beyond the float range
        raise ValidationError(field, _shown(value), "must be a finite number") from None
    if not math.isfinite(real):
        raise ValidationError(field, value, "must be a finite number" + _bounds(low, high))
    if (low is not None and real < low) or (high is not None and real > high):
        raise ValidationError(field, value, "must be a finite number" + _bounds(low, high))
    return real


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" of at least {low}"
    if high is not None:
        return f" of at most {high}"
    return ""


def text(
    value: object,
    field: str,
    *,
    limit: int = 1000,
    empty: bool = False,
    multiline: bool = False,
) -> str:
    """``value`` if it is a ``str`` of at most ``limit`` characters, storable and printable.

    A one-line text (``multiline=False``) refuses every control character; free text may hold
    tab, newline and carriage return. An empty (or all-blank) text is refused unless ``empty``.

    Examples:
        >>> text("spring sale", "name", limit=50)
        'spring sale'
        >>> text(b"spring", "name")
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: name: must be a text (got b'spring')
    """
    if not isinstance(value, str):
        raise ValidationError(field, _shown(value), "must be a text")
    if len(value) > limit:
        raise ValidationError(
            field, _shown(value), f"must be at most {limit} characters (has {len(value)})"
        )
    if not empty and not value.strip():
        raise ValidationError(field, value, "must not be empty")
    return plain_text(value, field, multiline=multiline)


@overload
def choice(value: object, field: str, options: type[E]) -> E: ...
@overload
def choice(value: object, field: str, options: Iterable[T]) -> T: ...
def choice(value: object, field: str, options: object) -> object:
    """``value`` if it is one of ``options``: the members (or values) of an enum, or a collection.

    For an enum, a member's value is accepted and the member returned, so both
    ``Direction.UP`` and ``"up"`` work.

    Examples:
        >>> choice("net", "spend", ("net", "gross"))
        'net'
        >>> choice("all", "spend", ("net", "gross"))
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: spend: must be one of 'net', 'gross' (got 'all')
    """
    if isinstance(options, type) and issubclass(options, enum.Enum):
        if isinstance(value, options):
            return value
        for member in options:
            if _same(member.value, value):
                return member
        shown = ", ".join(repr(m.value) for m in options)
    else:
        allowed = items_of(options, "options")
        for option in allowed:
            if _same(option, value):
                return option
        shown = ", ".join(repr(o) for o in allowed)
    raise ValidationError(field, _shown(value), f"must be one of {shown}")


def _same(option: object, value: object) -> bool:
    # ``True == 1`` and ``1.0 == 1`` in Python: a choice compares type and value.
    if type(option) is not type(value) and not (isinstance(option, str) and isinstance(value, str)):
        return False
    try:
        return bool(option == value)
    except Exception:  # an array or an object with a strange __eq__ is simply not an option
        return False


def mapping_of(
    value: object, field: str, keys: type[T], values: type[object] | None = None
) -> dict[T, object]:
    """A plain ``dict`` copy of a mapping whose keys are ``keys`` (and values ``values``).

    Examples:
        >>> mapping_of({"a": 1}, "weights", str, int)
        {'a': 1}
        >>> mapping_of({1: 1}, "weights", str)
        Traceback (most recent call last):
        ...
        crmcore.kernel.errors.ValidationError: weights: keys must be str (got 1)
    """
    if not isinstance(value, Mapping):
        raise ValidationError(field, _shown(value), "must be a mapping")
    copied: dict[T, object] = {}
    for key, item in value.items():
        if not isinstance(key, keys) or (keys is not bool and isinstance(key, bool)):
            raise ValidationError(field, _shown(key), f"keys must be {keys.__name__}")
        if values is not None and not isinstance(item, values):
            raise ValidationError(f"{field}[{key!r}]", _shown(item), f"must be {values.__name__}")
        copied[key] = item
    return copied
