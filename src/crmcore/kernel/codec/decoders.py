"""Decoding: each declared type compiled once into a decoder closure ((data, path) -> value)."""

from __future__ import annotations

import enum
import typing
import weakref
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, get_args, get_origin

import attrs

from crmcore.kernel.clock import parse_datetime
from crmcore.kernel.codec.types import (
    DECODERS,
    DECODERS_BY_SHAPE,
    JSON,
    TAGS,
    Decoder,
    cached,
    expect,
    is_union,
    type_hints,
)
from crmcore.kernel.errors import CrmError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.money import Money

__all__ = ["decode"]


def decode(tp: Any, data: JSON, path: str = "$") -> Any:
    """Rebuild a value of type ``tp`` from [`encode()`][crmcore.kernel.codec.encode] output.

    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the JSON path of
    the first value that does not fit.
    """
    try:
        return _decoder(tp)(data, path)
    except CrmError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ValidationError(path, data, f"cannot decode as {tp!r}: {exc}") from None


def _decoder(tp: Any) -> Decoder:
    """The compiled decoder of ``tp`` (an unhashable ``tp`` is compiled afresh)."""
    try:
        decoder: Decoder = cached(DECODERS, DECODERS_BY_SHAPE, _compile_decoder, tp)
    except TypeError:
        return _compile_decoder(tp)
    return decoder


def _compile_decoder(tp: Any) -> Decoder:
    if tp is Any:
        return _decode_any
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:  # typing.NewType
        return _decoder(supertype)
    origin = get_origin(tp)
    if is_union(tp):
        return _union_decoder(tp)
    if origin is typing.Literal:
        return _literal_decoder(get_args(tp))
    if origin is tuple:
        return _tuple_decoder(get_args(tp))
    if origin in (frozenset, set):
        return _collection_decoder(get_args(tp), frozenset)
    if origin is list:
        return _collection_decoder(get_args(tp), list)
    if origin in (FrozenDict, dict, Mapping) or (
        isinstance(origin, type) and issubclass(origin, Mapping)
    ):
        return _mapping_decoder(get_args(tp), origin is dict)
    if not isinstance(tp, type):
        return _unsupported_decoder(f"unsupported type {tp!r}")
    scalar = _SCALAR_DECODERS.get(tp)
    if scalar is not None:
        return scalar
    if issubclass(tp, enum.IntEnum):
        return _int_enum_decoder(tp)
    if issubclass(tp, enum.Enum):
        return _enum_decoder(tp)
    if attrs.has(tp):
        return _attrs_decoder(tp)
    return _unsupported_decoder(f"unsupported type {tp.__name__}")


def _decode_any(data: Any, path: str) -> Any:
    return data


def _unsupported_decoder(reason: str) -> Decoder:
    def decode_unsupported(data: Any, path: str) -> Any:
        raise ValidationError(path, data, reason)

    return decode_unsupported


def _union_decoder(tp: Any) -> Decoder:
    args = get_args(tp)
    members = [a for a in args if a is not type(None)]
    nullable = len(members) < len(args)
    if len(members) == 1:
        member = _decoder(members[0])

        def decode_optional(data: Any, path: str) -> Any:
            if data is None:
                if nullable:
                    return None
                raise ValidationError(path, data, "must not be null")
            return member(data, path)

        if nullable:
            _PASS_THROUGH[decode_optional] = (_PASS_THROUGH.get(member, (None, False))[0], True)
        return decode_optional
    targets = {tag: _decoder(target) for tag, target in TAGS.items() if target in members}
    reason = f"must be a tagged value of one of {members}"

    def decode_tagged(data: Any, path: str) -> Any:
        if data is None:
            if nullable:
                return None
            raise ValidationError(path, data, "must not be null")
        if isinstance(data, dict) and set(data) == {"$type", "value"} and data["$type"] in TAGS:
            target = targets.get(data["$type"])
            if target is not None:
                return target(data["value"], path)
        raise ValidationError(path, data, reason)

    if nullable:
        _PASS_THROUGH[decode_tagged] = (None, True)
    return decode_tagged


