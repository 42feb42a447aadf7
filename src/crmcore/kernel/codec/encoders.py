"""Encoding: each declared type compiled once into an encoder closure (value -> JSON)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, get_args

import attrs

from crmcore.kernel.codec.types import (
    ENCODERS,
    ENCODERS_BY_SHAPE,
    INF,
    JSON,
    MICROSECOND,
    NEG_INF,
    NONE_TYPE,
    Encoder,
    cached,
    is_scalar_union,
    key,
    strip_optional,
    tag_of,
    type_hints,
)
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money

__all__ = ["encode"]


def encode(value: object, tp: Any = None) -> JSON:
    """Encode a value object (or anything it may hold) as JSON-compatible data.

    ``tp`` is the declared type, when known; fields of attrs classes are
    encoded by their annotations, so a union-typed value gets its type tag.
    """
    if tp is None:
        return _encode_plain(value)
    encoder: Encoder = cached(ENCODERS, ENCODERS_BY_SHAPE, _compile_encoder, tp)
    return encoder(value)


def _encoder(tp: Any) -> Encoder:
    """The encoder of declared type ``tp``; raises TypeError when it is unhashable."""
    if tp is None:
        return _encode_plain
    encoder: Encoder = cached(ENCODERS, ENCODERS_BY_SHAPE, _compile_encoder, tp)
    return encoder


def _sub_encoder(tp: Any) -> Encoder:
    """The encoder of a nested declared type; an unhashable one fails when it is used."""
    try:
        return _encoder(tp)
    except TypeError:
        return lambda value: encode(value, tp)


def _compile_encoder(tp: Any) -> Encoder:
    if is_scalar_union(tp):

        def encode_tagged(value: Any) -> JSON:
            if value is None:
                return None
            return {"$type": tag_of(value), "value": _encode_plain(value)}

        return encode_tagged
    args = get_args(strip_optional(tp))
    if not args:
        return _encode_plain
    value_encoder = _sub_encoder(args[1]) if len(args) == 2 else _encode_plain
    item_encoder = _sub_encoder(args[0])

    def encode_declared(value: Any) -> JSON:
        cls = type(value)
        try:
            leaf = _LEAVES[cls]
        except KeyError:
            leaf = _classify(cls)
        if leaf is not None:
            return leaf(value)
        return _encode_container(value, value_encoder, item_encoder)

    return encode_declared


def _encode_plain(value: Any) -> JSON:
    """``encode(value)`` without a declared type."""
    cls = type(value)
    try:
        leaf = _LEAVES[cls]
    except KeyError:
        leaf = _classify(cls)
    if leaf is not None:
        return leaf(value)
    return _encode_container(value, _encode_plain, _encode_plain)


def _encode_container(value: Any, value_encoder: Encoder, item_encoder: Encoder) -> JSON:
    if isinstance(value, Mapping):
        return {key(k): value_encoder(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((item_encoder(v) for v in value), key=repr)
    if isinstance(value, tuple | list):
        return [item_encoder(v) for v in value]
    raise ValidationError("value", value, f"cannot encode a {type(value).__name__}")


def _encode_same(value: Any) -> JSON:
    return value  # type: ignore[no-any-return]


def _encode_float(value: Any) -> JSON:
    if value != value or value in (INF, NEG_INF):
        raise ValidationError("value", value, "non-finite floats cannot be stored")
    return value  # type: ignore[no-any-return]


def _encode_decimal(value: Any) -> JSON:
    return str(value)


def _encode_datetime(value: Any) -> JSON:
    if value.tzinfo is None:
        raise ValidationError("value", value, "naive datetimes cannot be stored")
    return value.isoformat()  # type: ignore[no-any-return]


def _encode_date(value: Any) -> JSON:
    return value.isoformat()  # type: ignore[no-any-return]


def _encode_timedelta(value: Any) -> JSON:
    return value // MICROSECOND  # type: ignore[no-any-return]


def _encode_money(value: Any) -> JSON:
    return value.to_dict()  # type: ignore[no-any-return]


def _encode_int_enum(value: Any) -> JSON:
    return value.name.lower()  # type: ignore[no-any-return]  # ordered enums travel by name


def _encode_enum(value: Any) -> JSON:
    return _encode_plain(value.value)


_LEAVES: dict[type, Encoder | None] = {
    NONE_TYPE: _encode_same,
    bool: _encode_same,
    int: _encode_same,
    str: _encode_same,
    float: _encode_float,
    Decimal: _encode_decimal,
    datetime: _encode_datetime,
    date: _encode_date,
    timedelta: _encode_timedelta,
    Money: _encode_money,
}
"""How a value of each runtime class is encoded; ``None``: a container (or nothing
encodable), decided per value since ``Mapping`` is an ABC.
"""


def _classify(cls: type) -> Encoder | None:
    """The leaf encoder of values of class ``cls`` (checked in the codec's order), cached."""
    leaf: Encoder | None
    if issubclass(cls, enum.IntEnum):
        leaf = _encode_int_enum
    elif issubclass(cls, enum.Enum):
        leaf = _encode_enum
    elif cls is NONE_TYPE or issubclass(cls, bool | int | str):
        leaf = _encode_same
    elif issubclass(cls, float):
        leaf = _encode_float
    elif issubclass(cls, Decimal):
        leaf = _encode_decimal
    elif issubclass(cls, datetime):
        leaf = _encode_datetime
    elif issubclass(cls, date):
        leaf = _encode_date
    elif issubclass(cls, timedelta):
        leaf = _encode_timedelta
    elif issubclass(cls, Money):
        leaf = _encode_money
    elif attrs.has(cls):
        leaf = _attrs_encoder(cls)
    else:
        leaf = None
    _LEAVES[cls] = leaf
    return leaf


def _attrs_encoder(cls: type) -> Encoder:
    """Encode an attrs instance field by field; the field list is built at first use."""
    # Per field: name, encoder, and whether it is the plain one (then the value's leaf
    # encoder is looked up here: str, int, bool and None values are returned as they are).
    built: list[list[tuple[str, Encoder, bool]]] = []  # the field list, once built

    def build() -> list[tuple[str, Encoder, bool]]:
        hints = type_hints(cls)
        fields = []
        for f in attrs.fields(cls):
            field_encoder = _sub_encoder(hints.get(f.name))
            fields.append((f.name, field_encoder, field_encoder is _encode_plain))
        built.append(fields)
        return fields

    def encode_attrs(value: Any) -> JSON:
        fields = built[0] if built else build()
        data: dict[str, JSON] = {}
        for name, field_encoder, plain in fields:
            field = getattr(value, name)
            if plain:  # what _encode_plain does, one call shorter
                leaf = _LEAVES.get(type(field))
                if leaf is _encode_same:
                    data[name] = field
                elif leaf is not None:
                    data[name] = leaf(field)
                else:  # a container, or a class not classified yet
                    data[name] = field_encoder(field)
            else:
                data[name] = field_encoder(field)
        return data

    return encode_attrs
