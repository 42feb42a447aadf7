"""Lead reports, vectorised, against the plain-Python reference; and the report objects."""

from __future__ import annotations

import json
import math
import sys
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.customers.contact import Contact
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.sales import _lead_reference as ref
from crmcore.sales.lead_columns import LeadColumns
from crmcore.sales.lead_conversion import convert_lead
from crmcore.sales.lead_conversion_report import conversion_by_source
from crmcore.sales.lead_reports import overdue_follow_ups, time_to_first_touch
from crmcore.sales.leads import Lead

from .lead_strategies import T0, lead_lists

H = timedelta(hours=1)
D = timedelta(days=1)
offsets = st.integers(0, 40 * 24).map(lambda h: T0 + timedelta(hours=h))


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=80, deadline=None)
@given(lead_lists(), offsets, st.sampled_from(["owner", "kind", "source"]), st.booleans())
def test_overdue_follow_ups_match_the_reference(leads, as_of, by, open_only) -> None:  # type: ignore[no-untyped-def]
    report = overdue_follow_ups(
        LeadColumns.from_leads(leads), as_of, by=by, open_leads_only=open_only, top=1000
    )
    expected, late = ref.overdue(leads, as_of, by, open_only)
    assert {r.label for r in report.rows} == set(expected)
    for row in report.rows:
        n_open, n_over, n_leads, oldest, median = expected[row.label]
        assert (row.open, row.overdue, row.overdue_leads) == (n_open, n_over, n_leads)
        assert close(row.oldest_days, oldest) and close(row.median_days, median)
    assert report.total.overdue == len(late) == len(report.items)
    assert [(i.lead_id, i.activity_id) for i in report.items] == late
    json.dumps(report.to_dict())


@settings(max_examples=80, deadline=None)
@given(lead_lists(), offsets, st.sampled_from(["source", "channel", "owner"]))
def test_time_to_first_touch_matches_the_reference(leads, as_of, by) -> None:  # type: ignore[no-untyped-def]
    targets = (H, 24 * H)
    report = time_to_first_touch(LeadColumns.from_leads(leads), as_of, by=by, targets=targets)
    expected = ref.first_touch(leads, as_of, by, targets)
    assert {r.label for r in report.rows} == set(expected)
    for row in report.rows:
        n, touched, median, p90, mean, within = expected[row.label]
        assert (row.leads, row.touched) == (n, touched)
        assert close(row.median_hours, median) and close(row.p90_hours, p90)
        assert close(row.mean_hours, mean)
        assert all(close(a, b) for a, b in zip(row.within, within, strict=True))
    assert report.total.leads == sum(r.leads for r in report.rows)
    json.dumps(report.to_dict())


@settings(max_examples=80, deadline=None)
@given(lead_lists(), offsets, st.sampled_from(["source", "channel", "owner"]), st.booleans())
def test_conversion_by_source_matches_the_reference(leads, as_of, by, window) -> None:  # type: ignore[no-untyped-def]
    start, end = (T0 + D, T0 + 3 * D) if window else (None, None)
    report = conversion_by_source(
        LeadColumns.from_leads(leads), as_of, by=by, created_from=start, created_to=end
    )
    expected, reasons = ref.conversion(leads, as_of, by, start, end)
    labels = {k for k in expected if not k.endswith(":median")}
    assert {r.label for r in report.rows} == labels
    for row in report.rows:
        counts = (row.leads, row.worked, row.qualified, row.converted, row.disqualified, row.open)
        assert counts == expected[row.label]
        assert close(row.median_days_to_convert, expected[f"{row.label}:median"][0])  # type: ignore[arg-type]
    assert dict(report.reasons) == reasons
    json.dumps(report.to_dict())


def sample() -> list[Lead]:
    a = Lead.create(
        "l-1",
        T0,
        source="referral",
        name="Ann",
        owner="rep-1",
        contact=Contact(email="a@example.com"),
    ).value
    a = a.log_activity("a-1", "email", T0 + 2 * H, "sent").value.qualify(T0 + D).value
    a = convert_lead(a, T0 + 3 * D, opportunity_id="o-1", new_customer_id="c-1").value.lead
    b = Lead.create("l-2", T0, source="referral", owner="rep-2").value
    b = b.schedule("a-2", "call", T0, due_at=T0 + H).value.disqualify(T0 + 2 * D, "spam").value
    c = Lead.create("l-3", T0 + D, source="web_form", owner="rep-2").value
    c = c.schedule("a-3", "call", T0 + D, due_at=T0 + D + H).value
    return [a, b, c]


def test_the_reports_on_a_small_example() -> None:
    cols = LeadColumns.from_leads(sample())
    as_of = T0 + 5 * D
    overdue = overdue_follow_ups(cols, as_of)
    assert [(r.label, r.open, r.overdue) for r in overdue.rows] == [("rep-2", 1, 1)]
    assert overdue.items[0].lead_id == "l-3" and overdue.items[0].days_overdue == pytest.approx(
        (as_of - (T0 + D + H)) / D
    )
    everything = overdue_follow_ups(cols, as_of, open_leads_only=False)
    assert everything.total.overdue == 2
    touch = time_to_first_touch(cols, as_of)
    referral = next(r for r in touch.rows if r.label == "referral")
    assert (referral.leads, referral.touched, referral.median_hours) == (2, 1, 2.0)
    assert referral.within == (0.0, 0.5)  # l-2 is decided (old enough), untouched
    conversion = conversion_by_source(cols, as_of)
    row = next(r for r in conversion.rows if r.label == "referral")
    assert (row.converted, row.conversion_rate, row.qualified_conversion_rate) == (1, 0.5, 1.0)
    assert conversion.total.leads == 3 and conversion.reasons == (("spam", 1),)
    for report in (overdue, touch, conversion):
        assert "<table" in report._repr_html_()
        assert len(report.to_pandas()) == len(report.rows)
        json.dumps(report.to_dict())


def test_bad_input() -> None:
    cols = LeadColumns.from_leads(sample())
    with pytest.raises(ValidationError) as error:
        overdue_follow_ups(cols, T0.replace(tzinfo=None))
    assert error.value.field == "as_of"
    with pytest.raises(ValidationError):
        overdue_follow_ups(cols, T0, by="team")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        time_to_first_touch(cols, T0, targets=(timedelta(0),))
    with pytest.raises(ValidationError):
        conversion_by_source(sample(), T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        LeadColumns.from_leads([sample()[0], sample()[0]])


def test_to_pandas_without_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    report = conversion_by_source(LeadColumns.from_leads(sample()), T0 + 5 * D)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError) as error:
        report.to_pandas()
    assert error.value.extra == "pandas"
