"""The inside of [`advance()`][crmcore.marketing.engine.advance]: one run's working state.

An [`EngineState`][crmcore.marketing._engine_state.EngineState] lives for one call. It indexes the
inputs, keeps an agenda (a heap of items keyed ``(time, class, generation, workflow, customer,
run, sequence)``) and processes it in order: class 0 events, 1 host requests, 2 time triggers,
3 enrolment steps. Generation orders, within one instant, the enrolments that other workflows
start at that instant after those already due there; the dry run
([`crmcore.marketing.dry_run`][crmcore.marketing.dry_run]) reproduces the same order with arrays.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from crmcore.customers.records import ConsentStatus, MarketingChannel, parse_channel
from crmcore.kernel.clock import from_micros, to_micros, to_utc
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.validators import items_of
from crmcore.marketing import automation_events as ev
from crmcore.marketing.customer_facts import CustomerFacts, customer_of
from crmcore.marketing.enrolment_machine import (
    EnrolmentStatus,
    ExitReason,
    RefusalReason,
    StepOutcome,
    WaitReason,
)
from crmcore.marketing.enrolments import Enrolment, EnrolRequest, Refusal
from crmcore.marketing.guardrails import (
    ContactHistory,
    Defer,
    Guardrails,
    Send,
    SendCounts,
    check_send,
)
from crmcore.marketing.local_time import next_weekly
from crmcore.marketing.steps import (
    AddTag,
    AwardPoints,
    Branch,
    CreateTask,
    EnterWorkflow,
    IssueCoupon,
    RemoveTag,
    SendMessage,
    SetField,
    Step,
    Wait,
    WaitUntil,
)
from crmcore.marketing.triggers import DateTrigger, HolidayTrigger, InactivityTrigger
from crmcore.marketing.workflows import Workflow, WorkflowCatalog
from crmcore.segments.evaluate import matches, record_schema
from crmcore.segments.rules import Predicate, RuleSchema

__all__ = ["EngineState"]

_EVENT, _REQUEST, _TIME, _STEP = 0, 1, 2, 3
_RETENTION_FLOOR_US = 86_400_000_000  # keys of the last day's messages, for replays


class EngineState:
    """The working state of one [`advance()`][crmcore.marketing.engine.advance] call."""

    def __init__(
        self,
        *,
        catalog: WorkflowCatalog,
        now: datetime,
        facts: dict[str, CustomerFacts],
        lists: dict[str, frozenset[str]],
        guardrails: Guardrails,
        counts: SendCounts,
    ) -> None:
        self.catalog = catalog
        self.now = now
        self.now_us = to_micros(now)
        self.facts = facts
        self.lists = lists
        self.rails = guardrails
        self.counts = counts
        self.enrolments: dict[str, Enrolment] = {}
        self.changed: set[str] = set()
        self.latest: dict[tuple[str, str], str] = {}
        self.open: dict[str, dict[str, None]] = {}
        self.contacts: dict[str, ContactHistory] = {}
        self.changed_contact: set[str] = set()
        self.consent_changes: dict[tuple[str, MarketingChannel], list[tuple[datetime, bool]]] = {}
        self.erased_at: dict[str, datetime] = {}
        self.heap: list[tuple[Any, ...]] = []
        self.pending: dict[str, int] = {}
        self.seq = 0
        self.out: list[DomainEvent] = []
        self.refusals: list[Refusal] = []
        self.rule_cache: dict[tuple[int, str], bool] = {}
        self.base_schema = RuleSchema.default()
        self.schemas: dict[tuple[tuple[str, str], ...], RuleSchema] = {}
        self.listeners: dict[str, list[Workflow]] = {}
        lateness = guardrails.max_lateness
        self.late_before = None if lateness is None else now - lateness
        for workflow in catalog:
            trigger = workflow.trigger
            if not isinstance(trigger, DateTrigger | HolidayTrigger | InactivityTrigger):
                for kind in sorted(trigger.kinds):
                    self.listeners.setdefault(kind, []).append(workflow)

    # -- loading ----------------------------------------------------------------------------------
    def load(self, enrolments: Iterable[Enrolment], contacts: Iterable[ContactHistory]) -> None:
        """Index the enrolments (latest run per workflow and customer, open ones per customer)."""
        listed = items_of(enrolments, "enrolments", "enrolments")
        for i, enrolment in enumerate(listed):
            if not isinstance(enrolment, Enrolment):
                raise ValidationError(f"enrolments[{i}]", enrolment, "must be an Enrolment")
            if enrolment.id in self.enrolments:
                raise ValidationError(f"enrolments[{i}]", enrolment.id, "is given twice")
            self.catalog.get(enrolment.workflow_id, enrolment.workflow_version)
            self.enrolments[enrolment.id] = enrolment
        for enrolment in sorted(listed, key=lambda e: e.id):
            self._index(enrolment)
        for i, history in enumerate(items_of(contacts, "contacts", "contact histories")):
            if not isinstance(history, ContactHistory):
                raise ValidationError(f"contacts[{i}]", history, "must be a ContactHistory")
            self.contacts[history.id] = history

    def _index(self, enrolment: Enrolment) -> None:
        key = (enrolment.workflow_id, enrolment.customer_id)
        held = self.latest.get(key)
        if held is None or self.enrolments[held].run < enrolment.run:
            self.latest[key] = enrolment.id
        bucket = self.open.setdefault(enrolment.customer_id, {})
        if enrolment.is_final:
            bucket.pop(enrolment.id, None)
        else:
            bucket[enrolment.id] = None

    def _facts_of(self, customer: str) -> CustomerFacts:
        facts = self.facts.get(customer)
        if facts is None:
            raise NotFoundError("customer facts", customer)
        return facts

    # -- the agenda -------------------------------------------------------------------------------
    def _push(self, t_us: int, cls: int, gen: int, a: str, b: str, run: int, item: object) -> int:
        self.seq += 1
        heapq.heappush(self.heap, (t_us, cls, gen, a, b, run, self.seq, item))
        return self.seq

    def schedule_events(self, events: list[DomainEvent]) -> None:
        """Put the events on the agenda (already in canonical order)."""
        for event in events:
            self._push(to_micros(event.occurred_at), _EVENT, 0, "", "", 0, event)

    def schedule_requests(self, requests: Iterable[EnrolRequest]) -> None:
        """Put the host's enrolment requests on the agenda."""
        for i, request in enumerate(items_of(requests, "requests", "enrolment requests")):
            if not isinstance(request, EnrolRequest):
                raise ValidationError(f"requests[{i}]", request, "must be an EnrolRequest")
            if request.at > self.now:
                raise ValidationError(f"requests[{i}].at", request.at, "is after now")
            self.catalog.latest(request.workflow_id)
            self._push(
                to_micros(request.at),
                _REQUEST,
                0,
                request.workflow_id,
                request.customer_id,
                0,
                request,
            )

    def schedule_time_triggers(self, since: datetime) -> None:
        """Put every time-trigger instant in ``(since, now]`` of every customer on the agenda."""
        timed = [
            w
            for w in self.catalog
            if w.active and isinstance(w.trigger, DateTrigger | HolidayTrigger | InactivityTrigger)
        ]
        if not timed:
            return
        for customer in sorted(self.facts):
            facts = self.facts[customer]
            for workflow in timed:
                trigger = workflow.trigger
                assert isinstance(trigger, DateTrigger | HolidayTrigger | InactivityTrigger)
                for instant in trigger.occurrences(facts.record, facts.time_zone, since, self.now):
                    self._push(
                        to_micros(instant), _TIME, 0, workflow.id, customer, 0, trigger.label
                    )

    def schedule_due(self) -> None:
        """Put every open enrolment due by ``now`` on the agenda."""
        for eid in sorted(self.enrolments):
            enrolment = self.enrolments[eid]
            if not enrolment.is_final:
                self._schedule(enrolment, 0)

    def _schedule(self, enrolment: Enrolment, gen: int) -> None:
        wake = enrolment.wake_at
        assert wake is not None
        if wake > self.now:
            self.pending.pop(enrolment.id, None)
            return
        if self.late_before is not None and wake < self.late_before:
            wake, gen = self.now, 0  # a stalled scheduler: run now, checked at now
        self.pending[enrolment.id] = self._push(
            to_micros(wake),
            _STEP,
            gen,
            enrolment.workflow_id,
            enrolment.customer_id,
            enrolment.run,
            enrolment.id,
        )

    def run(self) -> None:
        """Process the agenda until it is empty."""
        while self.heap:
            t_us, cls, gen, workflow_id, customer, _run, seq, item = heapq.heappop(self.heap)
            at = from_micros(t_us)
            if cls == _EVENT:
                self._on_event(item, at)
            elif cls == _REQUEST:
                self.try_enrol(workflow_id, customer, at, 0, "request")
            elif cls == _TIME:
                self.try_enrol(workflow_id, customer, at, 0, item)
            elif self.pending.get(item) == seq:
                del self.pending[item]
                self._step(self.enrolments[item], at, gen)

    # -- results ----------------------------------------------------------------------------------
    def changed_enrolments(self) -> tuple[Enrolment, ...]:
        """Every enrolment started or changed, by id."""
        return tuple(self.enrolments[k] for k in sorted(self.changed))

    def changed_contacts(self) -> tuple[ContactHistory, ...]:
        """The contact histories that changed, pruned to what caps and replays need, by id."""
        keep_us = max(self.rails.retention // timedelta(microseconds=1), _RETENTION_FLOOR_US)
        cut = from_micros(self.now_us - keep_us)
        out = []
        for cid in sorted(self.contacts):
            history = self.contacts[cid]
            pruned = history.pruned(cut)
            if cid in self.changed_contact or pruned is not history:
                out.append(pruned)
        return tuple(out)

    # -- events -----------------------------------------------------------------------------------
    def _on_event(self, event: DomainEvent, at: datetime) -> None:
        customer = customer_of(event)
        if customer is None:
            return
        if event.kind == "customer.consent_changed":
            channel = parse_channel(getattr(event, "channel", None))
            granted = getattr(event, "granted", None) is True
            self.consent_changes.setdefault((customer, channel), []).append((at, granted))
        elif event.kind == "customer.erased":
            self.erased_at.setdefault(customer, at)
            for eid in list(self.open.get(customer, {})):
                enrolment = self.enrolments[eid]
                self._apply(enrolment.exit(max(at, enrolment.last_changed_at), ExitReason.ERASED))
        for eid in list(self.open.get(customer, {})):
            enrolment = self.enrolments[eid]
            workflow = self.catalog.get(enrolment.workflow_id, enrolment.workflow_version)
            goal = workflow.goal
            if goal is not None and goal.met_by(event) and at >= enrolment.enrolled_at:
                self._apply(enrolment.convert(max(at, enrolment.last_changed_at), event.kind))
        for workflow in self.listeners.get(event.kind, ()):
            trigger = workflow.trigger
            assert not isinstance(trigger, DateTrigger | HolidayTrigger | InactivityTrigger)
            if trigger.matches(event):
                self.try_enrol(workflow.id, customer, at, 0, trigger.label)

    # -- enrolling --------------------------------------------------------------------------------
    def _refuse(
        self,
        workflow_id: str,
        customer: str,
        at: datetime,
        source: str,
        reason: RefusalReason,
        detail: str | None = None,
    ) -> Refusal:
        refusal = Refusal(workflow_id, customer, at, source, reason, detail)
        self.refusals.append(refusal)
        return refusal

    def try_enrol(
        self, workflow_id: str, customer: str, at: datetime, gen: int, source: str
    ) -> Enrolment | Refusal:
        """Enrol ``customer`` in the newest version of ``workflow_id`` at ``at``, or refuse."""
        workflow = self.catalog.latest(workflow_id)
        if not workflow.active:
            return self._refuse(workflow_id, customer, at, source, RefusalReason.INACTIVE_WORKFLOW)
        facts = self._facts_of(customer)
        if self._erased(facts, at):
            return self._refuse(workflow_id, customer, at, source, RefusalReason.ERASED)
        held = self.latest.get((workflow_id, customer))
        previous = None if held is None else self.enrolments[held]
        if previous is not None:
            ended = previous.ended_at
            if at <= previous.enrolled_at:
                reason = RefusalReason.ALREADY_TRIGGERED
            elif ended is None or ended >= at:
                reason = RefusalReason.ALREADY_ENROLLED
            elif not workflow.reenrolment.allowed:
                reason = RefusalReason.NOT_REENROLABLE
            elif at - previous.enrolled_at < workflow.reenrolment.cooldown:
                reason = RefusalReason.COOLDOWN
            else:
                reason = None
            if reason is not None:
                return self._refuse(workflow_id, customer, at, source, reason)
        listed = self._listed(workflow, customer)
        if listed is not None:
            return self._refuse(
                workflow_id, customer, at, source, RefusalReason.SUPPRESSION_LIST, listed
            )
        if workflow.conditions is not None and not self.holds(workflow.conditions, facts):
            return self._refuse(workflow_id, customer, at, source, RefusalReason.CONDITIONS_NOT_MET)
        goal = workflow.goal
        if goal is not None and goal.rule is not None and self.holds(goal.rule, facts):
            return self._refuse(workflow_id, customer, at, source, RefusalReason.GOAL_ALREADY_MET)
        run = 1 if previous is None else previous.run + 1
        outcome = Enrolment.start(workflow, customer, at, run=run, source=source)
        enrolment = self._apply(outcome)
        self._schedule(enrolment, gen)
        return enrolment

    def _listed(self, workflow: Workflow, customer: str) -> str | None:
        if not workflow.suppression_lists:
            return None
        for name in sorted(workflow.suppression_lists):
            if customer in self.lists.get(name, ()):
                return name
        return None

    def _erased(self, facts: CustomerFacts, at: datetime) -> bool:
        erased = self.erased_at.get(facts.customer_id)
        return facts.erased or (erased is not None and erased <= at)

    def holds(self, rule: Predicate, facts: CustomerFacts) -> bool:
        """Whether ``rule`` holds for the customer (memoised: the facts are fixed for the run)."""
        key = (id(rule), facts.customer_id)
        found = self.rule_cache.get(key)
        if found is None:
            found = matches(rule, facts.record, facts.as_of, schema=self._schema(facts.record))
            self.rule_cache[key] = found
        return found

    def _schema(self, record: Mapping[str, object]) -> RuleSchema:
        """The rule schema of a record, built once per set of ``attr.*`` fields and their types."""
        signature = tuple((k, type(v).__name__) for k, v in record.items() if k.startswith("attr."))
        found = self.schemas.get(signature)
        if found is None:
            found = record_schema(record, self.base_schema)
            self.schemas[signature] = found
        return found

    def consent(
        self, facts: CustomerFacts, channel: MarketingChannel, at: datetime
    ) -> ConsentStatus:
        """Consent on ``channel`` at ``at``: the facts, corrected by consent events of this run.

        The latest consent event at or before ``at`` decides; when several fall on that instant
        (or the facts' history holds a decision at that same instant), a withdrawal wins, so
        the outcome never depends on how simultaneous events happen to be ordered.
        """
        changes = self.consent_changes.get((facts.customer_id, channel), ())
        due = [change for change in changes if change[0] <= at]
        if not due:
            return facts.consent(channel, at)
        last = max(when for when, _granted in due)
        granted = all(g for when, g in due if when == last) and not any(
            r.at == last and r.channel is channel and not r.granted for r in facts.consents or ()
        )
        return ConsentStatus.GRANTED if granted else ConsentStatus.WITHDRAWN

    # -- running steps ----------------------------------------------------------------------------
    def _apply(self, outcome: Outcome[Enrolment]) -> Enrolment:
        enrolment = outcome.value
        self.enrolments[enrolment.id] = enrolment
        self.changed.add(enrolment.id)
        self._index(enrolment)
        self.out.extend(outcome.events)
        if enrolment.is_final:
            self.pending.pop(enrolment.id, None)
        return enrolment

    def _step(self, enrolment: Enrolment, at: datetime, gen: int) -> None:
        workflow = self.catalog.get(enrolment.workflow_id, enrolment.workflow_version)
        facts = self._facts_of(enrolment.customer_id)
        if enrolment.status is EnrolmentStatus.WAITING:
            assert enrolment.step is not None
            waited = workflow.step(enrolment.step)
            after = (
                workflow.next_of(waited.id) if isinstance(waited, Wait | WaitUntil) else waited.id
            )
            enrolment = self._apply(enrolment.resume(at, after))
        while not enrolment.is_final:
            ended = self._exit_or_convert(enrolment, workflow, facts, at)
            if ended is not None:
                return
            assert enrolment.step is not None
            step = workflow.step(enrolment.step)
            result = self._run(enrolment, workflow, step, facts, at, gen)
            if result is None:
                return
            enrolment = result

    def _exit_or_convert(
        self, enrolment: Enrolment, workflow: Workflow, facts: CustomerFacts, at: datetime
    ) -> Enrolment | None:
        if self._erased(facts, at):
            return self._apply(enrolment.exit(at, ExitReason.ERASED))
        if self._listed(workflow, enrolment.customer_id) is not None:
            return self._apply(enrolment.exit(at, ExitReason.SUPPRESSION_LIST))
        goal = workflow.goal
        if goal is not None and goal.rule is not None and self.holds(goal.rule, facts):
            return self._apply(enrolment.convert(at, "rule"))
        return None

    def _wait(self, enrolment: Enrolment, at: datetime, until: datetime, why: WaitReason) -> None:
        waiting = self._apply(enrolment.wait(at, until, why))
        self._schedule(waiting, 0)

    def _run(
        self,
        enrolment: Enrolment,
        workflow: Workflow,
        step: Step,
        facts: CustomerFacts,
        at: datetime,
        gen: int,
    ) -> Enrolment | None:
        """Run ``step``; the enrolment to go on with, or ``None`` when it waits."""
        if isinstance(step, Wait | WaitUntil):
            until = (
                _after(at, step.duration)
                if isinstance(step, Wait)
                else next_weekly(at, facts.time_zone, step.weekdays, step.at)
            )
            if until > at:
                self._wait(
                    enrolment,
                    at,
                    until,
                    WaitReason.DELAY if isinstance(step, Wait) else WaitReason.UNTIL,
                )
                return None
            return self._apply(enrolment.ran(at, StepOutcome.DONE, workflow.next_of(step.id)))
        if isinstance(step, Branch):
            yes = self.holds(step.rule, facts)
            outcome = StepOutcome.YES if yes else StepOutcome.NO
            return self._apply(enrolment.ran(at, outcome, workflow.next_of(step.id, yes)))
        if isinstance(step, SendMessage):
            return self._send(enrolment, workflow, step, facts, at)
        if isinstance(step, EnterWorkflow):
            result = self.try_enrol(
                step.workflow, enrolment.customer_id, at, gen + 1, f"workflow:{workflow.id}"
            )
            if isinstance(result, Refusal):
                return self._apply(
                    enrolment.ran(
                        at,
                        StepOutcome.NOT_ENTERED,
                        workflow.next_of(step.id),
                        reason=result.reason.value,
                    )
                )
            return self._apply(enrolment.ran(at, StepOutcome.ENTERED, workflow.next_of(step.id)))
        self.out.append(_intent(enrolment, step, at))
        return self._apply(enrolment.ran(at, StepOutcome.DONE, workflow.next_of(step.id)))

    def _send(
        self,
        enrolment: Enrolment,
        workflow: Workflow,
        step: SendMessage,
        facts: CustomerFacts,
        at: datetime,
    ) -> Enrolment | None:
        key = enrolment.action_key(step.id)
        customer = enrolment.customer_id
        history = self.contacts.get(customer) or ContactHistory(id=customer)
        nxt = workflow.next_of(step.id)
        if history.has(key):  # sent by an earlier run of the engine that this state predates
            return self._apply(enrolment.ran(at, StepOutcome.SENT, nxt, reason="already_sent"))
        decision = check_send(
            self.rails,
            step.channel,
            at,
            consent=self.consent(facts, step.channel, at),
            zone_name=facts.time_zone,
            history=history,
            counts=self.counts,
        )
        common = _common(enrolment, at)
        if isinstance(decision, Send):
            self.out.append(
                ev.SendMessageIntent(
                    **common,
                    step_id=step.id,
                    idempotency_key=key,
                    channel=step.channel.value,
                    template=step.template,
                    variables=step.variables,
                )
            )
            self.contacts[customer] = history.record(step.channel, at, key)
            self.changed_contact.add(customer)
            for limit in self.rails.send_limits:
                if limit.covers(step.channel):
                    self.counts = self.counts.add(limit, at)
            return self._apply(enrolment.ran(at, StepOutcome.SENT, nxt))
        if isinstance(decision, Defer):
            self.out.append(
                ev.MessageDeferred(
                    **common,
                    step_id=step.id,
                    channel=step.channel.value,
                    reason=decision.reason,
                    until=decision.until,
                )
            )
            self._wait(enrolment, at, decision.until, WaitReason(decision.reason))
            return None
        self.out.append(
            ev.MessageSuppressed(
                **common,
                step_id=step.id,
                channel=step.channel.value,
                reason=decision.reason.value,
                rule=decision.rule,
            )
        )
        return self._apply(
            enrolment.ran(at, StepOutcome.SUPPRESSED, nxt, reason=decision.reason.value)
        )


def _common(enrolment: Enrolment, at: datetime) -> dict[str, Any]:
    return {
        "aggregate_id": enrolment.id,
        "occurred_at": to_utc(at),
        "customer_id": enrolment.customer_id,
        "workflow_id": enrolment.workflow_id,
        "workflow_version": enrolment.workflow_version,
    }


def _intent(enrolment: Enrolment, step: Step, at: datetime) -> ev.ActionIntent:
    common = {
        **_common(enrolment, at),
        "step_id": step.id,
        "idempotency_key": enrolment.action_key(step.id),
    }
    if isinstance(step, AddTag):
        return ev.AddTagIntent(**common, tag=step.tag)
    if isinstance(step, RemoveTag):
        return ev.RemoveTagIntent(**common, tag=step.tag)
    if isinstance(step, AwardPoints):
        return ev.AwardPointsIntent(
            **common, program=step.program, action=step.action, points=step.points
        )
    if isinstance(step, IssueCoupon):
        return ev.IssueCouponIntent(**common, definition=step.definition)
    if isinstance(step, CreateTask):
        return ev.CreateTaskIntent(
            **common, owner=step.owner, task=step.task, due_at=to_utc(at) + step.due_in
        )
    if isinstance(step, SetField):
        return ev.SetFieldIntent(**common, name=step.name, value=step.value)
    raise ValidationError("step", step, "is not an action step")


_END_OF_TIME: datetime = datetime.max.replace(tzinfo=UTC)


def _after(at: datetime, duration: timedelta) -> datetime:
    """The end of a wait of ``duration`` from ``at``; a wait past the year 9999 never ends
    (it lasts until the last representable instant rather than failing the whole run)."""
    try:
        return at + duration
    except OverflowError:
        return _END_OF_TIME
