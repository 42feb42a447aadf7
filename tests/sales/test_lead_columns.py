"""Leads as columns: records for scoring, and the arrays (statuses as of a date) the reports use."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.columnar import CustomerFrame
from crmcore.customers.contact import Contact
from crmcore.sales.lead_columns import NONE, STATUSES, LeadColumns, lead_frame, lead_record
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.leads import Lead

from .lead_strategies import T0, lead_lists


def test_a_lead_record_fits_a_customer_frame() -> None:
    lead = (
        Lead.create(
            "l-1",
            T0,
            source="referral",
            contact=Contact(email="a@example.com"),
            country="de",
            tags=["vip"],
            attributes={"employees": 40},
            owner="rep-1",
        )
        .value.log_activity("a-1", "call", T0 + timedelta(hours=1), "connected")
        .value
    )
    record = lead_record(lead)
    assert record["attr.source"] == "referral" and record["attr.owner"] == "rep-1"
    assert record["attr.employees"] == 40 and record["interaction_count"] == 1
    frame = lead_frame([lead, Lead.create("l-2", T0, source="web").value])
    assert isinstance(frame, CustomerFrame) and frame.ids.tolist() == ["l-1", "l-2"]
    assert frame.column("attr.status").to_list() == ["new", "new"]


@settings(max_examples=80, deadline=None)
@given(lead_lists(), st.lists(st.integers(-24 * 60, 30 * 24 * 60), min_size=1, max_size=5))
def test_statuses_at_agree_with_each_lead(leads: list[Lead], minutes: list[int]) -> None:
    cols = LeadColumns.from_leads(leads)
    assert len(cols) == len(leads)
    instants = [T0 + timedelta(minutes=m) for m in minutes]
    instants += [c.at for lead in leads for c in lead.history][:10]
    for when in instants:
        assert list(cols.statuses_at(when)) == [lead.state_at(when) for lead in leads]
        for status in (LeadStatus.QUALIFIED, LeadStatus.CONVERTED):
            reached = cols.reached_by(status, when)
            first = cols.first_entered(status, when)
            for i, lead in enumerate(leads):
                entered = lead.entered_at(status)
                hit = entered is not None and entered <= when
                assert bool(reached[i]) is hit
                assert bool(first[i] != NONE) is hit
    assert [STATUSES[c] for c in cols.status.tolist()] == [lead.status for lead in leads]
    assert len(cols.activity_ids) == sum(len(lead.activities) for lead in leads)
