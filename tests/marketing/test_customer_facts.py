"""Customer facts: from customers and records, consent at an instant, the zone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crmcore.customers import Customer
from crmcore.customers.records import ConsentRecord, ConsentStatus
from crmcore.kernel.errors import ValidationError
from crmcore.marketing.customer_facts import CustomerFacts, customer_of
from crmcore.segments.events import SegmentEntered

from .automation_helpers import T0, churn_warning

H = timedelta(hours=1)


def test_facts_of_a_customer_judge_consent_at_each_instant() -> None:
    ann = Customer.register("c-1", "Ann Lee", T0, attributes={"time_zone": "Europe/Paris"}).value
    ann = ann.grant_consent("email", T0 + H).value.withdraw_consent("email", T0 + 3 * H).value
    facts = CustomerFacts.from_customer(ann, T0 + 4 * H)
    assert facts.time_zone == "Europe/Paris" and not facts.erased
    assert [facts.consent("email", T0 + k * H) for k in (0, 2, 4)] == [
        ConsentStatus.UNKNOWN,
        ConsentStatus.GRANTED,
        ConsentStatus.WITHDRAWN,
    ]
    assert facts.record["id"] == "c-1"


@pytest.mark.parametrize("first", [True, False])
def test_a_withdrawal_wins_over_a_grant_at_the_same_instant(first: bool) -> None:
    at = T0 + H
    decisions = [ConsentRecord("email", first, at), ConsentRecord("email", not first, at)]
    facts = CustomerFacts("c-1", {"id": "c-1"}, at, consents=decisions)
    assert facts.consent("email", at) is ConsentStatus.WITHDRAWN
    later = [*decisions, ConsentRecord("email", True, at + H)]
    facts = CustomerFacts("c-1", {"id": "c-1"}, at + H, consents=later)
    assert facts.consent("email", at + H) is ConsentStatus.GRANTED  # a later grant still counts


def test_facts_of_a_record_use_its_flags_and_default_zone() -> None:
    facts = CustomerFacts.from_record(
        {"id": "c-1", "consent_sms": True, "erased": True}, T0, default_zone="Asia/Seoul"
    )
    assert facts.time_zone == "Asia/Seoul" and facts.erased
    assert facts.consent("sms", T0) is ConsentStatus.GRANTED
    assert facts.consent("email", T0) is ConsentStatus.UNKNOWN


def test_bad_facts_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"record\.id"):
        CustomerFacts("c-1", {"id": "c-2"}, T0)
    with pytest.raises(ValidationError, match="default_zone"):
        CustomerFacts.from_record({"id": "c-1"}, T0, default_zone="Moon/Base")
    with pytest.raises(ValidationError, match="customer"):
        CustomerFacts.from_customer({"id": "c-1"}, T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"consent\.channel"):
        CustomerFacts.from_record({"id": "c-1"}, T0).consent("fax", T0)


def test_the_customer_of_an_event() -> None:
    assert customer_of(churn_warning("c-7", T0, 0.5)) == "c-7"
    entered = SegmentEntered(aggregate_id="c-8", occurred_at=T0, segment="s", as_of=T0)
    assert customer_of(entered) == "c-8"
