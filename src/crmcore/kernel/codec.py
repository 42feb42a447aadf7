"""A type-directed JSON codec for crmcore's value objects.

``encode(value)`` turns frozen attrs objects (and the types they hold:
``Decimal``, aware ``datetime``, ``date``, ``timedelta``, enums, :class:`~crmcore.Money`,
tuples, frozensets, :class:`~crmcore.kernel.frozen.FrozenDict`) into plain JSON data;
``decode(SomeType, data)`` rebuilds them from their annotations, validating as
it goes (every attrs validator runs again). The format is exact: decimals
travel as strings, datetimes as ISO 8601 with their offset, durations as whole
microseconds. Unions of several
scalar types (custom attribute values) are tagged ``{"$type": ..., "value": ...}``
so ``"2024-01-01"`` the string and ``2024-01-01`` the date stay apart.

It is the single serialisation used for domain events, the outbox, the stored
documents of the SQLite adapter and customer data exports.

Speed: the type is inspected once, not on every value. Each declared type is
compiled on first use into a decoder closure (and, where the declared type
matters, an encoder closure) kept in a per-type cache: an attrs class gets its
list of (field, init alias, field decoder, required) and its field names, a
container its item decoder, a union its members, a scalar a direct check. The
field list of an attrs class is built at its first decode or encode, so
recursive and forward-referenced classes work. The runtime type of an encoded
value is classified once per class. Behaviour, error paths and messages are
those of a plain recursive walk over the annotations:

>>> from crmcore.kernel.money import Money
>>> encode(Money("1.50", "EUR"))
{'amount': '1.50', 'currency': 'EUR'}
>>> decode(tuple[int, ...], [1, 2, "3"])
Traceback (most recent call last):
...
crmcore.kernel.errors.ValidationError: $[2]: must be a JSON int ...
"""

from __future__ import annotations

import enum
import functools
import types
import typing
import weakref
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs

from crmcore.kernel.clock import parse_datetime
from crmcore.kernel.errors import CrmError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.money import Money

__all__ = ["JSON", "decode", "encode"]

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]
T = TypeVar("T")

#: A compiled decoder: ``(data, path) -> value``.
_Decoder = Callable[[Any, str], Any]
#: A compiled encoder: ``value -> JSON``.
_Encoder = Callable[[Any], JSON]

_NONE_TYPE: type = type(None)
_MICROSECOND = timedelta(microseconds=1)
_INF = float("inf")
_NEG_INF = float("-inf")

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


def _expect(data: Any, kind: type[T], path: str) -> T:
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


def _shape(tp: Any) -> object:
    args = get_args(tp)
    if not args:
        return (type(tp), tp)
    return (type(tp), get_origin(tp), tuple(_shape(a) for a in args))


