"""Converting a qualified lead: one outcome with the lead, the customer and the opportunity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmcore.customers.contact import Contact
from crmcore.customers.events import CustomerRegistered
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.sales import lead_events as ev
from crmcore.sales.lead_conversion import convert_lead
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.leads import Lead

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
H = timedelta(hours=1)


def qualified(**kwargs: object) -> Lead:
    values: dict[str, object] = {
        "source": "referral",
        "name": "Ann Lee",
        "contact": Contact(email="ann@example.com", phone="+4915112345678"),
        "country": "DE",
        "owner": "rep-7",
        "tags": ["webinar"],
        "attributes": {"employees": 120},
    }
    values.update(kwargs)
    return Lead.create("l-1", T0, **values).value.qualify(T0 + H).value  # type: ignore[arg-type]


def test_a_new_customer_is_built_from_the_lead() -> None:
    outcome = convert_lead(qualified(), T0 + 2 * H, opportunity_id="o-1", new_customer_id="c-9")
    done = outcome.value
    assert done.new_customer and done.customer is not None
    customer = done.customer
    assert (customer.id, customer.name, customer.contact.phone, customer.geography.country) == (
        "c-9",
        "Ann Lee",
        "+4915112345678",
        "DE",
    )
    assert customer.tags == {"webinar"} and customer.attributes["employees"] == 120
    assert customer.created_at == T0 + 2 * H == done.converted_at
    assert (done.lead_id, done.source, done.owner, done.opportunity_id) == (
        "l-1",
        "referral",
        "rep-7",
        "o-1",
    )
    assert [type(e) for e in outcome.events] == [
        ev.LeadStatusChanged,
        ev.LeadConverted,
        CustomerRegistered,
    ]
    converted = outcome.events[1]
    assert converted.new_customer and converted.customer_id == "c-9"  # type: ignore[attr-defined]


def test_linking_an_existing_customer_creates_none() -> None:
    outcome = convert_lead(qualified(), T0 + 2 * H, opportunity_id="o-1", customer_id="c-3")
    assert outcome.value.customer is None and outcome.value.customer_id == "c-3"
    assert not outcome.events[1].new_customer  # type: ignore[attr-defined]
    own = convert_lead(qualified(customer_id="c-5"), T0 + 2 * H, opportunity_id="o-1")
    assert own.value.customer_id == "c-5" and own.value.lead.status is LeadStatus.CONVERTED


def test_an_unqualified_lead_is_refused_before_anything_else() -> None:
    lead = Lead.create("l-1", T0, source="web").value
    with pytest.raises(IllegalTransitionError) as error:
        convert_lead(lead, T0, opportunity_id="o-1")  # no customer given either
    assert error.value.from_state is LeadStatus.NEW
    assert str(error.value).startswith("cannot go from new on 'convert'")


@pytest.mark.parametrize(
    ("lead_kwargs", "kwargs", "field"),
    [
        ({}, {}, "customer_id"),
        ({}, {"customer_id": "c-1", "new_customer_id": "c-2"}, "customer_id"),
        ({"customer_id": "c-5"}, {"new_customer_id": "c-2"}, "new_customer_id"),
        ({"customer_id": "c-5"}, {"customer_id": "c-6"}, "customer_id"),
        ({"name": None}, {"new_customer_id": "c-2"}, "name"),
        ({}, {"new_customer_id": "c-2", "opportunity_id": "o 1"}, "opportunity_id"),
    ],
)
def test_bad_requests_name_the_field(
    lead_kwargs: dict[str, object], kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"opportunity_id": "o-1"}
    arguments.update(kwargs)
    with pytest.raises(ValidationError) as error:
        convert_lead(qualified(**lead_kwargs), T0 + 2 * H, **arguments)  # type: ignore[arg-type]
    assert error.value.field == field


def test_a_name_given_at_conversion_is_used() -> None:
    outcome = convert_lead(
        qualified(name=None), T0 + 2 * H, opportunity_id="o-1", new_customer_id="c-2", name="Bo"
    )
    assert outcome.value.customer is not None and outcome.value.customer.name == "Bo"
