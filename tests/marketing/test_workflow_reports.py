"""Workflow reports from stored enrolments: per workflow and per step."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.marketing.customer_facts import CustomerFacts
from crmcore.marketing.engine import advance
from crmcore.marketing.guardrails import FrequencyCap, Guardrails, QuietHours
from crmcore.marketing.steps import Branch, SendMessage, Wait
from crmcore.marketing.triggers import SegmentTrigger
from crmcore.marketing.workflow_reports import workflow_report
from crmcore.marketing.workflows import Goal, Workflow, WorkflowCatalog
from crmcore.segments.events import SegmentEntered

from .automation_helpers import T0
from .test_engine import purchase

FLOW = Workflow(
    id="welcome",
    version=1,
    name="Welcome",
    trigger=SegmentTrigger("new"),
    steps=[
        SendMessage("hello", channel="email", template="hello"),
        Wait("pause", timedelta(days=2)),
        Branch("vip", 'has tag "vip"', then="gift", otherwise="end"),
        SendMessage("gift", channel="sms", template="gift"),
    ],
    goal=Goal(events={"customer.purchase_recorded"}),
)
IDLE = Workflow(
    id="idle",
    version=1,
    name="Idle",
    trigger=SegmentTrigger("idle"),
    steps=[SendMessage("ping", channel="email", template="ping")],
)


def test_counts_per_workflow_and_step() -> None:
    people = [
        CustomerFacts.from_record(
            {
                "id": f"c-{i}",
                "consent_email": i != 3,
                "consent_sms": i % 2 == 0,
                "tags": frozenset({"vip"}) if i < 4 else frozenset(),
                "attr.time_zone": "Asia/Tokyo" if i == 4 else "UTC",
            },
            T0,
        )
        for i in range(6)
    ]
    events = [
        SegmentEntered(aggregate_id=f"c-{i}", occurred_at=T0, segment="new", as_of=T0)
        for i in range(6)
    ]
    events.append(purchase("c-5", T0 + timedelta(days=1)))
    rails = Guardrails(
        quiet_hours=QuietHours(time(21), time(8)),
        caps=[FrequencyCap(1, timedelta(days=1), "email")],
        max_lateness=None,
    )
    catalog = WorkflowCatalog([FLOW, IDLE])
    result = advance(
        [], events, T0 + timedelta(days=5), workflows=catalog, customers=people, guardrails=rails
    )
    report = workflow_report(result.enrolments, catalog)
    welcome = report.workflow("welcome")
    assert (welcome.enrolled, welcome.completed, welcome.converted, welcome.open) == (6, 5, 1, 0)
    assert welcome.conversion_rate == pytest.approx(1 / 6)
    hello = welcome.step("hello")
    assert (hello.reached, hello.sent, dict(hello.suppressed)) == (6, 5, {"no_consent": 1})
    assert dict(hello.held) == {"quiet_hours": 4}  # 06:00 UTC is quiet; 15:00 in Tokyo is not
    assert welcome.step("pause").reached == 6
    assert dict(welcome.step("vip").outcomes) == {"no": 1, "yes": 4}
    gift = welcome.step("gift")
    assert (gift.reached, gift.sent, dict(gift.suppressed)) == (4, 2, {"no_consent": 2})
    assert report.workflow("idle").enrolled == 0 and report.workflow("idle").conversion_rate is None
    data = report.to_dict()
    assert data["workflows"][1]["steps"][0]["suppressed"] == {"no_consent": 1}  # type: ignore[index]
    table = report.to_pandas()
    assert set(table["workflow"]) == {"welcome", "idle"} and "suppressed_no_consent" in table
    assert "welcome" in report._repr_html_()


def test_open_enrolments_are_at_their_step() -> None:
    people = [CustomerFacts.from_record({"id": "c-1", "consent_email": True}, T0)]
    event = SegmentEntered(aggregate_id="c-1", occurred_at=T0, segment="new", as_of=T0)
    result = advance(
        [], [event], T0 + timedelta(hours=1), workflows=WorkflowCatalog([FLOW]), customers=people
    )
    summary = workflow_report(result.enrolments).workflow("welcome")
    assert summary.open == 1 and summary.step("pause").at_step == 1
    assert [s.step for s in summary.steps] == ["hello", "pause"]


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="enrolments"):
        workflow_report(["x"])  # type: ignore[list-item]
    with pytest.raises(NotFoundError):
        workflow_report([]).workflow("nope")
