"""What the codec knows about types: JSON, scalar tags, unions, type hints, the per-type caches."""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, Union, get_args, get_origin

from crmcore.kernel.errors import ValidationError

__all__ = [
    "DECODERS",
    "DECODERS_BY_SHAPE",
    "ENCODERS",
    "ENCODERS_BY_SHAPE",
    "JSON",
    "TAGS",
    "Decoder",
    "Encoder",
    "cached",
    "expect",
    "INF",
    "MICROSECOND",
    "NEG_INF",
    "NONE_TYPE",
    "type_hints",
    "is_scalar_union",
    "is_union",
    "key",
    "strip_optional",
    "tag_of",
]

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]
T = TypeVar("T")

Decoder = Callable[[Any, str], Any]
"""A compiled decoder: ``(data, path) -> value``."""
Encoder = Callable[[Any], JSON]
"""A compiled encoder: ``value -> JSON``."""

NONE_TYPE: type = type(None)
MICROSECOND = timedelta(microseconds=1)
INF = float("inf")
NEG_INF = float("-inf")

TAGS: dict[str, type] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "decimal": Decimal,
    "date": date,
    "datetime": datetime,
}


def tag_of(value: object) -> str:
    # bool before int and datetime before date: both are subclasses.
    for tag in ("bool", "datetime", "date", "decimal", "int", "float", "str"):
        if isinstance(value, TAGS[tag]):
            return tag
    raise ValidationError(
        "value", value, "is not a str, int, float, bool, Decimal, date or datetime"
    )


def is_union(tp: Any) -> bool:
    return get_origin(tp) is Union or get_origin(tp) is types.UnionType


def strip_optional(tp: Any) -> Any:
    if is_union(tp):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return tp


@functools.cache
def is_scalar_union(tp: Any) -> bool:
    if not is_union(tp):
        return False
    members = [a for a in get_args(tp) if a is not type(None)]
    return len(members) > 1 and all(m in TAGS.values() for m in members)


def key(key: object) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if not isinstance(key, str):
        raise ValidationError("key", key, "mapping keys must be strings or string enums")
    return key


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def expect(data: Any, kind: type[T], path: str) -> T:
    if not isinstance(data, kind):
        raise ValidationError(path, data, f"must be a JSON {kind.__name__}")
    return data


# -- the per-type caches ------------------------------------------------------------------
#
# Typing objects compare by value, and some compare equal while differing in what the
# codec does with them: ``Union[int, str] == Union[str, int]`` (the members are listed in
# an error message, in order) and ``list[int] == typing.List[int]`` (different reprs). A
# cache entry is therefore reused for the very same object, else only for an equal type of
# the same shape (the kinds of every node, their origins and their arguments in order).


def shape_of(tp: Any) -> object:
    args = get_args(tp)
    if not args:
        return (type(tp), tp)
    return (type(tp), get_origin(tp), tuple(shape_of(a) for a in args))


def cached(
    table: dict[Any, tuple[Any, Any]],
    by_shape: dict[object, Any],
    compile_: Callable[[Any], Any],
    tp: Any,
) -> Any:
    """The compiled function of ``tp`` (``table.get`` raises TypeError if it is unhashable)."""
    entry = table.get(tp)
    if entry is not None and entry[0] is tp:
        return entry[1]
    try:
        shape = shape_of(tp)
        compiled = by_shape.get(shape)
    except TypeError:  # an unhashable argument (a Callable's parameter list): no caching
        return compile_(tp)
    if compiled is None:
        compiled = compile_(tp)
        by_shape[shape] = compiled
    if entry is None:
        table[tp] = (tp, compiled)
    return compiled


DECODERS: dict[Any, tuple[Any, Decoder]] = {}
DECODERS_BY_SHAPE: dict[object, Decoder] = {}
ENCODERS: dict[Any, tuple[Any, Encoder]] = {}
ENCODERS_BY_SHAPE: dict[object, Encoder] = {}
