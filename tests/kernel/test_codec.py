"""The codec: round trips, JSON paths in errors, and the compiled codec against the original.

The original recursive implementation (which re-inspected the type for every
value) is kept below as ``reference_encode`` / ``reference_decode``; the
differential tests check that the compiled codec encodes byte for byte the same
JSON and decodes to the same values, or fails with the same exception, field
and reason, on the library's stored types and on mutated documents.
"""

from __future__ import annotations

import enum
import json
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar, Union

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers.customer import AttributeValue, Customer
from crmcore.customers.records import Purchase
from crmcore.feedback.cases import Case
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.vocabulary import CHANNELS, KINDS, Verdict
from crmcore.funnel.position import FunnelPosition
from crmcore.kernel.codec import JSON, decode, encode
from crmcore.kernel.codec._reference import reference_decode, reference_encode
from crmcore.kernel.errors import CrmError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.money import Money
from crmcore.kernel.stage import Stage
from crmcore.lifecycle import Evidence, Lifecycle, LifecycleState, Reason
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.testing.factories import make_customer
from crmcore.testing.strategies import attribute_values, aware_datetimes, customers

T = TypeVar("T")


class Colour(enum.StrEnum):
    RED = "red"


@attrs.frozen
class Inner:
    when: datetime
    price: Money


@attrs.frozen
class Outer:
    name: str
    inner: Inner
    colour: Colour
    stage: Stage
    tags: frozenset[str]
    items: tuple[int, ...]
    extras: FrozenDict[str, AttributeValue]
    day: date | None = None


def _outer() -> Outer:
    extras: dict[str, AttributeValue] = {
        "when": date(2024, 1, 2),
        "text": "2024-01-02",
        "d": Decimal("1.50"),
    }
    return Outer(
        name="x",
        inner=Inner(
            datetime(2024, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))), Money("1.10", "EUR")
        ),
        colour=Colour.RED,
        stage=Stage.INTENT,
        tags=frozenset({"b", "a"}),
        items=(1, 2),
        extras=FrozenDict(extras),
    )


def test_round_trip_keeps_types_apart() -> None:
    value = _outer()
    data = encode(value)
    assert isinstance(data, dict)
    assert data["stage"] == "intent"
    assert data["colour"] == "red" and type(data["colour"]) is str
    assert data["tags"] == ["a", "b"]
    extras = data["extras"]
    assert isinstance(extras, dict)
    assert extras["when"] == {"$type": "date", "value": "2024-01-02"}
    assert extras["text"] == {"$type": "str", "value": "2024-01-02"}
    assert decode(Outer, data) == value
    assert str(decode(Outer, data).extras["d"]) == "1.50"


def test_decode_errors_name_the_json_path() -> None:
    data = encode(_outer())
    assert isinstance(data, dict)
    data["inner"] = {"when": "2024-01-01T00:00:00", "price": {"amount": "1", "currency": "EUR"}}
    with pytest.raises(ValidationError) as info:
        decode(Outer, data)
    assert info.value.field == "$.inner.when"
    with pytest.raises(ValidationError) as info:
        decode(Outer, {**encode(_outer()), "surprise": 1})  # type: ignore[dict-item]
    assert "unknown fields" in info.value.reason
    with pytest.raises(ValidationError):
        decode(Outer, {**encode(_outer()), "stage": "nirvana"})  # type: ignore[dict-item]


def test_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(ValidationError):
        encode(float("nan"))
    with pytest.raises(ValidationError):
        encode(datetime(2024, 1, 1))
    with pytest.raises(ValidationError):
        encode(object())


@given(attribute_values())
def test_any_attribute_value_round_trips_with_its_type(value: AttributeValue) -> None:
    data = encode(FrozenDict({"v": value}), FrozenDict[str, AttributeValue])
    back = decode(FrozenDict[str, AttributeValue], data)
    assert type(back["v"]) is type(value)
    assert back["v"] == value


def test_frozen_dict_is_immutable_hashable_and_equal_by_content() -> None:
    d = FrozenDict({"a": 1})
    assert d == {"a": 1}
    assert hash(d) == hash(FrozenDict([("a", 1)]))
    assert d.set("b", 2) == {"a": 1, "b": 2}
    assert d == {"a": 1}
    assert d.delete("a") == {}
    with pytest.raises(TypeError):
        d["a"] = 2  # type: ignore[index]
    inner = encode(Inner(datetime(2024, 1, 1, tzinfo=UTC), Money("1", "EUR")))
    assert isinstance(inner, dict)
    assert inner["when"] == datetime(2024, 1, 1, tzinfo=UTC).isoformat()


