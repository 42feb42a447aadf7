from datetime import timedelta

import pytest

from crmcore import Customer, Money, Stage, ValidationError
from crmcore.testing.factories import (
    T0,
    make_customer,
    make_interaction,
    make_purchase,
    make_service_record,
)


def test_factories_make_distinct_valid_objects_with_overrides() -> None:
    a, b = make_customer(), make_customer(name="Bo", email=None, tags=["vip"])
    assert isinstance(a, Customer) and a.version == 0
    assert a.id != b.id
    assert a.contact.email is not None and b.contact.email is None
    assert b.tags == {"vip"} and b.name == "Bo"
    purchase = make_purchase(a.id, amount="9.99", days=2)
    assert purchase.amount == Money("9.99", "EUR")
    assert purchase.at == T0 + timedelta(days=2)
    assert make_interaction(a.id, stage="intent").stage is Stage.INTENT
    assert make_service_record(a.id, kind="repair").kind == "repair"
    assert a.record_purchase(purchase).value.purchases.count == 1


def test_factories_still_validate() -> None:
    with pytest.raises(ValidationError):
        make_customer(country="Atlantis")
    with pytest.raises(ValidationError):
        make_purchase("C1", amount="-1")
