"""Hypothesis strategies for the automation tests: random workflows, guardrails and customers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import strategies as st

from crmcore.columnar import CustomerFrame
from crmcore.customers import Customer
from crmcore.customers.profile import Demographics, Geography
from crmcore.customers.records import Purchase
from crmcore.kernel.money import Money
from crmcore.marketing.guardrails import FrequencyCap, Guardrails, QuietHours
from crmcore.marketing.steps import (
    END,
    AddTag,
    Branch,
    EnterWorkflow,
    SendMessage,
    Step,
    Wait,
    WaitUntil,
)
from crmcore.marketing.triggers import (
    ChurnRiskTrigger,
    DateTrigger,
    HolidayTrigger,
    InactivityTrigger,
    SegmentTrigger,
    Trigger,
)
from crmcore.marketing.workflows import Goal, Reenrolment, Workflow

ZONES = (
    "UTC",
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
)
STARTS = (
    datetime(2026, 3, 7, 17, tzinfo=UTC),  # before the US spring change
    datetime(2026, 3, 28, 20, 30, tzinfo=UTC),  # before the EU spring change
    datetime(2026, 10, 24, 22, tzinfo=UTC),  # before the EU autumn change
    datetime(2026, 2, 26, 3, tzinfo=UTC),  # across 29 February (common year)
    datetime(2028, 2, 27, 12, tzinfo=UTC),  # across 29 February (leap year)
)
RULES = ('has tag "vip"', 'country = "CN"', "total_spent >= 20", 'not has tag "vip"')

walls = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
durations = st.sampled_from([0, 1, 30, 60 * 7, 60 * 24, 60 * 24 * 3]).map(
    lambda m: timedelta(minutes=m)
)


def _reachable(steps: list[Step]) -> list[Step]:
    """The steps reachable from the first (the workflow refuses unreachable ones)."""
    ids = [s.id for s in steps]

    def targets(i: int) -> list[str]:
        step = steps[i]
        links = [step.then, step.otherwise] if isinstance(step, Branch) else [step.next]
        following = ids[i + 1] if i + 1 < len(ids) else END
        return [following if t is None else t for t in links]

    seen, todo = {ids[0]}, [0]
    while todo:
        for target in targets(todo.pop()):
            if target != END and target not in seen:
                seen.add(target)
                todo.append(ids.index(target))
    return [s for s in steps if s.id in seen]


@st.composite
def steps_of(draw: st.DrawFn, others: tuple[str, ...]) -> list[Step]:
    """1-6 random steps whose links only go forward (so they form no loop)."""
    n = draw(st.integers(1, 6))
    ids = [f"s{i}" for i in range(n)]
    kinds = ["wait", "until", "branch", "email", "sms", "action"] + (["enter"] if others else [])
    steps: list[Step] = []
    for i, sid in enumerate(ids):
        forward = st.sampled_from([*ids[i + 1 :], END])
        nxt = draw(st.none() | forward)
        kind = draw(st.sampled_from(kinds))
        if kind == "wait":
            steps.append(Wait(sid, draw(durations), next=nxt))
        elif kind == "until":
            days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=3))
            steps.append(WaitUntil(sid, days, draw(walls), next=nxt))
        elif kind == "branch":
            then, otherwise = draw(st.none() | forward), draw(st.none() | forward)
            if then == otherwise:
                otherwise = None if then is not None else END
            steps.append(Branch(sid, draw(st.sampled_from(RULES)), then, otherwise))
        elif kind in ("email", "sms"):
            steps.append(SendMessage(sid, channel=kind, template=f"t-{sid}", next=nxt))
        elif kind == "action":
            steps.append(AddTag(sid, f"tag-{sid}", next=nxt))
        else:
            steps.append(EnterWorkflow(sid, draw(st.sampled_from(others)), next=nxt))
    return _reachable(steps)


def _near(start: datetime) -> list[date]:
    return [start.date() + timedelta(days=k) for k in range(-1, 9)]


triggers: st.SearchStrategy[Trigger] = st.one_of(
    st.just(SegmentTrigger("anything")),
    st.builds(ChurnRiskTrigger, st.sampled_from([0.3, 0.6, 0.9])),
    st.builds(
        DateTrigger,
        st.sampled_from(["birth_date", "created_at"]),
        st.booleans(),
        st.integers(-3, 3),
        walls,
        st.sampled_from(["feb28", "mar1"]),
    ),
    st.builds(
        HolidayTrigger,
        st.sets(st.sampled_from([d for s in STARTS for d in _near(s)]), min_size=1, max_size=4),
        walls,
    ),
    st.builds(InactivityTrigger, st.integers(1, 40)),
)


@st.composite
def catalogs(draw: st.DrawFn) -> list[Workflow]:
    """2-3 workflows; a workflow may enter only those after it (so no cycle)."""
    n = draw(st.integers(1, 3))
    ids = [f"w{i}" for i in range(n)]
    out = []
    for i, wid in enumerate(ids):
        goal_rule = draw(st.sampled_from([None, None, None, *RULES]))
        out.append(
            Workflow(
                id=wid,
                version=1,
                name=wid,
                trigger=draw(triggers),
                steps=draw(steps_of(tuple(ids[i + 1 :]))),
                conditions=draw(st.sampled_from([None, None, *RULES])),
                goal=None if goal_rule is None else Goal(rule=goal_rule),
                reenrolment=draw(
                    st.sampled_from(
                        [
                            Reenrolment(),
                            Reenrolment.after(timedelta(0)),
                            Reenrolment.after(2 * _DAY),
                        ]
                    )
                ),
                suppression_lists=draw(st.sampled_from([(), ("staff",)])),
                active=draw(st.sampled_from([True, True, True, False])),
            )
        )
    return out


_DAY = timedelta(days=1)

guardrails = st.builds(
    Guardrails,
    caps=st.lists(
        st.builds(
            FrequencyCap,
            st.integers(1, 3),
            st.sampled_from([timedelta(hours=6), _DAY, 3 * _DAY]),
            st.sampled_from([None, "email", "sms"]),
        ),
        max_size=2,
    ),
    quiet_hours=st.sampled_from([None])
    | st.tuples(walls, walls, st.sampled_from([None, {"sms"}]))
    .filter(lambda q: q[0] != q[1])
    .map(lambda q: QuietHours(*q)),
    max_lateness=st.none(),
)


@st.composite
def frames(draw: st.DrawFn, start: datetime) -> CustomerFrame:
    """1-8 customers with random zones, birthdays, signups, purchases, tags and consent."""
    people = []
    for i in range(draw(st.integers(1, 8))):
        joined = start - timedelta(
            days=draw(st.integers(1, 3 * 365)), hours=draw(st.integers(0, 23))
        )
        born = draw(
            st.sampled_from([date(1992, 2, 29), date(1990, 3, 1), date(1985, 12, 31)])
            | st.dates(date(1950, 1, 1), date(2005, 12, 31))
        )
        customer = Customer.register(
            f"c-{i}",
            "Ann Lee",
            joined,
            demographics=Demographics(birth_date=born),
            geography=Geography(country=draw(st.sampled_from(["CN", "DE", None]))),
            tags={"vip"} if draw(st.booleans()) else (),
            attributes={"time_zone": draw(st.sampled_from(ZONES))},
        ).value
        for channel in ("email", "sms"):
            if draw(st.sampled_from([True, True, True, False])):
                customer = customer.grant_consent(channel, joined).value
        if draw(st.booleans()):
            ago = timedelta(days=draw(st.integers(0, 50)), minutes=draw(st.integers(0, 1439)))
            bought = max(start - ago, joined)
            order = Purchase(
                f"o-{i}", customer.id, bought, Money(draw(st.sampled_from(["5", "30"])), "EUR")
            )
            customer = customer.record_purchase(order).value
        people.append(customer)
    return CustomerFrame.from_customers(people)
