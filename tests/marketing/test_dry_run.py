"""The dry run: examples, reports, bad input, and its agreement with per-customer ``advance``."""

from __future__ import annotations

from datetime import date, time, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crmcore.columnar import CustomerFrame
from crmcore.customers import Customer
from crmcore.customers.profile import Demographics
from crmcore.kernel.errors import ValidationError
from crmcore.marketing.dry_run import OUTCOMES, dry_run
from crmcore.marketing.guardrails import FrequencyCap, Guardrails, QuietHours, SendLimit
from crmcore.marketing.steps import SendMessage, Wait
from crmcore.marketing.triggers import ChurnRiskTrigger, DateTrigger, SegmentTrigger
from crmcore.marketing.workflows import Workflow, WorkflowCatalog

from .automation_helpers import T0, per_customer, plan_rows, plan_runs
from .automation_strategies import STARTS, catalogs, frames, guardrails

DAY = timedelta(days=1)


def people(n: int = 6) -> CustomerFrame:
    out = []
    for i in range(n):
        c = Customer.register(
            f"c-{i}",
            "Ann Lee",
            T0 - 400 * DAY,
            demographics=Demographics(birth_date=date(1990, 5, 5 + i)),
            attributes={"time_zone": "Asia/Shanghai" if i % 2 else "Europe/Berlin"},
        ).value
        if i % 3:
            c = c.grant_consent("email", T0 - DAY).value
        out.append(c)
    return CustomerFrame.from_customers(out)


WELCOME = Workflow(
    id="welcome",
    version=1,
    name="Welcome",
    trigger=SegmentTrigger("new"),
    steps=[
        SendMessage("hello", channel="email", template="hello"),
        Wait("pause", DAY),
        SendMessage("again", channel="email", template="again"),
    ],
)
BIRTHDAY = Workflow(
    id="birthday",
    version=1,
    name="Birthday",
    trigger=DateTrigger("birth_date", at=time(9)),
    steps=[SendMessage("card", channel="email", template="card")],
)
WINBACK = Workflow(
    id="win-back",
    version=1,
    name="Win back",
    trigger=ChurnRiskTrigger(0.7),
    steps=[SendMessage("offer", channel="email", template="offer")],
)


def test_who_would_get_what_in_the_next_seven_days() -> None:
    frame = people()
    catalog = WorkflowCatalog([WELCOME, BIRTHDAY, WINBACK])
    plan = dry_run(
        catalog,
        frame,
        T0,
        guardrails=Guardrails(quiet_hours=QuietHours(time(21), time(8))),
        triggered={"welcome": np.array([True, True, False, False, False, False])},
        churn_risk=np.array([0.1, 0.9, 0.8, 0.2, 0.75, 0.0]),
    )
    counts = plan.counts()
    assert counts["birthday"]["enrolled"] == 6  # 5 to 10 May, all within the week
    assert counts["birthday"]["steps"]["card"]["sent"] == 4  # two have no e-mail consent
    assert counts["win-back"]["enrolled"] == 3
    assert plan.who("win-back", "offer") == ["c-1", "c-2", "c-4"]
    assert plan.who("win-back", outcome="no_consent") == []
    assert counts["welcome"]["steps"]["again"]["reached"] == 2
    assert plan.who("welcome", "hello", "no_consent") == ["c-0"]
    # Birthday cards go at 09:00 local time: 01:00 UTC in Shanghai, 07:00 UTC in Berlin (CEST).
    hours = {int(at) // 3_600_000_000 % 24 for at in plan.rows["at"][plan.rows["workflow"] == 0]}
    assert hours == {1, 7}


def test_caps_and_limits_in_the_dry_run() -> None:
    frame = people()
    catalog = WorkflowCatalog([WELCOME, BIRTHDAY])
    rails = Guardrails(
        caps=[FrequencyCap(1, DAY, "email")], send_limits=[SendLimit(1, timedelta(days=7))]
    )
    plan = dry_run(
        catalog, frame, T0, guardrails=rails, triggered={"welcome": np.ones(6, dtype=bool)}
    )
    capped = (
        plan.counts()["welcome"]["steps"]["again"]["frequency_cap"]
        + plan.counts()["birthday"]["steps"]["card"]["frequency_cap"]
    )
    assert capped > 0
    (windows,) = plan.limit_overruns.values()
    assert windows and all(n > 1 for _start, n in windows)


def test_reports_serialise_and_render() -> None:
    plan = dry_run(WorkflowCatalog([BIRTHDAY]), people(), T0)
    data = plan.to_dict()
    assert data["workflows"]["birthday"]["enrolled"] == 6  # type: ignore[index]
    table = plan.to_pandas()
    assert list(table.columns) == ["customer_id", "workflow", "step", "at", "outcome", "until"]
    assert set(table["outcome"]) == {"sent", "no_consent"}
    assert "birthday" in plan._repr_html_()
    assert set(OUTCOMES) >= set(table["outcome"])


def test_bad_input_is_refused() -> None:
    frame = people()
    catalog = WorkflowCatalog([WELCOME])
    with pytest.raises(ValidationError, match="horizon"):
        dry_run(catalog, frame, T0, timedelta(days=-1))
    with pytest.raises(ValidationError, match=r"triggered\.nope"):
        dry_run(catalog, frame, T0, triggered={"nope": np.ones(6, dtype=bool)})
    with pytest.raises(ValidationError, match=r"triggered\.welcome"):
        dry_run(catalog, frame, T0, triggered={"welcome": np.ones(5, dtype=bool)})
    with pytest.raises(ValidationError, match="churn_risk"):
        dry_run(catalog, frame, T0, churn_risk=np.zeros(3))
    with pytest.raises(ValidationError, match="outcome"):
        dry_run(catalog, frame, T0).who("welcome", outcome="opened")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_dry_run_agrees_with_advance_per_customer(data: st.DataObject) -> None:
    start = data.draw(st.sampled_from(STARTS))
    frame = data.draw(frames(start))
    catalog = WorkflowCatalog(data.draw(catalogs()))
    rails = data.draw(guardrails)
    horizon = data.draw(st.sampled_from([timedelta(hours=10), 3 * DAY, 9 * DAY]))
    n = len(frame)
    often = st.sampled_from([True, True, False])
    triggered = {
        w.id: np.array(data.draw(st.lists(often, min_size=n, max_size=n)), dtype=bool)
        for w in catalog
        if data.draw(often)
    }
    risk = data.draw(st.lists(st.sampled_from([0.0, 0.5, 0.95]), min_size=n, max_size=n))
    staff = {"staff": [str(i) for i in frame.ids[: data.draw(st.integers(0, 1))]]}
    plan = dry_run(
        catalog,
        frame,
        start,
        horizon,
        guardrails=rails,
        triggered=triggered,
        churn_risk=np.array(risk),
        suppression_lists=staff,
    )
    rows, runs = per_customer(
        catalog,
        frame,
        start,
        horizon,
        rails,
        triggered=triggered,
        churn_risk=risk,
        suppression_lists=staff,
    )
    assert plan_runs(plan) == runs
    assert plan_rows(plan) == rows
    for outcome in sorted({r[4] for r in rows}):
        event(f"rows: {outcome}")
    if any(r[4] == "deferred" for r in rows) and any(r[4] == "sent" for r in rows):
        event("held and sent")
    event(f"runs: {min(len(runs), 10)}")
