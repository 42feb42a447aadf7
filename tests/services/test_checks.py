"""The services refuse bad arguments where they enter, naming them, and write nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crmcore import Customer, LoyaltyProgram, MemoryStore, Money, ValidationError
from crmcore.services import (
    change_customer,
    import_customers,
    loyalty_liability,
    register_customer,
    set_consent,
)
from crmcore.services.retry import RetryPolicy

T = datetime(2026, 2, 1, tzinfo=UTC)
PROGRAM = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    register_customer(store, Customer.register("c-1", "Ann Lee", T))
    return store


def _pending(store: MemoryStore) -> list[str]:
    return [m.kind for m in store.outbox.pending()]


@pytest.mark.parametrize("given", [None, "memory", object(), MemoryStore])
def test_a_service_refuses_what_is_not_a_store(given: object) -> None:
    with pytest.raises(ValidationError, match="must be a Store") as raised:
        register_customer(given, Customer.register("c-1", "Ann Lee", T))  # type: ignore[arg-type]
    assert raised.value.field == "store"


def test_a_change_that_returns_no_outcome_is_refused_by_name_and_writes_nothing(
    store: MemoryStore,
) -> None:
    before = _pending(store)
    with pytest.raises(ValidationError, match="must return an Outcome of a Customer") as raised:
        change_customer(store, "c-1", lambda customer: customer, retry=None)  # type: ignore[arg-type,return-value]
    assert raised.value.field == "change"
    with pytest.raises(ValidationError, match="must be callable"):
        change_customer(store, "c-1", None, retry=None)  # type: ignore[arg-type]
    with store.unit_of_work() as uow:
        assert uow.customers.get("c-1").version == 1
    assert _pending(store) == before


def test_an_expected_version_must_be_a_whole_number(store: MemoryStore) -> None:
    with pytest.raises(ValidationError, match="expected_version"):
        change_customer(store, "c-1", lambda c: c.tag(["vip"], T), expected_version=1.0)  # type: ignore[arg-type]


def test_consent_takes_true_or_false_not_a_truthy_stand_in(store: MemoryStore) -> None:
    with pytest.raises(ValidationError, match="granted: must be True or False"):
        set_consent(store, "c-1", "email", 1, T)  # type: ignore[arg-type]


def test_an_import_refuses_what_is_not_a_collection_before_writing(store: MemoryStore) -> None:
    with pytest.raises(ValidationError, match="customers: must be a collection"):
        import_customers(store, None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="purchases: must be a collection"):
        import_customers(store, [Customer("c-8", "Di Eck", T)], purchases=True)  # type: ignore[arg-type]
    with store.unit_of_work() as uow:
        assert uow.customers.find("c-8") is None


@pytest.mark.parametrize("rate", [Decimal("NaN"), "", "abc", Decimal("1.5"), 0.5, True])
def test_the_expected_redemption_rate_is_a_decimal_from_0_to_1(
    store: MemoryStore, rate: object
) -> None:
    with pytest.raises(ValidationError, match="expected_redemption"):
        loyalty_liability(store, PROGRAM, T, expected_redemption=rate)  # type: ignore[arg-type]
    assert loyalty_liability(store, PROGRAM, T, expected_redemption="0.8").to_dict()


@pytest.mark.parametrize("attempt", [0, 1.5, True, None, "2"])
def test_a_retry_ceiling_takes_a_try_number_of_at_least_1(attempt: object) -> None:
    with pytest.raises(ValidationError, match="attempt"):
        RetryPolicy().ceiling(attempt)  # type: ignore[arg-type]
    assert RetryPolicy(base_delay=0.01, max_delay=1.0).ceiling(3) == pytest.approx(0.04)