def _literal_decoder(allowed: tuple[Any, ...]) -> Decoder:
    reason = f"must be one of {allowed}"

    def decode_literal(data: Any, path: str) -> Any:
        if data not in allowed:
            raise ValidationError(path, data, reason)
        return data

    return decode_literal


def _tuple_decoder(args: tuple[Any, ...]) -> Decoder:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _decoder(args[0])

        def decode_variadic(data: Any, path: str) -> Any:
            if not isinstance(data, list):
                raise ValidationError(path, data, "must be a JSON list")
            return tuple([item(v, f"{path}[{i}]") for i, v in enumerate(data)])

        return decode_variadic
    items = [_decoder(a) for a in args]
    reason = f"must have {len(args)} items"

    def decode_fixed(data: Any, path: str) -> Any:
        if not isinstance(data, list):
            raise ValidationError(path, data, "must be a JSON list")
        if len(items) != len(data):
            raise ValidationError(path, data, reason)
        return tuple(
            [item(v, f"{path}[{i}]") for i, (item, v) in enumerate(zip(items, data, strict=True))]
        )

    return decode_fixed


def _collection_decoder(args: tuple[Any, ...], make: type[frozenset[Any] | list[Any]]) -> Decoder:
    if len(args) != 1:  # a bare typing.List / typing.FrozenSet: fails like unpacking its args

        def decode_unparameterised(data: Any, path: str) -> Any:
            expect(data, list, path)
            (arg,) = args
            return _collection_decoder((arg,), make)(data, path)

        return decode_unparameterised
    item = _decoder(args[0])

    def decode_collection(data: Any, path: str) -> Any:
        if not isinstance(data, list):
            raise ValidationError(path, data, "must be a JSON list")
        return make([item(v, f"{path}[{i}]") for i, v in enumerate(data)])

    return decode_collection


def _mapping_decoder(args: tuple[Any, ...], plain_dict: bool) -> Decoder:
    if len(args) != 2:  # a bare typing.Mapping: fails like unpacking its args

        def decode_unparameterised(data: Any, path: str) -> Any:
            expect(data, dict, path)
            key_tp, value_tp = args
            return _mapping_decoder((key_tp, value_tp), plain_dict)(data, path)

        return decode_unparameterised
    key_decoder = _decoder(args[0])
    value_decoder = _decoder(args[1])

    def decode_mapping(data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            raise ValidationError(path, data, "must be a JSON dict")
        items = {
            key_decoder(k, f"{path}.{k}"): value_decoder(v, f"{path}.{k}") for k, v in data.items()
        }
        return items if plain_dict else FrozenDict(items)

    return decode_mapping


def _decode_bool(data: Any, path: str) -> Any:
    if not isinstance(data, bool):
        raise ValidationError(path, data, "must be a JSON bool")
    return data


def _decode_int(data: Any, path: str) -> Any:
    if isinstance(data, bool):
        raise ValidationError(path, data, "must be an integer")
    if not isinstance(data, int):
        raise ValidationError(path, data, "must be a JSON int")
    return data


def _decode_float(data: Any, path: str) -> Any:
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise ValidationError(path, data, "must be a number")
    return float(data)


def _decode_str(data: Any, path: str) -> Any:
    if not isinstance(data, str):
        raise ValidationError(path, data, "must be a JSON str")
    return data


def _decode_decimal(data: Any, path: str) -> Any:
    if isinstance(data, bool) or not isinstance(data, str | int):
        raise ValidationError(path, data, "must be a decimal string")
    try:
        return Decimal(data)
    except ArithmeticError:  # decimal.InvalidOperation
        raise ValidationError(path, data, "must be a decimal string") from None


def _decode_datetime(data: Any, path: str) -> Any:
    if not isinstance(data, str):
        raise ValidationError(path, data, "must be a JSON str")
    return parse_datetime(data, path)


def _decode_date(data: Any, path: str) -> Any:
    if not isinstance(data, str):
        raise ValidationError(path, data, "must be a JSON str")
    return date.fromisoformat(data)


def _decode_timedelta(data: Any, path: str) -> Any:
    if isinstance(data, bool):
        raise ValidationError(path, data, "must be whole microseconds")
    if not isinstance(data, int):
        raise ValidationError(path, data, "must be a JSON int")
    return timedelta(microseconds=data)


def _decode_money(data: Any, path: str) -> Any:
    return Money.from_dict(data)


_PASS_THROUGH: weakref.WeakKeyDictionary[Decoder, tuple[type | None, bool]] = (
    weakref.WeakKeyDictionary()
)
"""Decoders that return some inputs unchanged: (values of exactly this class, None); the
attrs decoder passes such field values through without calling them.
(Weak keys: a type that cannot be cached is compiled at every call.)
"""
_PASS_THROUGH[_decode_bool] = (bool, False)
_PASS_THROUGH[_decode_int] = (int, False)
_PASS_THROUGH[_decode_str] = (str, False)

_SCALAR_DECODERS: dict[type, Decoder] = {
    bool: _decode_bool,
    int: _decode_int,
    float: _decode_float,
    str: _decode_str,
    Decimal: _decode_decimal,
    datetime: _decode_datetime,
    date: _decode_date,
    timedelta: _decode_timedelta,
    Money: _decode_money,
}


def _int_enum_decoder(tp: type[enum.IntEnum]) -> Decoder:
    members = tp.__members__

    def decode_int_enum(data: Any, path: str) -> Any:
        if not isinstance(data, str):
            raise ValidationError(path, data, "must be a JSON str")
        name = data.upper()
        if name not in members:
            allowed = ", ".join(m.name.lower() for m in tp)
            raise ValidationError(path, data, f"must be one of {allowed}")
        return tp[name]

    return decode_int_enum


def _enum_decoder(tp: type[enum.Enum]) -> Decoder:
    def decode_enum(data: Any, path: str) -> Any:
        try:
            return tp(data)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in tp)
            raise ValidationError(path, data, f"must be one of {allowed}") from None

    return decode_enum


