"""A type-directed JSON codec for crmcore's value objects.

``encode(value)`` turns frozen attrs objects (and the types they hold:
``Decimal``, aware ``datetime``, ``date``, ``timedelta``, enums, :class:`~crmcore.money.Money`,
tuples, frozensets, :class:`~crmcore.frozen.FrozenDict`) into plain JSON data;
``decode(SomeType, data)`` rebuilds them from their annotations, validating as
it goes (every attrs validator runs again). The format is exact: decimals
travel as strings, datetimes as ISO 8601 with their offset, durations as whole
microseconds. Unions of several
scalar types (custom attribute values) are tagged ``{"$type": ..., "value": ...}``
so ``"2024-01-01"`` the string and ``2024-01-01`` the date stay apart.

It is the single serialisation used for domain events, the outbox, the stored
documents of the SQLite adapter and customer data exports.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs

from crmcore.clock import parse_datetime
from crmcore.errors import CrmError, ValidationError
from crmcore.frozen import FrozenDict
from crmcore.money import Money

__all__ = ["JSON", "decode", "encode"]

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]
T = TypeVar("T")

_TAGS: dict[str, type] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "decimal": Decimal,
    "date": date,
    "datetime": datetime,
}


def _tag_of(value: object) -> str:
    # bool before int and datetime before date: both are subclasses.
    for tag in ("bool", "datetime", "date", "decimal", "int", "float", "str"):
        if isinstance(value, _TAGS[tag]):
            return tag
    raise ValidationError(
        "value", value, "is not a str, int, float, bool, Decimal, date or datetime"
    )


def encode(value: object, tp: Any = None) -> JSON:
    """Encode a value object (or anything it may hold) as JSON-compatible data.

    ``tp`` is the declared type, when known; fields of attrs classes are
    encoded by their annotations, so a union-typed value gets its type tag.
    """
    if tp is not None and _is_scalar_union(tp) and value is not None:
        return {"$type": _tag_of(value), "value": encode(value)}
    if isinstance(value, enum.IntEnum):
        return value.name.lower()  # ordered enums travel by name: renumbering stays safe
    if isinstance(value, enum.Enum):
        return encode(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError("value", value, "non-finite floats cannot be stored")
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError("value", value, "naive datetimes cannot be stored")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value // timedelta(microseconds=1)
    if isinstance(value, Money):
        return value.to_dict()  # type: ignore[return-value]
    cls: Any = type(value)
    if attrs.has(cls):
        hints = _hints(cls)
        return {
            f.name: encode(getattr(value, f.name), hints.get(f.name)) for f in attrs.fields(cls)
        }
    args = get_args(_strip_optional(tp)) if tp is not None else ()
    if isinstance(value, Mapping):
        value_tp = args[1] if len(args) == 2 else None
        return {_key(k): encode(v, value_tp) for k, v in value.items()}
    item_tp = args[0] if args else None
    if isinstance(value, frozenset | set):
        return sorted((encode(v, item_tp) for v in value), key=repr)
    if isinstance(value, tuple | list):
        return [encode(v, item_tp) for v in value]
    raise ValidationError("value", value, f"cannot encode a {type(value).__name__}")


def _is_union(tp: Any) -> bool:
    return get_origin(tp) is Union or get_origin(tp) is types.UnionType


def _strip_optional(tp: Any) -> Any:
    if _is_union(tp):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return tp


@functools.cache
def _is_scalar_union(tp: Any) -> bool:
    if not _is_union(tp):
        return False
    members = [a for a in get_args(tp) if a is not type(None)]
    return len(members) > 1 and all(m in _TAGS.values() for m in members)


def _key(key: object) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if not isinstance(key, str):
        raise ValidationError("key", key, "mapping keys must be strings or string enums")
    return key


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(tp: Any, data: JSON, path: str = "$") -> Any:
    """Rebuild a value of type ``tp`` from :func:`encode` output.

    Raises :class:`~crmcore.errors.ValidationError` naming the JSON path of
    the first value that does not fit.
    """
    try:
        return _decode(tp, data, path)
    except CrmError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ValidationError(path, data, f"cannot decode as {tp!r}: {exc}") from None


def _decode(tp: Any, data: Any, path: str) -> Any:
    if tp is Any:
        return data
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:  # typing.NewType
        return _decode(supertype, data, path)
    origin = get_origin(tp)
    if _is_union(tp):
        return _decode_union(tp, data, path)
    if origin is typing.Literal:
        if data not in get_args(tp):
            raise ValidationError(path, data, f"must be one of {get_args(tp)}")
        return data
    if origin is tuple:
        args = get_args(tp)
        _expect(data, list, path)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise ValidationError(path, data, f"must have {len(args)} items")
        return tuple(
            _decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if origin in (frozenset, set):
        _expect(data, list, path)
        (arg,) = get_args(tp)
        return frozenset(_decode(arg, v, f"{path}[{i}]") for i, v in enumerate(data))
    if origin is list:
        _expect(data, list, path)
        (arg,) = get_args(tp)
        return [_decode(arg, v, f"{path}[{i}]") for i, v in enumerate(data)]
    if origin in (FrozenDict, dict, Mapping) or (
        isinstance(origin, type) and issubclass(origin, Mapping)
    ):
        _expect(data, dict, path)
        key_tp, value_tp = get_args(tp)
        items = {
            _decode(key_tp, k, f"{path}.{k}"): _decode(value_tp, v, f"{path}.{k}")
            for k, v in data.items()
        }
        return items if origin is dict else FrozenDict(items)
    if not isinstance(tp, type):
        raise ValidationError(path, data, f"unsupported type {tp!r}")
    if tp is bool:
        return _expect(data, bool, path)
    if tp is int:
        if isinstance(data, bool):
            raise ValidationError(path, data, "must be an integer")
        return _expect(data, int, path)
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ValidationError(path, data, "must be a number")
        return float(data)
    if tp is str:
        return _expect(data, str, path)
    if tp is Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int):
            raise ValidationError(path, data, "must be a decimal string")
        return Decimal(data)
    if tp is datetime:
        return parse_datetime(_expect(data, str, path), path)
    if tp is date:
        return date.fromisoformat(_expect(data, str, path))
    if tp is timedelta:
        if isinstance(data, bool):
            raise ValidationError(path, data, "must be whole microseconds")
        return timedelta(microseconds=_expect(data, int, path))
    if tp is Money:
        return Money.from_dict(data)
    if issubclass(tp, enum.IntEnum):
        name = _expect(data, str, path).upper()
        if name not in tp.__members__:
            allowed = ", ".join(m.name.lower() for m in tp)
            raise ValidationError(path, data, f"must be one of {allowed}")
        return tp[name]
    if issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in tp)
            raise ValidationError(path, data, f"must be one of {allowed}") from None
    if attrs.has(tp):
        _expect(data, dict, path)
        hints = _hints(tp)
        kwargs: dict[str, Any] = {}
        known = set()
        for f in attrs.fields(tp):
            known.add(f.name)
            if f.name in data:
                kwargs[f.alias or f.name] = _decode(hints[f.name], data[f.name], f"{path}.{f.name}")
            elif f.default is attrs.NOTHING:
                raise ValidationError(f"{path}.{f.name}", None, "is missing")
        unknown = set(data) - known
        if unknown:
            raise ValidationError(path, sorted(unknown), "has unknown fields")
        return tp(**kwargs)
    raise ValidationError(path, data, f"unsupported type {tp.__name__}")


def _decode_union(tp: Any, data: Any, path: str) -> Any:
    members = [a for a in get_args(tp) if a is not type(None)]
    if data is None:
        if len(members) < len(get_args(tp)):
            return None
        raise ValidationError(path, data, "must not be null")
    if len(members) == 1:
        return _decode(members[0], data, path)
    if isinstance(data, dict) and set(data) == {"$type", "value"} and data["$type"] in _TAGS:
        target = _TAGS[data["$type"]]
        if target in members:
            return _decode(target, data["value"], path)
    raise ValidationError(path, data, f"must be a tagged value of one of {members}")


def _expect(data: Any, kind: type[T], path: str) -> T:
    if not isinstance(data, kind):
        raise ValidationError(path, data, f"must be a JSON {kind.__name__}")
    return data
