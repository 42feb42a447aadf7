from datetime import UTC, datetime

import attrs
import pytest

from crmcore.customers import CustomerRegistered, PurchaseRecorded
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent, Outcome, event_from_json, event_kinds, event_type
from crmcore.kernel.money import Money

T = datetime(2024, 1, 1, tzinfo=UTC)


def test_events_round_trip_through_their_kind() -> None:
    event = PurchaseRecorded(
        aggregate_id="C1",
        occurred_at=T,
        order_id="O1",
        amount=Money("9.90", "EUR"),
        items=2,
        channel="web",
    )
    assert event.kind == "customer.purchase_recorded"
    payload = event.payload()
    assert payload["amount"] == {"amount": "9.90", "currency": "EUR"}
    assert event_from_json(event.kind, payload) == event
    assert event_kinds()["customer.registered"] is CustomerRegistered


def test_unknown_kinds_and_naive_times_are_rejected() -> None:
    with pytest.raises(ValidationError):
        event_from_json("no.such.kind", {})
    with pytest.raises(ValidationError):
        CustomerRegistered(aggregate_id="C1", occurred_at=datetime(2024, 1, 1))


def test_a_kind_cannot_be_registered_twice_by_another_class() -> None:
    with pytest.raises(ValidationError):

        @event_type("customer.registered")
        @attrs.frozen(kw_only=True)
        class Impostor(DomainEvent):
            pass


def test_outcome_then_chains_values_and_events_in_order() -> None:
    first = CustomerRegistered(aggregate_id="C1", occurred_at=T)
    second = CustomerRegistered(aggregate_id="C2", occurred_at=T)
    chained = Outcome(1, [first]).then(lambda v: Outcome(v + 1, (second,)))
    assert chained.value == 2
    assert chained.events == (first, second)


def test_outcome_events_must_be_domain_events_named_by_position() -> None:
    event = CustomerRegistered(aggregate_id="C1", occurred_at=T)
    assert Outcome(1, [event]).events == (event,)  # any collection, kept as a tuple
    assert Outcome.collect(iter([event]), 1).events == (event,)
    with pytest.raises(ValidationError) as caught:
        Outcome(1, None)  # type: ignore[arg-type]
    assert caught.value.field == "events"
    with pytest.raises(ValidationError) as caught:
        Outcome(1, (event, "C1"))  # type: ignore[arg-type]
    assert caught.value.field == "events[1]"
    with pytest.raises(ValidationError) as caught:
        Outcome.collect(True, 1)  # type: ignore[arg-type]
    assert caught.value.field == "events"


def test_outcome_then_refuses_a_step_that_returns_no_outcome() -> None:
    with pytest.raises(ValidationError, match="must return an Outcome") as caught:
        Outcome(1).then(lambda v: v + 1)  # type: ignore[arg-type,return-value]
    assert caught.value.field == "step"