def test_durations_travel_as_whole_microseconds() -> None:
    @attrs.frozen
    class Target:
        within: timedelta

    value = Target(timedelta(days=2, hours=3, microseconds=7))
    data = encode(value)
    assert data == {"within": (2 * 86_400 + 3 * 3_600) * 1_000_000 + 7}
    assert decode(Target, data) == value
    assert decode(Target, {"within": -5}) == Target(timedelta(microseconds=-5))
    with pytest.raises(ValidationError):
        decode(Target, {"within": True})
    with pytest.raises(ValidationError):
        decode(Target, {"within": "P1D"})


def test_sla_policies_round_trip() -> None:
    from crmcore.feedback import BusinessCalendar, SlaPolicy, SlaTarget

    office = BusinessCalendar.from_hours(
        {"mon-fri": "09:00-17:00"},
        timezone="Europe/Berlin",
        recurring_holidays=["FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"],
    )
    policy = SlaPolicy(
        name="care",
        calendar=office,
        targets=[SlaTarget("normal", first_response=timedelta(hours=8), resolution=None)],
    )
    assert decode(SlaPolicy, encode(policy)) == policy


# -- the compiled codec against the original ------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PROGRAM = LoyaltyProgram(
    id="P", currency="EUR", point_value=Money("0.01", "EUR"), expiry=ExpiryPolicy.months_after(12)
)
minutes = st.integers(0, 3 * 24 * 60)
notes = st.sampled_from(["", "called back", "Île-de-France", "广东"])


def _outcome(fn: Callable[[], object]) -> tuple[object, ...]:
    """What a call returns (type, repr, value) or raises (type, field, message)."""
    try:
        value = fn()
    except Exception as exc:
        return ("raised", type(exc), getattr(exc, "field", None), str(exc))
    return ("returned", type(value), repr(value), value)


def _assert_same_encoding(value: object, tp: Any = None) -> JSON:
    new, old = _outcome(lambda: encode(value, tp)), _outcome(lambda: reference_encode(value, tp))
    assert new == old
    if new[0] == "returned":  # byte-identical JSON: the same key order and tags
        assert json.dumps(new[3]) == json.dumps(old[3])
        return typing.cast(JSON, new[3])
    return None


def _assert_same_decoding(tp: Any, data: Any, path: str = "$") -> None:
    new = _outcome(lambda: decode(tp, data, path))
    old = _outcome(lambda: reference_decode(tp, data, path))
    assert new == old


def _check_round_trip(value: object, tp: type) -> JSON:
    """New == reference for encode (with and without the type) and decode; and a round trip."""
    _assert_same_encoding(value, tp)
    data = _assert_same_encoding(value)
    text = json.dumps(data)
    _assert_same_decoding(tp, json.loads(text))
    assert decode(tp, json.loads(text)) == value
    return data


