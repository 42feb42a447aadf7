"""Benchmark: the compiled type-directed codec against the original recursive one.

``crmcore.codec`` compiles a decoder (and encoder) per type once; the original
implementation, copied below as the baseline (``_baseline_encode`` /
``_baseline_decode``), re-inspected the annotations for every value. Measured
in one process on the same values, as the median wall time over ``--repeat``
runs of ``--n`` calls each, for encode and decode of:

* a customer (contact, geography, demographics, tags, consents, custom
  attributes of several types);
* a loyalty account with 100 ledger entries (earns and redemptions);
* a feedback case taken through its whole loop (acknowledged, assigned,
  resolved, an unhappy follow-up that reopens it, resolved again, closed).

Both implementations' outputs are checked to be equal (the same JSON text, the
same decoded values) before timing.

Run from the repository root::

    .venv/bin/python benchmarks/bench_codec.py --quick   # 200 calls per run
    .venv/bin/python benchmarks/bench_codec.py           # 2,000 calls per run
"""

from __future__ import annotations

import argparse
import enum
import functools
import json
import platform
import sys
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
from _timing import measure

from crmcore.clock import parse_datetime
from crmcore.codec import JSON, decode, encode
from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.customers.profile import Demographics, Gender, Geography, Psychographics
from crmcore.customers.records import ConsentRecord, MarketingChannel, Purchase
from crmcore.errors import CrmError, ValidationError
from crmcore.feedback.cases import Case
from crmcore.frozen import FrozenDict
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.money import Money

T = TypeVar("T")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


# -- the baseline: the original implementation of crmcore.codec ------------------------------

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


def _baseline_encode(value: object, tp: Any = None) -> JSON:
    """The original ``crmcore.codec.encode``: a value as JSON-compatible data.

    ``tp`` is the declared type, when known; fields of attrs classes are
    encoded by their annotations, so a union-typed value gets its type tag.
    """
    if tp is not None and _ref_is_scalar_union(tp) and value is not None:
        return {"$type": _ref_tag_of(value), "value": _baseline_encode(value)}
    if isinstance(value, enum.IntEnum):
        return value.name.lower()  # ordered enums travel by name: renumbering stays safe
    if isinstance(value, enum.Enum):
        return _baseline_encode(value.value)
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
            f.name: _baseline_encode(getattr(value, f.name), hints.get(f.name))
            for f in attrs.fields(cls)
        }
    args = get_args(_ref_strip_optional(tp)) if tp is not None else ()
    if isinstance(value, Mapping):
        value_tp = args[1] if len(args) == 2 else None
        return {_ref_key(k): _baseline_encode(v, value_tp) for k, v in value.items()}
    item_tp = args[0] if args else None
    if isinstance(value, frozenset | set):
        return sorted((_baseline_encode(v, item_tp) for v in value), key=repr)
    if isinstance(value, tuple | list):
        return [_baseline_encode(v, item_tp) for v in value]
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


