import enum
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import given

from crmcore.codec import decode, encode
from crmcore.customers.customer import AttributeValue
from crmcore.errors import ValidationError
from crmcore.frozen import FrozenDict
from crmcore.funnel.stage import Stage
from crmcore.money import Money
from crmcore.testing.strategies import attribute_values


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
    return Outer(
        name="x",
        inner=Inner(
            datetime(2024, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))), Money("1.10", "EUR")
        ),
        colour=Colour.RED,
        stage=Stage.INTENT,
        tags=frozenset({"b", "a"}),
        items=(1, 2),
        extras=FrozenDict({"when": date(2024, 1, 2), "text": "2024-01-02", "d": Decimal("1.50")}),
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
    assert (
        datetime(2024, 1, 1, tzinfo=UTC).isoformat()
        in encode(  # type: ignore[operator]
            Inner(datetime(2024, 1, 1, tzinfo=UTC), Money("1", "EUR"))
        )["when"]
    )


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
