"""Hypothesis strategies for leads: random lives of leads, built through their operations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from crmcore.customers.contact import Contact
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.sales.activities import OUTCOMES, ActivityKind
from crmcore.sales.lead_machine import LeadTrigger
from crmcore.sales.leads import Lead

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
SOURCES = ("web_form", "referral", "webinar")
OWNERS = ("rep-1", "rep-2", None)
REASONS = ("no_budget", "no_need", "spam")

steps = st.integers(0, 4 * 24 * 60).map(lambda m: timedelta(minutes=m))
operations = st.lists(
    st.tuples(
        st.sampled_from(
            [
                *("work", "nurture", "qualify", "disqualify", "reopen", "assign", "convert"),
                *("schedule", "log", "complete", "cancel", "reschedule"),
            ]
        ),
        steps,
        st.integers(0, 1000),
    ),
    max_size=14,
)


def apply(lead: Lead, op: str, at: datetime, pick: int) -> Lead:
    """Apply one random operation; a refused one leaves the lead as it was."""
    try:
        if op in ("work", "nurture", "qualify", "reopen"):
            return lead.fire(op, at).value
        if op == "disqualify":
            return lead.disqualify(at, REASONS[pick % 3]).value
        if op == "assign":
            return lead.assign(at, OWNERS[pick % 3]).value
        if op == "convert":
            return lead.mark_converted(
                at, customer_id=lead.customer_id or f"c-{lead.id}", opportunity_id=f"o-{lead.id}"
            ).value
        kind = list(ActivityKind)[pick % 4]
        outcome = OUTCOMES[kind][pick % len(OUTCOMES[kind])]
        number = len(lead.activities)
        if op == "schedule":
            due = at + timedelta(hours=pick % 72)
            return lead.schedule(f"a{number}", kind, at, due_at=due, owner=OWNERS[pick % 3]).value
        if op == "log":
            return lead.log_activity(f"a{number}", kind, at, outcome).value
        open_ones = lead.open_activities
        if not open_ones:
            return lead
        target = open_ones[pick % len(open_ones)]
        if op == "complete":
            fitting = OUTCOMES[target.kind][pick % len(OUTCOMES[target.kind])]
            return lead.complete_activity(target.id, at, fitting).value
        if op == "cancel":
            return lead.cancel_activity(target.id, at).value
        return lead.reschedule_activity(target.id, at + timedelta(hours=pick % 48), at).value
    except (IllegalTransitionError, ValidationError):
        return lead


@st.composite
def leads(draw: st.DrawFn, lead_id: str = "l-1") -> Lead:
    """A lead created at a random time after ``T0`` and put through random operations."""
    start = T0 + draw(steps)
    reachable = draw(st.booleans())
    lead = Lead.create(
        lead_id,
        start,
        source=draw(st.sampled_from(SOURCES)),
        channel=draw(st.sampled_from(["email", "search", None])),
        contact=Contact(email=f"{lead_id}@example.com") if reachable else Contact(),
        owner=draw(st.sampled_from(OWNERS)),
    ).value
    now = start
    for op, step, pick in draw(operations):
        now += step
        lead = apply(lead, op, now, pick)
    return lead


@st.composite
def lead_lists(draw: st.DrawFn, max_size: int = 8) -> list[Lead]:
    """A few leads with distinct ids."""
    n = draw(st.integers(0, max_size))
    return [draw(leads(f"l-{i}")) for i in range(n)]


ALL_TRIGGERS = list(LeadTrigger)
