"""The original recursive implementation of the codec, kept as the reference it is tested against.

It re-inspected the annotations for every value. ``tests/test_codec.py`` checks
the compiled codec against it (same JSON, same values, same errors) and
``benchmarks/bench_codec.py`` times against it. One intended change since is
applied here too: a malformed decimal string is a ``ValidationError``.
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

from crmcore.kernel.clock import parse_datetime
from crmcore.kernel.codec import JSON
from crmcore.kernel.errors import CrmError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.money import Money

__all__ = ["reference_decode", "reference_encode"]

T = TypeVar("T")


_REF_TAGS: dict[str, type] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "decimal": Decimal,
    "date": date,
    "datetime": datetime,
}


def _ref_tag_of(value: object) -> str:
    # bool before int and datetime before date: both are subclasses.
    for tag in ("bool", "datetime", "date", "decimal", "int", "float", "str"):
        if isinstance(value, _REF_TAGS[tag]):
            return tag
    raise ValidationError(
        "value", value, "is not a str, int, float, bool, Decimal, date or datetime"
    )


def reference_encode(value: object, tp: Any = None) -> JSON:
    """The original ``crmcore.kernel.codec.encode``: a value as JSON-compatible data.

    ``tp`` is the declared type, when known; fields of attrs classes are
    encoded by their annotations, so a union-typed value gets its type tag.
    """
    if tp is not None and _ref_is_scalar_union(tp) and value is not None:
        return {"$type": _ref_tag_of(value), "value": reference_encode(value)}
    if isinstance(value, enum.IntEnum):
        return value.name.lower()  # ordered enums travel by name: renumbering stays safe
    if isinstance(value, enum.Enum):
        return reference_encode(value.value)
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
        hints = _ref_hints(cls)
        return {
            f.name: reference_encode(getattr(value, f.name), hints.get(f.name))
            for f in attrs.fields(cls)
        }
    args = get_args(_ref_strip_optional(tp)) if tp is not None else ()
    if isinstance(value, Mapping):
        value_tp = args[1] if len(args) == 2 else None
        return {_ref_key(k): reference_encode(v, value_tp) for k, v in value.items()}
    item_tp = args[0] if args else None
    if isinstance(value, frozenset | set):
        return sorted((reference_encode(v, item_tp) for v in value), key=repr)
    if isinstance(value, tuple | list):
        return [reference_encode(v, item_tp) for v in value]
    raise ValidationError("value", value, f"cannot encode a {type(value).__name__}")


def _ref_is_union(tp: Any) -> bool:
    return get_origin(tp) is Union or get_origin(tp) is types.UnionType


def _ref_strip_optional(tp: Any) -> Any:
    if _ref_is_union(tp):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return tp


@functools.cache
def _ref_is_scalar_union(tp: Any) -> bool:
    if not _ref_is_union(tp):
        return False
    members = [a for a in get_args(tp) if a is not type(None)]
    return len(members) > 1 and all(m in _REF_TAGS.values() for m in members)


def _ref_key(key: object) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if not isinstance(key, str):
        raise ValidationError("key", key, "mapping keys must be strings or string enums")
    return key


@functools.cache
def _ref_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def reference_decode(tp: Any, data: JSON, path: str = "$") -> Any:
    """The original ``crmcore.kernel.codec.decode``: a value of type ``tp`` from encoded data.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the JSON path of
    the first value that does not fit.
    """
    try:
        return _ref_decode(tp, data, path)
    except CrmError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ValidationError(path, data, f"cannot decode as {tp!r}: {exc}") from None


def _ref_decode(tp: Any, data: Any, path: str) -> Any:
    if tp is Any:
        return data
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:  # typing.NewType
        return _ref_decode(supertype, data, path)
    origin = get_origin(tp)
    if _ref_is_union(tp):
        return _ref_decode_union(tp, data, path)
    if origin is typing.Literal:
        if data not in get_args(tp):
            raise ValidationError(path, data, f"must be one of {get_args(tp)}")
        return data
    if origin is tuple:
        args = get_args(tp)
        _ref_expect(data, list, path)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_ref_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise ValidationError(path, data, f"must have {len(args)} items")
        return tuple(
            _ref_decode(a, v, f"{path}[{i}]")
            for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if origin in (frozenset, set):
        _ref_expect(data, list, path)
        (arg,) = get_args(tp)
        return frozenset(_ref_decode(arg, v, f"{path}[{i}]") for i, v in enumerate(data))
    if origin is list:
        _ref_expect(data, list, path)
        (arg,) = get_args(tp)
        return [_ref_decode(arg, v, f"{path}[{i}]") for i, v in enumerate(data)]
    if origin in (FrozenDict, dict, Mapping) or (
        isinstance(origin, type) and issubclass(origin, Mapping)
    ):
        _ref_expect(data, dict, path)
        key_tp, value_tp = get_args(tp)
        items = {
            _ref_decode(key_tp, k, f"{path}.{k}"): _ref_decode(value_tp, v, f"{path}.{k}")
            for k, v in data.items()
        }
        return items if origin is dict else FrozenDict(items)
    if not isinstance(tp, type):
        raise ValidationError(path, data, f"unsupported type {tp!r}")
    if tp is bool:
        return _ref_expect(data, bool, path)
    if tp is int:
        if isinstance(data, bool):
            raise ValidationError(path, data, "must be an integer")
        return _ref_expect(data, int, path)
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ValidationError(path, data, "must be a number")
        return float(data)
    if tp is str:
        return _ref_expect(data, str, path)
    if tp is Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int):
            raise ValidationError(path, data, "must be a decimal string")
        try:  # the one intended change since: a bad decimal string is a ValidationError
            return Decimal(data)
        except ArithmeticError:
            raise ValidationError(path, data, "must be a decimal string") from None
    if tp is datetime:
        return parse_datetime(_ref_expect(data, str, path), path)
    if tp is date:
        return date.fromisoformat(_ref_expect(data, str, path))
    if tp is timedelta:
        if isinstance(data, bool):
            raise ValidationError(path, data, "must be whole microseconds")
        return timedelta(microseconds=_ref_expect(data, int, path))
    if tp is Money:
        return Money.from_dict(data)
    if issubclass(tp, enum.IntEnum):
        name = _ref_expect(data, str, path).upper()
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
        _ref_expect(data, dict, path)
        hints = _ref_hints(tp)
        kwargs: dict[str, Any] = {}
        known = set()
        for f in attrs.fields(tp):
            known.add(f.name)
            if f.name in data:
                kwargs[f.alias or f.name] = _ref_decode(
                    hints[f.name], data[f.name], f"{path}.{f.name}"
                )
            elif f.default is attrs.NOTHING:
                raise ValidationError(f"{path}.{f.name}", None, "is missing")
        unknown = set(data) - known
        if unknown:
            raise ValidationError(path, sorted(unknown), "has unknown fields")
        return tp(**kwargs)
    raise ValidationError(path, data, f"unsupported type {tp.__name__}")


def _ref_decode_union(tp: Any, data: Any, path: str) -> Any:
    members = [a for a in get_args(tp) if a is not type(None)]
    if data is None:
        if len(members) < len(get_args(tp)):
            return None
        raise ValidationError(path, data, "must not be null")
    if len(members) == 1:
        return _ref_decode(members[0], data, path)
    if isinstance(data, dict) and set(data) == {"$type", "value"} and data["$type"] in _REF_TAGS:
        target = _REF_TAGS[data["$type"]]
        if target in members:
            return _ref_decode(target, data["value"], path)
    raise ValidationError(path, data, f"must be a tagged value of one of {members}")


def _ref_expect(data: Any, kind: type[T], path: str) -> T:
    if not isinstance(data, kind):
        raise ValidationError(path, data, f"must be a JSON {kind.__name__}")
    return data