_Field = tuple[str, str, str, Decoder, bool, type | None, bool]
"""One field of an attrs class: name, ".name" (the path suffix), init alias, decoder,
required, and what its decoder returns unchanged: values of exactly that class, None.
"""


def _missing_hint(name: str) -> Decoder:
    def decode_unannotated(data: Any, path: str) -> Any:
        raise KeyError(name)  # what looking the field up in the class's type hints raises

    return decode_unannotated


def _attrs_decoder(cls: type) -> Decoder:
    """Decode a JSON object into ``cls`` (through its ``__init__``: validators run)."""
    built: list[list[_Field]] = []  # the field list, once built
    known: set[str] = set()

    def build() -> list[_Field]:
        hints = type_hints(cls)
        fields: list[_Field] = []
        for f in attrs.fields(cls):
            field_decoder = _decoder(hints[f.name]) if f.name in hints else _missing_hint(f.name)
            required = f.default is attrs.NOTHING
            same, none = _PASS_THROUGH.get(field_decoder, (None, False))
            alias = f.alias or f.name
            fields.append((f.name, f".{f.name}", alias, field_decoder, required, same, none))
        known.update(f.name for f in attrs.fields(cls))
        built.append(fields)
        return fields

    def decode_attrs(data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            raise ValidationError(path, data, "must be a JSON dict")
        fields = built[0] if built else build()
        kwargs: dict[str, Any] = {}
        found = 0
        for name, suffix, alias, field_decoder, required, same, none in fields:
            if name in data:
                value = data[name]
                if type(value) is same or (none and value is None):
                    kwargs[alias] = value  # what the decoder would return, without the call
                else:
                    kwargs[alias] = field_decoder(value, path + suffix)
                found += 1
            elif required:
                raise ValidationError(path + suffix, None, "is missing")
        if found != len(data):
            unknown = set(data) - known
            if unknown:
                raise ValidationError(path, sorted(unknown), "has unknown fields")
        return cls(**kwargs)

    return decode_attrs