@st.composite
def loyalty_accounts(draw: st.DrawFn) -> LoyaltyAccount:
    """An account after a random mix of earns, redemptions, adjustments, refunds, expiries."""
    account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
    ops = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["earn", "earn", "redeem", "adjust", "refund", "expire"]),
                st.integers(1, 20_000),
                minutes,
            ),
            max_size=25,
        )
    )
    at = T0
    for i, (op, n, gap) in enumerate(ops):
        at += timedelta(minutes=gap)
        key = f"k-{i}"
        try:
            if op == "earn":
                purchase = Purchase(f"o-{i}", "c-1", at, Money.of_minor(n, "EUR"))
                outcome = account.earn(PROGRAM, purchase, key=key)
            elif op == "redeem":
                outcome = account.redeem(PROGRAM, n % 500 + 1, at=at, key=key)
            elif op == "adjust":
                outcome = account.adjust(PROGRAM, n % 200 - 50, reason="goodwill", at=at, key=key)
            elif op == "refund":
                outcome = account.refund(PROGRAM, f"o-{n % (i + 1)}", at=at, key=key)
            else:
                outcome = account.expire(PROGRAM, at + timedelta(days=n % 800))
        except CrmError:
            continue
        account = outcome.value
    return account


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A case after a random sequence of moves (illegal ones skipped)."""
    case = Case.open(
        "case-1",
        "c-1",
        T0,
        priority=draw(st.sampled_from(["low", "normal", "high", "urgent"])),
        feedback_id=draw(st.none() | st.just("fb-1")),
    ).value
    at = T0
    for move, gap, note, n in draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        "acknowledge",
                        "start",
                        "wait_on_customer",
                        "customer_replied",
                        "resolve",
                        "assign",
                        "follow_up",
                        "close",
                        "reopen",
                    ]
                ),
                minutes,
                notes,
                st.integers(1, 5),
            ),
            max_size=12,
        )
    ):
        at += timedelta(minutes=gap)
        try:
            if move == "resolve":
                outcome = case.resolve(at, root_cause="Billing Error", action_taken="refunded")
            elif move == "assign":
                outcome = case.assign(at, assignee=f"a{n}", team=None if n == 1 else "care")
            elif move == "follow_up":
                verdict = Verdict.RESOLVED if n > 2 else Verdict.NOT_RESOLVED
                outcome = case.follow_up(at, verdict=verdict, satisfaction=n, note=note)
            else:
                outcome = getattr(case, move)(at, note=note)
        except CrmError:
            continue
        case = outcome.value
    return case


@st.composite
def feedbacks(draw: st.DrawFn) -> Feedback:
    """Feedback with any combination of the optional fields."""
    scores: dict[str, int] = {}
    if draw(st.booleans()):
        scores["nps"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        scores["csat"] = draw(st.integers(1, 5))
    return Feedback(
        id=draw(st.sampled_from(["fb-1", "fb-2"])),
        customer_id="c-1",
        channel=draw(st.sampled_from(CHANNELS)),
        kind=draw(st.sampled_from(KINDS)),
        at=draw(aware_datetimes()),
        text=draw(notes),
        scores=scores,
        stage=draw(st.none() | st.sampled_from(list(Stage))),
        themes=draw(st.lists(st.sampled_from(["refunds", "speed", "price"]), unique=True)),
    )


@st.composite
def lifecycles(draw: st.DrawFn) -> Lifecycle:
    """A lifecycle record moved to random states with random evidence (refused moves skipped)."""
    record = Lifecycle("c-1")
    at = T0
    for state, reasons, gap in draw(
        st.lists(
            st.tuples(
                st.sampled_from(list(LifecycleState)),
                st.frozensets(st.sampled_from(list(Reason)), min_size=1, max_size=4),
                minutes,
            ),
            max_size=10,
        )
    ):
        at += timedelta(minutes=gap + 1)
        try:
            record = record.move_to(state, at, Evidence(at, reasons, 0.25)).value
        except CrmError:
            continue
    return record


@st.composite
def funnel_positions(draw: st.DrawFn) -> FunnelPosition:
    """A funnel position after random advances and regresses (refused moves skipped)."""
    stages = list(Stage)
    position = FunnelPosition.start("c-1", draw(st.sampled_from(stages)), T0, source="I-1").value
    at = T0
    for advance, stage, gap in draw(
        st.lists(st.tuples(st.booleans(), st.sampled_from(stages), minutes), max_size=8)
    ):
        at += timedelta(minutes=gap)
        try:
            if advance:
                position = position.advance(stage, at, source="O-1").value
            else:
                position = position.regress(stage, at, "cold", source="case-1").value
        except CrmError:
            continue
    return position


#: Stored aggregates of the library with a strategy building realistic values.
STORED: dict[type, st.SearchStrategy[Any]] = {
    Customer: customers(),
    LoyaltyAccount: loyalty_accounts(),
    Case: cases(),
    Feedback: feedbacks(),
    Lifecycle: lifecycles(),
    FunnelPosition: funnel_positions(),
}
stored_values = st.sampled_from(sorted(STORED, key=lambda t: t.__name__)).flatmap(
    lambda tp: st.tuples(st.just(tp), STORED[tp])
)


@settings(max_examples=60, deadline=None)
@given(stored_values)
def test_compiled_codec_matches_the_original_on_stored_types(
    typed: tuple[type, object],
) -> None:
    tp, value = typed
    _check_round_trip(value, tp)


def test_compiled_codec_matches_the_original_on_a_long_ledger_and_a_factory_customer() -> None:
    account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
    for i in range(150):
        at = T0 + timedelta(hours=i)
        if i % 3 == 2:
            account = account.redeem(PROGRAM, 5, at=at, key=f"r-{i}").value
        else:
            purchase = Purchase(f"o-{i}", "c-1", at, Money(f"{10 + i}.25", "EUR"))
            account = account.earn(PROGRAM, purchase, key=f"e-{i}").value
    data = _check_round_trip(account, LoyaltyAccount)
    assert isinstance(data, dict) and len(data["entries"]) == 150  # type: ignore[arg-type]
    _check_round_trip(make_customer(attributes={"vip": True, "since": date(2020, 1, 2)}), Customer)


# Values a mutation puts in place of a node: wrong kinds, near-misses of the real formats.
_NASTY: list[JSON] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**70,
    "",
    "x",
    "1.5",
    "NaN",
    "abc",
    "2024-01-01",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:00+00:00",
    "low",
    "earn",
    "c-1",
    [],
    [1, 2],
    {},
    {"$type": "int", "value": 1},
    {"$type": "date", "value": "2024-13-01"},
    {"amount": "1", "currency": "EUR"},
    {"amount": "x", "currency": "EUR"},
]


def _nodes(doc: JSON, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _nodes(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _nodes(v, (*path, i))
    return found


def _mutate(doc: JSON, draw: st.DrawFn) -> JSON:
    """A copy of ``doc`` with one node replaced, removed, duplicated or given an extra key."""
    doc = json.loads(json.dumps(doc))
    path = draw(st.sampled_from(_nodes(doc)))
    how = draw(st.sampled_from(["replace", "replace", "replace", "remove", "grow"]))
    if not path:
        return draw(st.sampled_from(_NASTY)) if how == "replace" else doc
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "replace":
        parent[last] = draw(st.sampled_from(_NASTY) | st.integers() | st.text(max_size=8))
    elif how == "remove":
        del parent[last]
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(["surprise", "$type", "value"]))] = parent[last]
    else:
        parent.append(parent[last])
    return doc


@st.composite
def malformed(draw: st.DrawFn) -> tuple[type, JSON]:
    tp, value = draw(stored_values)
    doc = encode(value)
    for _ in range(draw(st.integers(1, 3))):
        doc = _mutate(doc, draw)
    return tp, doc


@settings(max_examples=150, deadline=None)
@given(malformed())
def test_compiled_decoder_fails_like_the_original_on_mutated_documents(
    typed: tuple[type, JSON],
) -> None:
    tp, doc = typed
    _assert_same_decoding(tp, doc)
    _assert_same_decoding(tp, doc, "doc")


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(malformed())
def test_compiled_decoder_fails_like_the_original_on_many_mutated_documents(
    typed: tuple[type, JSON],
) -> None:
    tp, doc = typed
    _assert_same_decoding(tp, doc)


def test_error_paths_inside_a_ledger() -> None:
    account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
    for i in range(5):
        purchase = Purchase(f"o-{i}", "c-1", T0 + timedelta(hours=i), Money("20", "EUR"))
        account = account.earn(PROGRAM, purchase, key=f"e-{i}").value
    data = encode(account)
    assert isinstance(data, dict) and isinstance(data["entries"], list)
    entry = data["entries"][3]
    assert isinstance(entry, dict)
    entry["at"] = "2024-01-01T00:00:00"  # naive
    with pytest.raises(ValidationError) as info:
        decode(LoyaltyAccount, data)
    assert info.value.field == "$.entries[3].at"
    _assert_same_decoding(LoyaltyAccount, data)


@attrs.frozen
class Node:
    """A recursive, forward-referenced class."""

    label: str
    children: tuple[Node, ...] = ()
    parent_label: Label | None = None


Label = typing.NewType("Label", str)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.frozen
class Odd:
    """Shapes that exercise the corners of the compiled decoder."""

    pair: tuple[int, str]
    empty: tuple[()]
    level: Level
    literal: typing.Literal["a", 1]
    values: typing.Mapping[str, float]
    plain: dict[str, int]
    listed: list[Decimal]
    within: timedelta | None
    anything: Any = None


@attrs.frozen(auto_attribs=False)
class Untyped:
    """A field without an annotation: decoding it fails like a missing type hint."""

    unannotated = attrs.field(default=0)  # type: ignore[var-annotated]


def test_recursive_and_odd_types_match_the_original() -> None:
    tree = Node("root", (Node("a", parent_label=Label("root")), Node("b", (Node("c"),))))
    _check_round_trip(tree, Node)
    bad = encode(tree)
    bad["children"][1]["children"][0]["label"] = 3  # type: ignore[index, call-overload]
    with pytest.raises(ValidationError) as info:
        decode(Node, bad)
    assert info.value.field == "$.children[1].children[0].label"
    _assert_same_decoding(Node, bad)
    odd = Odd(
        pair=(1, "x"),
        empty=(),
        level=Level.HIGH,
        literal=1,
        values=FrozenDict({"a": 1.5}),
        plain={"b": 2},
        listed=[Decimal("1.10")],
        within=timedelta(seconds=1),
        anything={"k": [1]},
    )
    data = _check_round_trip(odd, Odd)
    assert isinstance(data, dict)
    for field, wrong in [
        ("pair", [1]),
        ("pair", [1, 2]),
        ("empty", [1]),
        ("level", "medium"),
        ("level", 2),
        ("literal", "b"),
        ("literal", True),
        ("values", {"a": "1"}),
        ("plain", []),
        ("listed", ["abc"]),
        ("listed", [True]),
        ("within", True),
        ("surprise", 1),
    ]:
        _assert_same_decoding(Odd, {**data, field: wrong})
    assert _assert_same_encoding(Untyped()) == {"unannotated": 0}
    assert decode(Untyped, {}) == Untyped()
    _assert_same_decoding(Untyped, {"unannotated": 1})
    with pytest.raises(ValidationError, match="'unannotated'"):
        decode(Untyped, {"unannotated": 1})


@pytest.mark.parametrize(
    ("tp", "data"),
    [
        (Union[int, str], 1.5),  # noqa: UP007 - the typing spelling on purpose
        (Union[str, int], 1.5),  # noqa: UP007 - equal to the line above, listed the other way
        (int | str, {"$type": "int", "value": 1}),
        (int | str | None, None),
        (int | str, None),
        (Decimal | date, {"$type": "decimal", "value": "1.5"}),
        (Decimal | date, {"$type": "date", "value": "2024-02-30"}),
        (Decimal | date, {"$type": ["date"], "value": "2024-02-30"}),
        (typing.List, [1]),  # noqa: UP006 - bare: fails like unpacking its arguments
        (typing.FrozenSet, "x"),  # noqa: UP006
        (typing.Mapping, {}),
        (typing.List[int], [1, "2"]),  # noqa: UP006
        (list[int], [1, "2"]),
        (typing.Callable[[int], str], 1),
        ([int], [1]),  # unhashable: not a type
        (list[[int]], [1]),  # type: ignore[misc, valid-type]
        (list[[int]], []),  # type: ignore[misc, valid-type]
        ("Customer", {}),
        (Customer, []),
        (Customer, {"id": "c"}),
        (FrozenDict[str, AttributeValue], {"a": {"$type": "str", "value": 1}}),
        (Money, {"amount": "1"}),
        (float, True),
        (datetime, "2024-01-01T00:00:00+01:00"),
        (date, 20240101),
        (bool, 1),
        (type(None), None),
    ],
)
def test_corner_types_decode_like_the_original(tp: Any, data: Any) -> None:
    _assert_same_decoding(tp, data)
    _assert_same_decoding(tp, data, "root")


def test_equal_unions_listed_differently_keep_their_own_messages() -> None:
    with pytest.raises(ValidationError, match=r"\[<class 'int'>, <class 'str'>\]"):
        decode(Union[int, str], 1.5)  # noqa: UP007
    with pytest.raises(ValidationError, match=r"\[<class 'str'>, <class 'int'>\]"):
        decode(Union[str, int], 1.5)  # noqa: UP007


@pytest.mark.parametrize(
    ("value", "tp"),
    [
        (1, Union[int, str]),  # noqa: UP007
        (None, int | str | None),
        (Level.LOW, None),
        (Level.LOW, Level),
        (Colour.RED, None),
        ({"a": (1, frozenset({2, 1}))}, dict[str, tuple[int, frozenset[int]]]),
        ((1, "x", date(2024, 1, 1)), tuple[int | str | date, ...]),
        ([1.5, Decimal("2")], list[float | Decimal] | None),
        (FrozenDict({Colour.RED: 1}), None),
        ({1: 2}, None),
        (float("inf"), None),
        (datetime(2024, 1, 1), None),
        (object(), None),
        ([object()], list[int]),
        (b"x", None),
        (1, [int]),
        ((1,), typing.Callable[[int], str]),
        (timedelta(seconds=-1), timedelta),
    ],
)
def test_corner_values_encode_like_the_original(value: object, tp: Any) -> None:
    _assert_same_encoding(value, tp)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=5), attribute_values(), max_size=4))
def test_tagged_attribute_values_encode_and_decode_like_the_original(
    values: dict[str, AttributeValue],
) -> None:
    tp = FrozenDict[str, AttributeValue]
    data = _assert_same_encoding(FrozenDict(values), tp)
    _assert_same_decoding(tp, data)


def test_a_malformed_decimal_is_a_validation_error_naming_the_path() -> None:
    @attrs.frozen
    class Price:
        amount: Decimal

    with pytest.raises(ValidationError) as caught:
        decode(Price, {"amount": "12,50"})
    assert caught.value.field == "$.amount"
