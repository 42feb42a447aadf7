"""Duplicate leads: found by normalised keys, transitively, and merged only on request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.sales import lead_events as ev
from crmcore.sales.activities import ActivityState
from crmcore.sales.duplicates import (
    choose_survivor,
    duplicate_keys,
    duplicates_of,
    find_duplicates,
    merge_leads,
)
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.leads import Lead

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
H = timedelta(hours=1)


def lead(lead_id: str, email: str | None = None, phone: str | None = None, **kw: object) -> Lead:
    contact = Contact(email=email, phone=phone)
    return Lead.create(lead_id, T0, source=kw.pop("source", "web"), contact=contact, **kw).value  # type: ignore[arg-type]


def test_keys_are_normalised_and_sharing_is_transitive() -> None:
    a = lead("l-1", email="Ann@Example.COM")
    b = lead("l-2", email="ann@example.com", phone="+44 20 7946 0958")
    c = lead("l-3", phone="+442079460958")
    d = lead("l-4", email="bo@example.com")
    assert duplicate_keys(a) == (("email", "ann@example.com"),)
    report = find_duplicates([d, c, b, a])
    (group,) = report.groups
    assert set(group.lead_ids) == {"l-1", "l-2", "l-3"} and len(report) == 1
    assert set(group.kinds) == {"email", "phone"}
    assert report.duplicate_leads == 2 and report.leads == 4
    assert report.to_dict()["groups"][0]["survivor"] == group.survivor  # type: ignore[index]
    assert "Duplicate leads" in report._repr_html_()
    assert list(report.to_pandas()["leads"]) == [3]


def test_known_customers_are_reported_even_for_a_single_lead() -> None:
    ann = Customer.register("c-1", "Ann", T0, contact=Contact(email="ann@example.com")).value
    single = lead("l-1", email="ann@example.com")
    (group,) = find_duplicates([single], customers=[ann]).groups
    assert group.lead_ids == ("l-1",) and group.customer_ids == ("c-1",)
    linked = lead("l-2", email="ann@example.com", customer_id="c-1")
    assert find_duplicates([linked], customers=[ann]).groups == ()


def test_intake_check_and_exclusions() -> None:
    a = lead("l-1", email="ann@example.com")
    b = lead("l-2", email="ann@example.com")
    merged = merge_leads(a, b, T0 + H, survivor="l-1").value
    assert duplicates_of(Contact(email="ANN@example.com"), [merged.survivor, merged.absorbed]) == (
        merged.survivor,
    )
    assert find_duplicates([merged.survivor, merged.absorbed]).groups == ()
    assert duplicates_of(a, [a]) == ()


def test_the_survivor_policy() -> None:
    young = lead("l-1", email="x@example.com")
    qualified = lead("l-2", email="x@example.com").qualify(T0).value
    assert choose_survivor(young, qualified) is qualified
    known = lead("l-3", email="x@example.com", customer_id="c-1")
    assert choose_survivor(qualified, known) is known
    converted = known.qualify(T0).value.mark_converted(T0, customer_id="c-1", opportunity_id="o")
    assert choose_survivor(known, converted.value) is converted.value


def test_merge_keeps_both_histories_and_says_who_survived() -> None:
    a = lead("l-1", email="ann@example.com", owner="rep-1", tags=["a"], attributes={"x": 1})
    a = a.log_activity("call-1", "call", T0 + H, "connected").value
    b = lead(
        "l-2",
        email="ann@example.com",
        phone="+4915112345678",
        name="Ann",
        country="DE",
        tags=["b"],
        attributes={"x": 2, "y": 3},
        notes="from the fair",
    )
    b = b.schedule("call-1", "call", T0, due_at=T0 + 2 * H).value.work(T0 + H).value
    outcome = merge_leads(b, a, T0 + 3 * H, survivor="l-1")
    merge = outcome.value
    keep, gone = merge.survivor, merge.absorbed
    assert merge.survivor_id == "l-1"
    assert keep.contact.phone == "+4915112345678" and keep.name == "Ann" and keep.country == "DE"
    assert keep.tags == {"a", "b"} and dict(keep.attributes) == {"x": 1, "y": 3}
    assert [a.id for a in keep.activities] == ["call-1", "l-2/call-1"]
    assert keep.activity("l-2/call-1").is_open  # it lives on in the survivor
    (record,) = keep.merged
    assert record.id == "l-2" and record.history == b.history and record.source == "web"
    assert gone.merged_into == "l-1" and gone.status is LeadStatus.DISQUALIFIED
    assert gone.disqualify_reason == "duplicate"
    assert gone.activity("call-1").state is ActivityState.CANCELLED
    assert gone.history[: len(b.history)] == b.history
    kinds = [type(e) for e in outcome.events]
    assert kinds == [ev.LeadsMerged, ev.LeadStatusChanged, ev.LeadActivityCancelled]
    assert outcome.events[0].keys == ("email",)  # type: ignore[attr-defined]
    with pytest.raises(IllegalTransitionError, match="merged"):
        gone.reopen(T0 + 4 * H)


def test_merge_refusals() -> None:
    a = lead("l-1", email="a@example.com", customer_id="c-1")
    b = lead("l-2", email="a@example.com", customer_id="c-2")
    with pytest.raises(ValidationError) as error:
        merge_leads(a, b, T0)
    assert error.value.field == "customer_id"
    with pytest.raises(ValidationError):
        merge_leads(a, a, T0)
    with pytest.raises(ValidationError) as survivor:
        merge_leads(a, lead("l-3"), T0, survivor="l-9")
    assert survivor.value.field == "survivor"
    converted = a.qualify(T0).value.mark_converted(T0, customer_id="c-1", opportunity_id="o-1")
    with pytest.raises(IllegalTransitionError):
        merge_leads(converted.value, lead("l-4"), T0 + H, survivor="l-4")
    erased = lead("l-5").erase(T0).value
    with pytest.raises(ValidationError):
        merge_leads(erased, lead("l-6"), T0)


emails = st.sampled_from(["a@example.com", "b@example.com", "c@example.com", None])
phones = st.sampled_from(["+4915100000001", "+4915100000002", None])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(emails, phones), max_size=12))
def test_groups_are_the_connected_components_of_shared_keys(
    contacts: list[tuple[str | None, str | None]],
) -> None:
    leads = [lead(f"l-{i}", e, p) for i, (e, p) in enumerate(contacts)]
    groups = find_duplicates(leads).groups
    found = {frozenset(g.lead_ids) for g in groups}
    # reference: grow components by repeated joining of any two sets sharing a key
    components = [({x.id}, set(duplicate_keys(x))) for x in leads]
    joined = True
    while joined:
        joined = False
        for i in range(len(components)):
            for j in range(i + 1, len(components)):
                if components[i][1] & components[j][1]:
                    ids, keys = components.pop(j)
                    components[i][0].update(ids)
                    components[i][1].update(keys)
                    joined = True
                    break
            if joined:
                break
    expected = {frozenset(ids) for ids, _ in components if len(ids) > 1}
    assert found == expected
    assert all(g.survivor == min(g.lead_ids) for g in groups)