def _cached(
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
        shape = _shape(tp)
        compiled = by_shape.get(shape)
    except TypeError:  # an unhashable argument (a Callable's parameter list): no caching
        return compile_(tp)
    if compiled is None:
        compiled = compile_(tp)
        by_shape[shape] = compiled
    if entry is None:
        table[tp] = (tp, compiled)
    return compiled


_DECODERS: dict[Any, tuple[Any, _Decoder]] = {}
_DECODERS_BY_SHAPE: dict[object, _Decoder] = {}
_ENCODERS: dict[Any, tuple[Any, _Encoder]] = {}
_ENCODERS_BY_SHAPE: dict[object, _Encoder] = {}


# -- encoding -----------------------------------------------------------------------------


def encode(value: object, tp: Any = None) -> JSON:
    """Encode a value object (or anything it may hold) as JSON-compatible data.

    ``tp`` is the declared type, when known; fields of attrs classes are
    encoded by their annotations, so a union-typed value gets its type tag.
    """
    if tp is None:
        return _encode_plain(value)
    encoder: _Encoder = _cached(_ENCODERS, _ENCODERS_BY_SHAPE, _compile_encoder, tp)
    return encoder(value)


def _encoder(tp: Any) -> _Encoder:
    """The encoder of declared type ``tp``; raises TypeError when it is unhashable."""
    if tp is None:
        return _encode_plain
    encoder: _Encoder = _cached(_ENCODERS, _ENCODERS_BY_SHAPE, _compile_encoder, tp)
    return encoder


def _sub_encoder(tp: Any) -> _Encoder:
    """The encoder of a nested declared type; an unhashable one fails when it is used."""
    try:
        return _encoder(tp)
    except TypeError:
        return lambda value: encode(value, tp)


def _compile_encoder(tp: Any) -> _Encoder:
    if _is_scalar_union(tp):

        def encode_tagged(value: Any) -> JSON:
            if value is None:
                return None
            return {"$type": _tag_of(value), "value": _encode_plain(value)}

        return encode_tagged
    args = get_args(_strip_optional(tp))
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


def _encode_container(value: Any, value_encoder: _Encoder, item_encoder: _Encoder) -> JSON:
    if isinstance(value, Mapping):
        return {_key(k): value_encoder(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((item_encoder(v) for v in value), key=repr)
    if isinstance(value, tuple | list):
        return [item_encoder(v) for v in value]
    raise ValidationError("value", value, f"cannot encode a {type(value).__name__}")


def _encode_same(value: Any) -> JSON:
    return value  # type: ignore[no-any-return]


def _encode_float(value: Any) -> JSON:
    if value != value or value in (_INF, _NEG_INF):
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
    return value // _MICROSECOND  # type: ignore[no-any-return]


def _encode_money(value: Any) -> JSON:
    return value.to_dict()  # type: ignore[no-any-return]


def _encode_int_enum(value: Any) -> JSON:
    return value.name.lower()  # type: ignore[no-any-return]  # ordered enums travel by name


def _encode_enum(value: Any) -> JSON:
    return _encode_plain(value.value)


#: How a value of each runtime class is encoded; ``None``: a container (or nothing
#: encodable), decided per value since ``Mapping`` is an ABC.
_LEAVES: dict[type, _Encoder | None] = {
    _NONE_TYPE: _encode_same,
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


def _classify(cls: type) -> _Encoder | None:
    """The leaf encoder of values of class ``cls`` (checked in the codec's order), cached."""
    leaf: _Encoder | None
    if issubclass(cls, enum.IntEnum):
        leaf = _encode_int_enum
    elif issubclass(cls, enum.Enum):
        leaf = _encode_enum
    elif cls is _NONE_TYPE or issubclass(cls, bool | int | str):
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


def _attrs_encoder(cls: type) -> _Encoder:
    """Encode an attrs instance field by field; the field list is built at first use."""
    # Per field: name, encoder, and whether it is the plain one (then the value's leaf
    # encoder is looked up here: str, int, bool and None values are returned as they are).
    built: list[list[tuple[str, _Encoder, bool]]] = []  # the field list, once built

    def build() -> list[tuple[str, _Encoder, bool]]:
        hints = _hints(cls)
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


# -- decoding -----------------------------------------------------------------------------


def decode(tp: Any, data: JSON, path: str = "$") -> Any:
    """Rebuild a value of type ``tp`` from :func:`encode` output.

    Raises :class:`~crmcore.kernel.errors.ValidationError` naming the JSON path of
    the first value that does not fit.
    """
    try:
        return _decoder(tp)(data, path)
    except CrmError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ValidationError(path, data, f"cannot decode as {tp!r}: {exc}") from None


def _decoder(tp: Any) -> _Decoder:
    """The compiled decoder of ``tp`` (an unhashable ``tp`` is compiled afresh)."""
    try:
        decoder: _Decoder = _cached(_DECODERS, _DECODERS_BY_SHAPE, _compile_decoder, tp)
    except TypeError:
        return _compile_decoder(tp)
    return decoder


def _compile_decoder(tp: Any) -> _Decoder:
    if tp is Any:
        return _decode_any
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:  # typing.NewType
        return _decoder(supertype)
    origin = get_origin(tp)
    if _is_union(tp):
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


def _unsupported_decoder(reason: str) -> _Decoder:
    def decode_unsupported(data: Any, path: str) -> Any:
        raise ValidationError(path, data, reason)

    return decode_unsupported


def _union_decoder(tp: Any) -> _Decoder:
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
    targets = {tag: _decoder(target) for tag, target in _TAGS.items() if target in members}
    reason = f"must be a tagged value of one of {members}"

    def decode_tagged(data: Any, path: str) -> Any:
        if data is None:
            if nullable:
                return None
            raise ValidationError(path, data, "must not be null")
        if isinstance(data, dict) and set(data) == {"$type", "value"} and data["$type"] in _TAGS:
            target = targets.get(data["$type"])
            if target is not None:
                return target(data["value"], path)
        raise ValidationError(path, data, reason)

    if nullable:
        _PASS_THROUGH[decode_tagged] = (None, True)
    return decode_tagged


def _literal_decoder(allowed: tuple[Any, ...]) -> _Decoder:
    reason = f"must be one of {allowed}"

    def decode_literal(data: Any, path: str) -> Any:
        if data not in allowed:
            raise ValidationError(path, data, reason)
        return data

    return decode_literal


def _tuple_decoder(args: tuple[Any, ...]) -> _Decoder:
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


def _collection_decoder(args: tuple[Any, ...], make: type[frozenset[Any] | list[Any]]) -> _Decoder:
    if len(args) != 1:  # a bare typing.List / typing.FrozenSet: fails like unpacking its args

        def decode_unparameterised(data: Any, path: str) -> Any:
            _expect(data, list, path)
            (arg,) = args
            return _collection_decoder((arg,), make)(data, path)

        return decode_unparameterised
    item = _decoder(args[0])

    def decode_collection(data: Any, path: str) -> Any:
        if not isinstance(data, list):
            raise ValidationError(path, data, "must be a JSON list")
        return make([item(v, f"{path}[{i}]") for i, v in enumerate(data)])

    return decode_collection


def _mapping_decoder(args: tuple[Any, ...], plain_dict: bool) -> _Decoder:
    if len(args) != 2:  # a bare typing.Mapping: fails like unpacking its args

        def decode_unparameterised(data: Any, path: str) -> Any:
            _expect(data, dict, path)
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


#: Decoders that return some inputs unchanged: (values of exactly this class, None); the
#: attrs decoder passes such field values through without calling them.
#: (Weak keys: a type that cannot be cached is compiled at every call.)
_PASS_THROUGH: weakref.WeakKeyDictionary[_Decoder, tuple[type | None, bool]] = (
    weakref.WeakKeyDictionary()
)
_PASS_THROUGH[_decode_bool] = (bool, False)
_PASS_THROUGH[_decode_int] = (int, False)
_PASS_THROUGH[_decode_str] = (str, False)

_SCALAR_DECODERS: dict[type, _Decoder] = {
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


def _int_enum_decoder(tp: type[enum.IntEnum]) -> _Decoder:
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


def _enum_decoder(tp: type[enum.Enum]) -> _Decoder:
    def decode_enum(data: Any, path: str) -> Any:
        try:
            return tp(data)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in tp)
            raise ValidationError(path, data, f"must be one of {allowed}") from None

    return decode_enum


#: One field of an attrs class: name, ".name" (the path suffix), init alias, decoder,
#: required, and what its decoder returns unchanged: values of exactly that class, None.
_Field = tuple[str, str, str, _Decoder, bool, type | None, bool]


def _missing_hint(name: str) -> _Decoder:
    def decode_unannotated(data: Any, path: str) -> Any:
        raise KeyError(name)  # what looking the field up in the class's type hints raises

    return decode_unannotated


def _attrs_decoder(cls: type) -> _Decoder:
    """Decode a JSON object into ``cls`` (through its ``__init__``: validators run)."""
    built: list[list[_Field]] = []  # the field list, once built
    known: set[str] = set()

    def build() -> list[_Field]:
        hints = _hints(cls)
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
