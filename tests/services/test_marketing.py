"""Marketing services: workflow versions, the automation run and its replays, manual enrolment,
messages sent, campaigns sent to a segment, and a stateful test of advance/replay idempotency."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.customers.profile import Demographics
from crmcore.kernel.errors import (
    IllegalTransitionError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.money import Money
from crmcore.marketing.automation_events import SendMessageIntent
from crmcore.marketing.campaigns import Campaign, CampaignBudget
from crmcore.marketing.experiments import Split, Variant
from crmcore.marketing.guardrails import FrequencyCap, Guardrails, QuietHours
from crmcore.marketing.steps import EnterWorkflow, SendMessage, Wait
from crmcore.marketing.triggers import DateTrigger, EventTrigger, SegmentTrigger
from crmcore.marketing.workflows import Reenrolment, Workflow
from crmcore.ports import Store
from crmcore.services.customers import erase_customer, register_customer
from crmcore.services.marketing import (
    advance_automation,
    enrol,
    launch_campaign,
    pause_workflow,
    publish_workflow,
    record_message_sent,
    save_workflow,
)
from crmcore.storage.memory import MemoryStore

T = datetime(2026, 5, 4, 10, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)

WELCOME = Workflow(
    id="welcome",
    version=1,
    name="Welcome",
    trigger=EventTrigger("customer.registered"),
    steps=[
        SendMessage("hello", channel="email", template="welcome-1"),
        Wait("pause", D),
        SendMessage("tips", channel="email", template="welcome-2"),
    ],
)
BIRTHDAY = Workflow(
    id="birthday",
    version=1,
    name="Birthday",
    trigger=DateTrigger("birth_date"),
    steps=[SendMessage("card", channel="email", template="birthday")],
    reenrolment=Reenrolment.after(300 * D),
)
SPRING = Workflow(
    id="spring",
    version=1,
    name="Spring",
    trigger=SegmentTrigger("spring"),
    steps=[SendMessage("mail", channel="email", template="spring")],
)


def _customer(
    n: int, *, at: datetime = T, consent: bool = True, **fields: object
) -> Outcome[Customer]:
    made = Customer.register(f"c-{n}", f"Customer {n}", at, contact=Contact(email=f"c{n}@x.com"),
                             **fields)  # type: ignore[arg-type]  # fmt: skip
    if consent:
        return made.then(lambda c: c.grant_consent("email", at, source="signup"))
    return made


def _intents(store: Store) -> list[dict[str, object]]:
    return [
        {"kind": m.kind, **m.payload}
        for m in store.outbox.pending(limit=10_000)
        if m.kind.startswith("marketing.workflow.") and "idempotency_key" in m.payload
    ]


# -- workflow versions ------------------------------------------------------------------------


def test_workflow_versions_are_saved_published_and_paused(any_store: Store) -> None:
    assert save_workflow(any_store, WELCOME).value == WELCOME
    assert save_workflow(any_store, WELCOME).value == WELCOME  # a replay
    with pytest.raises(ValidationError) as older:  # versions are never rewritten
        save_workflow(any_store, attrs.evolve(WELCOME, name="Changed"))
    assert older.value.field == "version"
    paused = pause_workflow(any_store, "welcome").value
    assert (paused.version, paused.active) == (2, False)
    assert pause_workflow(any_store, "welcome").value == paused
    published = publish_workflow(any_store, "welcome").value
    assert (published.version, published.active, published.steps) == (3, True, WELCOME.steps)
    with pytest.raises(NotFoundError):
        publish_workflow(any_store, "nope")

    def entering(wid: str, version: int, other: str | None) -> Workflow:
        step = EnterWorkflow("next", other) if other else SendMessage("m", "email", template="t")
        return Workflow(id=wid, version=version, name=wid, trigger=SegmentTrigger("x"),
                        steps=[step])  # fmt: skip

    save_workflow(any_store, entering("b", 1, None))
    save_workflow(any_store, entering("a", 1, "b"))
    with pytest.raises(ValidationError) as cycle:  # b v2 would enter a, which enters b
        save_workflow(any_store, entering("b", 2, "a"))
    assert cycle.value.value == "a -> b -> a"
    with any_store.unit_of_work() as uow:
        assert [w.version for w in uow.workflows.versions("welcome")] == [1, 2, 3]
        assert uow.workflows.find("b", 2) is None


# -- the automation run -----------------------------------------------------------------------


def test_a_run_writes_intents_once_and_a_replay_writes_nothing(any_store: Store) -> None:
    save_workflow(any_store, WELCOME)
    signup = _customer(1)
    register_customer(any_store, signup)
    lead_event = attrs.evolve(signup.events[0], aggregate_id="lead-7")  # not a customer: ignored
    first = advance_automation(any_store, T + H, (*signup.events, lead_event))
    assert [(a.template, a.idempotency_key) for a in first.value.actions] == [
        ("welcome-1", "welcome:1:c-1/hello")
    ]
    assert [e.kind for e in first.events] == [e.kind for e in first.value.events]
    (started,) = first.value.enrolments
    with any_store.unit_of_work() as uow:
        assert uow.enrolments.get(started.id) == started
        assert started.version == 1
    outbox = len(any_store.outbox.pending(limit=10_000))
    replay = advance_automation(any_store, T + H, signup.events)
    assert (replay.value.actions, replay.events) == ((), ())
    assert len(any_store.outbox.pending(limit=10_000)) == outbox
    with pytest.raises(ValidationError) as early:
        advance_automation(any_store, T, ())
    assert early.value.field == "now"
    later = advance_automation(any_store, T + 2 * D)
    assert [a.template for a in later.value.actions] == ["welcome-2"]
    keys = [i["idempotency_key"] for i in _intents(any_store)]
    assert keys == ["welcome:1:c-1/hello", "welcome:1:c-1/tips"]
    with any_store.unit_of_work() as uow:
        (enrolment,) = uow.enrolments.for_customers(["c-1"])
        assert enrolment.status.value == "completed"
        assert uow.enrolments.due(T + 10 * D) == ()
        assert uow.send_counts.last_run() == T + 2 * D


def test_time_triggers_tick_exactly_between_runs(any_store: Store) -> None:
    save_workflow(any_store, BIRTHDAY)
    for n, birthday in ((1, date(1990, 5, 5)), (2, date(1985, 5, 7)), (3, date(2000, 1, 1))):
        register_customer(any_store, _customer(n, demographics=Demographics(birth_date=birthday)))
    sent: Counter[str] = Counter()
    on_time = Guardrails(max_lateness=None)  # a step runs at its own instant, however late
    for hours in range(0, 4 * 24, 7):  # a run every seven hours, for four days
        run = advance_automation(any_store, T + hours * H, guardrails=on_time)
        sent.update(a.customer_id for a in run.value.actions)
    assert sent == Counter({"c-1": 1, "c-2": 1})
    cards = [i for i in _intents(any_store) if i["template"] == "birthday"]
    assert sorted(str(c["occurred_at"]) for c in cards) == [
        "2026-05-05T09:00:00+00:00", "2026-05-07T09:00:00+00:00",
    ]  # fmt: skip


def test_manual_enrolment_runs_only_its_customers_and_keeps_the_last_run(any_store: Store) -> None:
    save_workflow(any_store, SPRING)
    save_workflow(any_store, BIRTHDAY)
    register_customer(any_store, _customer(1))
    register_customer(any_store, _customer(2, consent=False))
    register_customer(
        any_store, _customer(3, demographics=Demographics(birth_date=date(1990, 5, 4)))
    )
    run = enrol(any_store, "spring", ["c-1", "c-2"], T)
    assert [a.customer_id for a in run.value.actions] == ["c-1"]
    suppressed = [e for e in run.value.events if e.kind.endswith("message_suppressed")]
    assert [(e.customer_id, e.reason) for e in suppressed] == [("c-2", "no_consent")]  # type: ignore[attr-defined]
    assert enrol(any_store, "spring", ["c-1"], T).value.actions == ()  # enrolled once
    with any_store.unit_of_work() as uow:
        assert uow.send_counts.last_run() is None  # no birthday was looked for
    with pytest.raises(ValidationError):
        enrol(any_store, "spring", "c-1", T)


def test_messages_sent_elsewhere_count_against_the_caps(any_store: Store) -> None:
    rails = Guardrails(caps=[FrequencyCap(1, D, "email")])
    save_workflow(any_store, SPRING)
    register_customer(any_store, _customer(1))
    first = record_message_sent(any_store, "c-1", "email", T - H, "receipt-1", guardrails=rails)
    assert first.value.has("receipt-1")
    again = record_message_sent(any_store, "c-1", "email", T - H, "receipt-1", guardrails=rails)
    assert again.value.version == first.value.version
    run = enrol(any_store, "spring", ["c-1"], T, guardrails=rails)
    assert run.value.actions == ()
    reasons = [getattr(e, "reason", None) for e in run.value.events]
    assert "frequency_cap" in reasons


def test_erasure_ends_enrolments_and_empties_the_contact_history(any_store: Store) -> None:
    save_workflow(any_store, WELCOME)
    signup = _customer(1)
    register_customer(any_store, signup)
    advance_automation(any_store, T + H, signup.events)
    erase_customer(any_store, "c-1", T + 2 * H)
    with any_store.unit_of_work() as uow:
        (enrolment,) = uow.enrolments.for_customers(["c-1"])
        assert (enrolment.status.value, enrolment.history[-1].reason) == ("exited", "erased")
        assert uow.contact_histories.get("c-1").sends == ()
    assert advance_automation(any_store, T + 3 * D).value.actions == ()


# -- campaigns --------------------------------------------------------------------------------


def test_a_campaign_reaches_its_segment_within_budget_once(any_store: Store) -> None:
    for workflow in (SPRING, attrs.evolve(SPRING, id="spring-b")):
        save_workflow(any_store, workflow)
    for n in range(12):
        register_customer(any_store, _customer(n, consent=n != 3))
    draft = Campaign.draft(
        "june", "June", channels=["email"], starts_at=T, at=T - D,
        split=Split("0.25", (Variant("a"), Variant("b"))),
        budget=CampaignBudget(messages=5), cost_per_send=Money("0.10", "EUR"),
    )  # fmt: skip
    with any_store.unit_of_work() as uow:
        uow.campaigns.add(uow.take(draft))
    workflows = {"a": "spring", "b": "spring-b"}
    launch = launch_campaign(any_store, "june", T, workflows=workflows).value
    sizes = launch.audience.sizes()
    assert sum(sizes.values()) == 12
    control = set(launch.audience.members("control"))
    intents = [a for a in launch.run.actions if isinstance(a, SendMessageIntent)]
    assert 0 < launch.sent == len(intents) <= 5
    assert not control & {a.customer_id for a in intents}
    assert launch.campaign.usage.messages == launch.sent
    assert launch.campaign.status.value == "running"
    again = launch_campaign(any_store, "june", T, workflows=workflows)
    assert (again.value.sent, again.value.run.actions) == (0, ())
    later = launch_campaign(any_store, "june", T + D, workflows=workflows).value
    reached = {a.customer_id for a in intents} | {
        a.customer_id for a in later.run.actions if isinstance(a, SendMessageIntent)
    }
    assert len(reached) == launch.sent + later.sent
    assert later.campaign.usage.messages <= 5
    with pytest.raises(ValidationError):
        launch_campaign(any_store, "june", T + D, workflows={"a": "spring"})
    with any_store.unit_of_work() as uow:
        uow.campaigns.save(uow.take(uow.campaigns.get("june").pause(T + 2 * D)))
    with pytest.raises(IllegalTransitionError):
        launch_campaign(any_store, "june", T + 2 * D, workflows=workflows)


# -- advance and replay, at random ------------------------------------------------------------

_RAILS = Guardrails(
    caps=[FrequencyCap(1, 12 * H, "email")], quiet_hours=QuietHours(time(22), time(7))
)


class _Automation(RuleBasedStateMachine):
    """Random registrations, consent changes, runs and replays of the automation on a store."""

    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryStore()
        save_workflow(self.store, WELCOME)
        self.now = T
        self.pending: list[DomainEvent] = []
        self.last: tuple[datetime, tuple[DomainEvent, ...]] | None = None
        self.consent: dict[str, list[tuple[datetime, bool]]] = {}

    def teardown(self) -> None:
        self.store.close()

    @rule(n=st.integers(0, 5), consent=st.booleans())
    def register(self, n: int, consent: bool) -> None:
        if f"c-{n}" in self.consent:
            return
        made = _customer(n, at=self.now, consent=consent)
        register_customer(self.store, made)
        self.pending.extend(made.events)
        self.consent[f"c-{n}"] = [(self.now, True)] if consent else []

    @precondition(lambda self: bool(self.consent))
    @rule(data=st.data(), granted=st.booleans())
    def change_consent(self, data: st.DataObject, granted: bool) -> None:
        cid = data.draw(st.sampled_from(sorted(self.consent)))
        # One decision per instant: two contradictory ones at the same microsecond have no order
        # the engine could see (it orders same-instant events by content, not by arrival).
        self.now += timedelta(minutes=1)
        with self.store.unit_of_work() as uow:
            customer = uow.customers.get(cid)
            change = customer.grant_consent if granted else customer.withdraw_consent
            outcome = change("email", self.now, "preferences")
            uow.customers.save(uow.take(outcome))
        self.pending.extend(outcome.events)
        self.consent[cid].append((self.now, granted))

    @rule(hours=st.sampled_from([0, 1, 5, 13, 30]))
    def run(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        events = tuple(self.pending)
        self.pending.clear()
        done = advance_automation(self.store, self.now, events, guardrails=_RAILS).value
        self.last = (self.now, events)
        for action in done.actions:  # consent as the store knew it when the run sent
            if isinstance(action, SendMessageIntent):
                assert self._granted(action.customer_id, action.occurred_at)

    @precondition(lambda self: self.last is not None)
    @rule()
    def replay(self) -> None:
        assert self.last is not None
        now, events = self.last
        before = len(self.store.outbox.pending(limit=10_000))
        replayed = advance_automation(self.store, now, events, guardrails=_RAILS)
        assert replayed.value.actions == ()
        assert len(self.store.outbox.pending(limit=10_000)) == before

    def _granted(self, customer: str, at: datetime) -> bool:
        decisions = [g for when, g in self.consent.get(customer, []) if when <= at]
        return bool(decisions) and decisions[-1]

    @invariant()
    def intents_are_unique_capped_and_out_of_quiet_hours(self) -> None:
        sends = [
            m for m in self.store.outbox.pending(limit=10_000)
            if m.kind == "marketing.workflow.send_message"
        ]  # fmt: skip
        keys = [m.payload["idempotency_key"] for m in sends]
        assert len(keys) == len(set(keys))
        by_customer: dict[str, list[datetime]] = {}
        for message in sends:
            customer = str(message.payload["customer_id"])
            at = message.occurred_at
            assert 7 <= at.hour < 22
            by_customer.setdefault(customer, []).append(at)
        for times in by_customer.values():
            assert len(times) <= 2
            ordered = sorted(times)
            assert all(b - a >= 12 * H for a, b in itertools.pairwise(ordered))


def test_advance_never_repeats_an_intent_nor_breaks_a_guardrail() -> None:
    run_state_machine_as_test(
        _Automation,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_the_state_machine_can_fail() -> None:
    """The checks are not vacuous: a duplicated intent, or one without consent, is caught."""
    machine = _Automation()
    machine.register(1, consent=False)
    machine.run(1)
    intent = SendMessageIntent(
        aggregate_id="welcome:1:c-1", occurred_at=T + H, customer_id="c-1",
        workflow_id="welcome", workflow_version=1, step_id="hello",
        idempotency_key="welcome:1:c-1/hello", channel="email", template="welcome-1",
    )  # fmt: skip
    assert not machine._granted("c-1", intent.occurred_at)
    with machine.store.unit_of_work() as uow:
        uow.collect(intent, intent)
    with pytest.raises(AssertionError):
        machine.intents_are_unique_capped_and_out_of_quiet_hours()
    machine.teardown()
