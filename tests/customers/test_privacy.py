import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.customers import (
    Customer,
    Interaction,
    Purchase,
    ServiceRecord,
    erase_records,
    export_customer,
    import_customer_export,
)
from crmcore.kernel.codec import decode, encode
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.money import Money
from crmcore.testing.strategies import customers, interactions, purchases, service_records

T = datetime(2024, 5, 1, tzinfo=UTC)


@given(data=st.data(), customer=customers())
def test_export_then_import_rebuilds_everything(data: st.DataObject, customer: Customer) -> None:
    ps = data.draw(st.lists(purchases(customer.id), max_size=3))
    its = data.draw(st.lists(interactions(customer.id), max_size=3))
    srs = data.draw(st.lists(service_records(customer.id), max_size=2))
    document = export_customer(customer, ps, its, srs)
    text = json.dumps(document)  # really JSON
    rebuilt = import_customer_export(json.loads(text))
    assert rebuilt.customer == customer
    assert sorted(rebuilt.purchases, key=repr) == sorted(ps, key=repr)
    assert sorted(rebuilt.interactions, key=repr) == sorted(its, key=repr)
    assert sorted(rebuilt.service_records, key=repr) == sorted(srs, key=repr)


@given(customers())
def test_customer_codec_round_trip(customer: Customer) -> None:
    assert decode(Customer, json.loads(json.dumps(encode(customer)))) == customer


def test_export_is_ordered_by_time_and_refuses_foreign_records() -> None:
    c = Customer.register("c-1", "Ann", T).value
    late = Purchase("o2", "c-1", T + timedelta(days=2), Money("2", "EUR"))
    early = Purchase("o1", "c-1", T, Money("1", "EUR"))
    document = export_customer(c, [late, early])
    assert [p["order_id"] for p in document["purchases"]] == ["o1", "o2"]  # type: ignore[index,union-attr]
    with pytest.raises(ValidationError):
        export_customer(c, [Purchase("o3", "c-2", T, Money("1", "EUR"))])
    with pytest.raises(ValidationError):
        import_customer_export({"format": "something else"})


def test_erase_records_strips_free_text_only() -> None:
    note = Interaction("i1", "c-1", T, "chat", "question", note="call me at +44...")
    ticket = ServiceRecord("s1", "c-1", T, "repair", "phone", "lives at 1 Main St")
    (clean_note,), (clean_ticket,) = erase_records([note], [ticket])
    assert clean_note.note is None and clean_note.kind == "question"
    assert clean_ticket.summary == "" and clean_ticket.kind == "repair"


def test_erasure_drops_the_free_text_evidence_of_consent_decisions() -> None:
    customer = Customer.register("C-7", "Ann Lee", T).value
    customer = customer.grant_consent("email", T, source="web form, ann@example.com").value
    erased = customer.erase(T + timedelta(days=1)).value
    assert [c.source for c in erased.consents] == [None, None]
    assert [c.granted for c in erased.consents] == [True, False]
    assert "ann@example.com" not in repr(erased)
