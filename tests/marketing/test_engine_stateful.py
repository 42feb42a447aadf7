"""A stateful hypothesis test of the automation engine's guarantees.

Random purchases, churn warnings, consent decisions, clock moves and replays drive ``advance``
the way a host would (state saved between runs, the previous ``now`` passed as ``since``). After
every step, over everything emitted so far: no idempotency key twice, no message without consent
at its instant, no frequency cap exceeded, no message inside quiet hours, no global limit
exceeded; replaying a run with the same inputs gives the same result, and feeding a run its own
output back with the same events emits nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import time, timedelta

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from crmcore.customers import Customer
from crmcore.customers.events import ConsentChanged, PurchaseRecorded
from crmcore.customers.records import ConsentStatus, MarketingChannel, Purchase
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money
from crmcore.marketing.automation_events import SendMessageIntent
from crmcore.marketing.customer_facts import CustomerFacts
from crmcore.marketing.engine import Advance, advance
from crmcore.marketing.enrolments import Enrolment
from crmcore.marketing.guardrails import (
    ContactHistory,
    FrequencyCap,
    Guardrails,
    QuietHours,
    SendCounts,
    SendLimit,
)
from crmcore.marketing.local_time import in_quiet_period
from crmcore.marketing.steps import Branch, EnterWorkflow, SendMessage, SetField, Wait, WaitUntil
from crmcore.marketing.triggers import ChurnRiskTrigger, EventTrigger, InactivityTrigger
from crmcore.marketing.workflows import Goal, Reenrolment, Workflow, WorkflowCatalog

from .automation_helpers import T0, churn_warning

ZONES = ("UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin")
CUSTOMERS = tuple(f"c-{i}" for i in range(4))
CAPS = (FrequencyCap(2, timedelta(days=1), "email"), FrequencyCap(3, timedelta(days=3)))
QUIET = QuietHours(time(21), time(8), channels={"email", "sms"})
LIMIT = SendLimit(3, timedelta(hours=1))
RAILS = Guardrails(caps=CAPS, quiet_hours=QUIET, send_limits=[LIMIT])

CATALOG = WorkflowCatalog(
    [
        Workflow(
            id="welcome-buyer",
            version=1,
            name="After a purchase",
            trigger=EventTrigger("customer.purchase_recorded"),
            steps=[
                SendMessage("thanks", channel="email", template="thanks"),
                Wait("pause", timedelta(hours=5)),
                SendMessage("tips", channel="sms", template="tips"),
                SendMessage("more", channel="email", template="more"),
            ],
            reenrolment=Reenrolment.after(timedelta(hours=12)),
        ),
        Workflow(
            id="win-back",
            version=1,
            name="Win back",
            trigger=ChurnRiskTrigger(0.5),
            steps=[
                SendMessage("offer", channel="email", template="winback"),
                WaitUntil("tuesday", {"tue"}, time(10)),
                Branch("vip", 'has tag "vip"', then="call", otherwise="sms"),
                SetField("call", name="winback_call", value=True, next="end"),
                SendMessage("sms", channel="sms", template="winback-sms"),
                EnterWorkflow("nurture", "nurture"),
            ],
            goal=Goal(events={"customer.purchase_recorded"}),
            reenrolment=Reenrolment.after(timedelta(days=2)),
        ),
        Workflow(
            id="nurture",
            version=1,
            name="Nurture",
            trigger=InactivityTrigger(2),
            steps=[
                SendMessage("news", channel="push", template="news"),
                Wait("week", timedelta(days=1)),
                SendMessage("digest", channel="email", template="digest"),
            ],
            reenrolment=Reenrolment.after(timedelta(hours=1)),
        ),
    ]
)


def _customer(i: int) -> Customer:
    joined = T0 - timedelta(days=30)
    customer = Customer.register(
        CUSTOMERS[i],
        "Ann Lee",
        joined,
        tags={"vip"} if i % 2 else (),
        attributes={"time_zone": ZONES[i]},
    ).value
    if i < 3:  # the last customer never consents unless a rule says so
        for channel in ("email", "sms", "push"):
            customer = customer.grant_consent(channel, joined).value
    return customer


class Automation(RuleBasedStateMachine):
    """Drives the engine like a host; checks the guardrails over everything it emitted."""

    @initialize()
    def start(self) -> None:
        self.clock = T0
        self.last_now = T0
        self.customers = {c.id: c for c in (_customer(i) for i in range(len(CUSTOMERS)))}
        self.enrolments: dict[str, Enrolment] = {}
        self.contacts: dict[str, ContactHistory] = {}
        self.counts = SendCounts()
        self.pending: list[DomainEvent] = []
        self.sends: list[SendMessageIntent] = []
        self.keys: Counter[str] = Counter()
        self.last: tuple[dict[str, object], Advance] | None = None

    def _later(self, minutes: int) -> None:
        self.clock += timedelta(minutes=max(minutes, 1))

    @rule(i=st.integers(0, 3), minutes=st.integers(1, 600))
    def purchase(self, i: int, minutes: int) -> None:
        self._later(minutes)
        cid = CUSTOMERS[i]
        customer = self.customers[cid]
        order = f"o-{len(self.pending)}-{self.clock.timestamp():.0f}"
        outcome = customer.record_purchase(Purchase(order, cid, self.clock, Money("10", "EUR")))
        self.customers[cid] = outcome.value
        self.pending.extend(e for e in outcome.events if isinstance(e, PurchaseRecorded))

    @rule(i=st.integers(0, 3), risk=st.floats(0.0, 1.0), minutes=st.integers(1, 600))
    def churn(self, i: int, risk: float, minutes: int) -> None:
        self._later(minutes)
        self.pending.append(churn_warning(CUSTOMERS[i], self.clock, risk))

    @rule(
        i=st.integers(0, 3),
        channel=st.sampled_from(["email", "sms", "push"]),
        granted=st.booleans(),
        minutes=st.integers(1, 600),
    )
    def consent(self, i: int, channel: str, granted: bool, minutes: int) -> None:
        self._later(minutes)
        cid = CUSTOMERS[i]
        customer = self.customers[cid]
        change = customer.grant_consent if granted else customer.withdraw_consent
        outcome = change(channel, self.clock)
        self.customers[cid] = outcome.value
        self.pending.extend(e for e in outcome.events if isinstance(e, ConsentChanged))

    def _inputs(self) -> dict[str, object]:
        now = self.clock
        return {
            "enrolments": tuple(self.enrolments.values()),
            "events": tuple(self.pending),
            "now": now,
            "workflows": CATALOG,
            "customers": [CustomerFacts.from_customer(c, now) for c in self.customers.values()],
            "contacts": tuple(self.contacts.values()),
            "send_counts": self.counts,
            "guardrails": RAILS,
            "since": self.last_now,
        }

    @rule(minutes=st.integers(0, 3 * 24 * 60))
    def tick(self, minutes: int) -> None:
        self._later(minutes)
        inputs = self._inputs()
        result = advance(**inputs)  # type: ignore[arg-type]
        self._save(result)
        self.last = (inputs, result)
        self.pending = []
        self.last_now = self.clock

    def _save(self, result: Advance) -> None:
        for enrolment in result.enrolments:
            self.enrolments[enrolment.id] = enrolment
        for history in result.contacts:
            self.contacts[history.id] = history
        self.counts = result.send_counts
        for kind in sorted({e.kind.rsplit(".", 1)[-1] for e in result.events}):
            event(f"raised {kind}")
        for action in result.actions:
            self.keys[action.idempotency_key] += 1
            if isinstance(action, SendMessageIntent):
                self.sends.append(action)

    @rule()
    def replay(self) -> None:
        if self.last is None:
            return
        inputs, result = self.last
        assert advance(**inputs) == result  # type: ignore[arg-type]
        again = advance(**{**inputs, **self._state_after()})  # type: ignore[arg-type]
        assert again.actions == ()

    def _state_after(self) -> dict[str, object]:
        return {
            "enrolments": tuple(self.enrolments.values()),
            "contacts": tuple(self.contacts.values()),
            "send_counts": self.counts,
        }

    @invariant()
    def each_key_once(self) -> None:
        assert all(n == 1 for n in self.keys.values())

    @invariant()
    def never_without_consent(self) -> None:
        for send in self.sends:
            customer = self.customers[send.customer_id]
            assert customer.consent_status(send.channel, send.occurred_at) is ConsentStatus.GRANTED

    @invariant()
    def never_beyond_caps(self) -> None:
        for cap in CAPS:
            for customer in CUSTOMERS:
                times = sorted(
                    s.occurred_at
                    for s in self.sends
                    if s.customer_id == customer
                    and (cap.channel is None or s.channel == cap.channel.value)
                )
                for i, t in enumerate(times):
                    inside = [u for u in times[: i + 1] if u > t - cap.window]
                    assert len(inside) <= cap.limit, (cap.label, customer, times)

    @invariant()
    def never_in_quiet_hours(self) -> None:
        for send in self.sends:
            if QUIET.covers(send.channel):
                zone = ZONES[CUSTOMERS.index(send.customer_id)]
                assert not in_quiet_period(send.occurred_at, zone, QUIET.start, QUIET.end)

    @invariant()
    def never_beyond_the_global_limit(self) -> None:
        windows = Counter(LIMIT.window_of(s.occurred_at) for s in self.sends)
        assert all(n <= LIMIT.limit for n in windows.values())

    @invariant()
    def consent_channels_are_marketing_channels(self) -> None:
        assert all(MarketingChannel(s.channel) for s in self.sends)


Automation.TestCase.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)
TestAutomation = Automation.TestCase
