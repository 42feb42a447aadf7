"""The automation engine: ``advance(enrolments, events, now)``, deterministic and pure.

[`advance()`][crmcore.marketing.engine.advance] takes the enrolments the host loaded, the domain
events since the last run and ``now``, and returns the new and changed enrolments, the action
intents due (with their idempotency keys) and every event raised, in an
[`Advance`][crmcore.marketing.engine.Advance]. It reads no clock and stores nothing: the host saves
the enrolments and contact histories and writes the events to its outbox in one unit of work.

**Time.** Everything happens at its own instant, in order: an event at its ``occurred_at``, a time
trigger (a birthday at 09:00 local) at its instant in ``(since, now]``, a step at its ``wake_at``.
So a host that runs the engine every minute and one that runs it once an hour get the same
enrolments and intents, at the same instants. A step due more than ``max_lateness`` before ``now``
(a stalled scheduler) runs at ``now`` instead, so a late run never sends into quiet hours.

**Order** at one instant: events, then host requests, then time triggers, then steps; steps of
different enrolments by workflow id, customer and run; an enrolment started by another workflow
at that instant after those already due. One enrolment runs its steps one after another until
it must wait or ends. The inputs' order does not matter: they are sorted first.

**Consent** is judged at the instant of each send: the latest ``customer.consent_changed`` event
at or before it decides, over the facts. A grant and a withdrawal at the same instant (two events,
or an event and a decision in the facts' history) count as a withdrawal: the safe reading, the
same whichever order they arrive in.

**Enrolling** ([`RefusalReason`][crmcore.marketing.enrolment_machine.RefusalReason] says why
not): the newest version of the workflow, if active; never an erased customer or one on the
workflow's suppression lists; the conditions and not the goal's rule must hold; never two runs at
once, a new run strictly after the previous ended, at most once unless re-enrolment allows it,
and never again for the same instant (so replaying events enrols no one twice).

**Replays.** Given the same inputs the result is the same. Given its own output back with the
same events, nothing happens twice: the triggers are recognised, steps already run are behind each
enrolment, and a message whose idempotency key is in the customer's contact history is not sent
again.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.customers.events import CustomerRegistered
    >>> from crmcore.marketing.customer_facts import CustomerFacts
    >>> from crmcore.marketing.steps import SendMessage, Wait
    >>> from crmcore.marketing.triggers import EventTrigger
    >>> from crmcore.marketing.workflows import Workflow, WorkflowCatalog
    >>> welcome = Workflow(id="welcome", version=1, name="Welcome",
    ...                    trigger=EventTrigger("customer.registered"),
    ...                    steps=[SendMessage("hello", channel="email", template="welcome-1"),
    ...                           Wait("pause", timedelta(days=2)),
    ...                           SendMessage("tips", channel="email", template="welcome-2")])
    >>> t = datetime(2026, 5, 4, 10, tzinfo=UTC)
    >>> facts = [CustomerFacts.from_record({"id": "c-1", "consent_email": True}, t)]
    >>> signup = CustomerRegistered(aggregate_id="c-1", occurred_at=t)
    >>> first = advance([], [signup], t + timedelta(minutes=1),
    ...                 workflows=WorkflowCatalog([welcome]), customers=facts)
    >>> [(a.template, a.idempotency_key) for a in first.actions]
    [('welcome-1', 'welcome:1:c-1/hello')]
    >>> later = advance(first.enrolments, [], t + timedelta(days=3),
    ...                 workflows=WorkflowCatalog([welcome]), customers=facts)
    >>> [a.template for a in later.actions], later.enrolments[0].status.value
    (['welcome-2'], 'completed')
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import attrs

from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.reports import fmt_datetime, html_table, records_frame
from crmcore.kernel.validators import items_of
from crmcore.marketing._engine_state import EngineState
from crmcore.marketing.automation_events import ActionIntent
from crmcore.marketing.customer_facts import CustomerFacts
from crmcore.marketing.enrolments import Enrolment, EnrolRequest, Refusal
from crmcore.marketing.guardrails import (
    DEFAULT_GUARDRAILS,
    ContactHistory,
    Guardrails,
    SendCounts,
)
from crmcore.marketing.steps import check_slug
from crmcore.marketing.workflows import WorkflowCatalog

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_LOOKBACK", "Advance", "advance"]

DEFAULT_LOOKBACK: Final = timedelta(days=1)
"""How far back time triggers are looked for when ``since`` is not given."""


@attrs.frozen
class Advance:
    """What one [`advance()`][crmcore.marketing.engine.advance] did.

    ``enrolments``: every enrolment started or changed, by id (save them); ``actions``: the intents
    due, in order; ``events``: every event raised, intents included, in order (write them to the
    outbox); ``contacts``: the contact histories that changed (save them); ``send_counts``: the
    global counts to pass to the next run; ``refusals``: who was not enrolled and why (not stored).
    """

    now: datetime
    enrolments: tuple[Enrolment, ...]
    actions: tuple[ActionIntent, ...]
    events: tuple[DomainEvent, ...]
    contacts: tuple[ContactHistory, ...]
    send_counts: SendCounts
    refusals: tuple[Refusal, ...]

    def summary(self) -> dict[str, int]:
        """Counts by kind: intents by event kind, other events by kind, refusals by reason."""
        counts: Counter[str] = Counter(e.kind for e in self.events)
        counts.update(f"refused.{r.reason.value}" for r in self.refusals)
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, object]:
        """The result as JSON-compatible data: ``now``, counts, and the actions' payloads."""
        return {
            "now": self.now.isoformat(),
            "enrolments": len(self.enrolments),
            "counts": self.summary(),
            "actions": [{"kind": a.kind, **a.payload()} for a in self.actions],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per action intent due, in order: ``kind`` and the intent's payload fields
        (the counts are in [`summary()`][crmcore.marketing.engine.Advance.summary])."""
        return records_frame(
            [{"kind": a.kind, **a.payload()} for a in self.actions], "Advance.to_pandas"
        )

    def _repr_html_(self) -> str:
        rows = [[k, v] for k, v in self.summary().items()]
        return html_table(
            f"Automation run at {fmt_datetime(self.now)}", ["what", "count"], rows, bars={1: 0}
        )


def _canonical_events(events: Iterable[DomainEvent], now: datetime) -> list[DomainEvent]:
    listed = list(items_of(events, "events", "domain events"))
    for i, event in enumerate(listed):
        if not isinstance(event, DomainEvent):
            raise ValidationError(f"events[{i}]", event, "must be a DomainEvent")
        if event.occurred_at > now:
            raise ValidationError(f"events[{i}].occurred_at", event.occurred_at, "is after now")

    # Aware datetimes compare as instants whatever their zone.
    keys = [(e.occurred_at, e.kind, e.aggregate_id) for e in listed]
    order = sorted(range(len(listed)), key=keys.__getitem__)
    out: list[DomainEvent] = []
    i = 0
    while i < len(order):  # ties on the cheap key are ordered by their JSON, so input order
        j = i + 1  # never shows through
        while j < len(order) and keys[order[j]] == keys[order[i]]:
            j += 1
        group = [listed[k] for k in order[i:j]]
        if len(group) > 1:
            group.sort(key=lambda e: json.dumps(e.payload(), sort_keys=True))
        out.extend(group)
        i = j
    return out


def _facts(
    customers: Mapping[str, CustomerFacts] | Iterable[CustomerFacts],
) -> dict[str, CustomerFacts]:
    values = (
        customers.values()
        if isinstance(customers, Mapping)
        else items_of(customers, "customers", "CustomerFacts")
    )
    out: dict[str, CustomerFacts] = {}
    for i, facts in enumerate(values):
        if not isinstance(facts, CustomerFacts):
            raise ValidationError(f"customers[{i}]", facts, "must be CustomerFacts")
        if facts.customer_id in out:
            raise ValidationError(f"customers[{i}]", facts.customer_id, "is given twice")
        out[facts.customer_id] = facts
    return out


def _lists(value: Mapping[str, Collection[str]] | None) -> dict[str, frozenset[str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("suppression_lists", value, "must map list names to customer ids")
    out: dict[str, frozenset[str]] = {}
    for name, members in value.items():
        check_slug(name, "suppression_lists")
        if isinstance(members, str) or not isinstance(members, Iterable):
            raise ValidationError(f"suppression_lists.{name}", members, "must be customer ids")
        out[name] = frozenset(members)
    return out


def advance(
    enrolments: Iterable[Enrolment],
    events: Iterable[DomainEvent],
    now: datetime,
    *,
    workflows: WorkflowCatalog,
    customers: Mapping[str, CustomerFacts] | Iterable[CustomerFacts],
    contacts: Iterable[ContactHistory] = (),
    send_counts: SendCounts | None = None,
    suppression_lists: Mapping[str, Collection[str]] | None = None,
    guardrails: Guardrails = DEFAULT_GUARDRAILS,
    requests: Iterable[EnrolRequest] = (),
    since: datetime | None = None,
) -> Advance:
    """Run every workflow up to ``now``: enrol, convert, run due steps, emit intents.

    Args:
        enrolments: the enrolments of the customers concerned, every run (finished ones too: the
            latest run of a customer decides re-enrolment), such as the repository's due
            enrolments and the enrolments of the customers the events are about.
        events: domain events since the last run (any order; none after ``now``). They trigger
            enrolments, meet goals, and update consent (``customer.consent_changed``) and erasure
            (``customer.erased``) for what follows them.
        now: the instant the run is for (aware). Nothing happens after it.
        workflows: every version of every workflow.
        customers: the facts of every customer concerned (the customers of the enrolments and
            events, and those whose time triggers are to be checked).
        contacts: the contact histories of those customers (missing ones start empty).
        send_counts: the global counts of the previous run (``None``: none yet).
        suppression_lists: the members of each suppression list, by list name.
        guardrails: caps, quiet hours, send limits, ``max_lateness``.
        requests: enrolments asked for by the host.
        since: time triggers fire at instants in ``(since, now]`` (default ``now`` minus a day;
            pass the previous run's ``now`` to tick exactly).

    Returns:
        An [`Advance`][crmcore.marketing.engine.Advance]; the inputs are unchanged.

    Raises:
        ValidationError: a malformed input (naming it), an event after ``now``.
        NotFoundError: an enrolment's workflow version is not in ``workflows``, or a customer the
            run needs has no facts.
    """
    if not isinstance(workflows, WorkflowCatalog):
        raise ValidationError("workflows", workflows, "must be a WorkflowCatalog")
    if not isinstance(guardrails, Guardrails):
        raise ValidationError("guardrails", guardrails, "must be Guardrails")
    instant = to_utc(now, "now")
    start = instant - DEFAULT_LOOKBACK if since is None else to_utc(since, "since")
    if start > instant:
        raise ValidationError("since", since, "must not be after now")
    counts = SendCounts() if send_counts is None else send_counts
    if not isinstance(counts, SendCounts):
        raise ValidationError("send_counts", send_counts, "must be SendCounts or None")
    state = EngineState(
        catalog=workflows,
        now=instant,
        facts=_facts(customers),
        lists=_lists(suppression_lists),
        guardrails=guardrails,
        counts=counts,
    )
    state.load(enrolments, contacts)
    ordered = _canonical_events(events, instant)
    state.schedule_events(ordered)
    state.schedule_requests(requests)
    state.schedule_time_triggers(start)
    state.schedule_due()
    state.run()
    return Advance(
        now=instant,
        enrolments=state.changed_enrolments(),
        actions=tuple(e for e in state.out if isinstance(e, ActionIntent)),
        events=tuple(state.out),
        contacts=state.changed_contacts(),
        send_counts=state.counts.pruned(guardrails.send_limits, instant),
        refusals=tuple(state.refusals),
    )