def _baseline_decode(tp: Any, data: JSON, path: str = "$") -> Any:
    """The original ``crmcore.codec.decode``: a value of type ``tp`` from encoded data.

    Raises :class:`~crmcore.errors.ValidationError` naming the JSON path of
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
        return Decimal(data)
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


# -- data ------------------------------------------------------------------------------------


def make_customer() -> Customer:
    """A customer with most optional parts filled in."""
    return Customer(
        id="CUST000001",
        name="Ada Lovelace",
        created_at=T0,
        contact=Contact(email="ada@example.com", phone="+4915112345678"),
        demographics=Demographics(birth_date=date(1990, 12, 10), gender=Gender.FEMALE),
        geography=Geography(country="DE", region="Berlin", city="Berlin"),
        psychographics=Psychographics(interests=frozenset({"maths", "poetry"})),
        tags=frozenset({"vip", "newsletter", "beta"}),
        attributes={
            "since": date(2020, 1, 2),
            "score": Decimal("12.50"),
            "visits": 42,
            "ratio": 0.25,
            "vip": True,
            "note": "2024-01-01",
            "last_seen": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        },
        consents=[
            ConsentRecord(MarketingChannel.EMAIL, True, T0, "signup"),
            ConsentRecord(MarketingChannel.SMS, False, T0 + timedelta(days=3), None),
        ],
    )


def make_account(entries: int = 100) -> LoyaltyAccount:
    """An account with ``entries`` postings: two earns for each redemption of 5 points."""
    program = LoyaltyProgram(
        id="P",
        currency="EUR",
        point_value=Money("0.01", "EUR"),
        expiry=ExpiryPolicy.months_after(12),
    )
    account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
    for i in range(entries):
        at = T0 + timedelta(hours=i)
        if i % 3 == 2:
            account = account.redeem(program, 5, at=at, key=f"r-{i}").value
        else:
            purchase = Purchase(f"o-{i}", "c-1", at, Money(f"{10 + i}.25", "EUR"))
            account = account.earn(program, purchase, key=f"e-{i}").value
    return account


def make_case() -> Case:
    """A case through its whole loop; the unhappy follow-up reopens it."""
    hour = timedelta(hours=1)
    case = Case.open("case-1", "c-1", T0, priority="high", feedback_id="fb-1").value
    case = case.acknowledge(T0 + hour, note="on it").value
    case = case.assign(T0 + 2 * hour, assignee="a1", team="care").value
    case = case.start(T0 + 3 * hour).value
    case = case.resolve(T0 + 4 * hour, root_cause="Billing Error", action_taken="refunded").value
    case = case.follow_up(T0 + 5 * hour, verdict="not_resolved", satisfaction=1).value
    case = case.resolve(T0 + 8 * hour, root_cause="Billing Error", action_taken="credited").value
    case = case.follow_up(T0 + 9 * hour, verdict="resolved", satisfaction=5).value
    return case.close(T0 + 10 * hour).value


# -- timing ----------------------------------------------------------------------------------


def _loop(fn: Callable[[], object], n: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            fn()

    return run


def run(n: int, repeat: int) -> None:
    """Check that both codecs agree, then time encode and decode of each value."""
    print(f"crmcore codec benchmark: {n:,} calls per run, median of {repeat}")
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    values: dict[str, tuple[type, object]] = {
        "customer": (Customer, make_customer()),
        "loyalty account (100 entries)": (LoyaltyAccount, make_account(100)),
        "case (whole loop)": (Case, make_case()),
    }
    print(f"  {'value / operation':<40} {'baseline':>12} {'compiled':>12} {'new/old':>8}")
    for label, (tp, value) in values.items():
        data = encode(value)
        text = json.dumps(data)
        assert text == json.dumps(_baseline_encode(value)), f"{label}: encodings differ"
        assert decode(tp, json.loads(text)) == value, f"{label}: no round trip"
        assert _baseline_decode(tp, json.loads(text)) == value, f"{label}: baseline differs"
        cases: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "encode": (
                functools.partial(_baseline_encode, value),
                functools.partial(encode, value),
            ),
            "decode": (
                functools.partial(_baseline_decode, tp, data),
                functools.partial(decode, tp, data),
            ),
        }
        for operation, (old, new) in cases.items():
            new()  # compile before the clock starts
            old_s, _ = measure(_loop(old, n), repeat)
            new_s, _ = measure(_loop(new, n), repeat)
            print(
                f"  {label + ' ' + operation:<40} {old_s / n * 1e6:>9.1f} us "
                f"{new_s / n * 1e6:>9.1f} us {new_s / old_s:>8.2f}"
            )
    print("outputs agree: the same JSON text and the same decoded values")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2_000, help="calls per timed run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="10x fewer calls")
    args = parser.parse_args(argv)
    if args.quick:
        args.n = max(1, args.n // 10)
    if min(args.n, args.repeat) < 1:
        sys.exit("all sizes must be positive")
    run(args.n, args.repeat)


if __name__ == "__main__":
    main()
