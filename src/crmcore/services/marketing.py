"""Marketing automation use cases: workflow versions, enrolment, the scheduler's run, campaigns.

Each function is one unit of work over a [`Store`][crmcore.ports.Store] returning an
[`Outcome`][crmcore.kernel.events.Outcome]: what was stored and the events written to the outbox
with it.

* **Workflows** are versioned data: [`save_workflow()`][crmcore.services.marketing.save_workflow]
  stores a new version (checked together with every stored workflow: no cycle of workflows
  entering each other), [`publish_workflow()`][crmcore.services.marketing.publish_workflow] and
  [`pause_workflow()`][crmcore.services.marketing.pause_workflow] store a copy that does or does
  not take new enrolments. A version is never rewritten; each enrolment keeps its version.
* **The run.** [`advance_automation()`][crmcore.services.marketing.advance_automation] is what a
  scheduler calls every few minutes: it loads the enrolments due at ``now`` and those of the
  customers the new events are about (every customer, when a time trigger such as a birthday is
  active), runs the pure engine ([`advance()`][crmcore.marketing.engine.advance]) and stores the
  enrolments, the contact histories, the global send counts and the events (the action intents,
  each with its idempotency key) in one transaction. Time triggers fire in ``(previous run,
  now]``, so runs tick exactly.
* **Replays never duplicate.** The enrolments remember the steps they ran, so running again with
  the same events and ``now`` finds nothing to do and writes no intent; two runs at once collide
  on the send counts (every run writes them) and the loser redoes its run on the winner's state
  (``retry``, [`DEFAULT_RETRY`][crmcore.services.retry.DEFAULT_RETRY]).
* **Campaigns** reach their audience through a workflow:
  [`launch_campaign()`][crmcore.services.marketing.launch_campaign] enrols the treated members of
  the campaign's target segment (control group held out, within the budget) in the workflow of
  their variant, so consent, frequency caps and quiet hours apply to campaign messages too.

Events about someone who is not a stored customer (a lead's events) are left out of a run: there
is nobody to market to.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.customers.customer import Customer
    >>> from crmcore.marketing.steps import SendMessage, Wait
    >>> from crmcore.marketing.triggers import EventTrigger
    >>> from crmcore.marketing.workflows import Workflow
    >>> from crmcore.services.customers import register_customer
    >>> from crmcore.storage.memory import MemoryStore
    >>> store, t = MemoryStore(), datetime(2026, 5, 4, 10, tzinfo=UTC)
    >>> welcome = Workflow(id="welcome", version=1, name="Welcome",
    ...                    trigger=EventTrigger("customer.registered"),
    ...                    steps=[SendMessage("hello", channel="email", template="welcome-1"),
    ...                           Wait("pause", timedelta(days=2)),
    ...                           SendMessage("tips", channel="email", template="welcome-2")])
    >>> _ = save_workflow(store, welcome)
    >>> signup = Customer.register("c-1", "Ann", t).then(
    ...     lambda c: c.grant_consent("email", t, source="signup form"))
    >>> _ = register_customer(store, signup)
    >>> run = advance_automation(store, t + timedelta(minutes=1), signup.events)
    >>> [(a.template, a.idempotency_key) for a in run.value.actions]
    [('welcome-1', 'welcome:1:c-1/hello')]
    >>> advance_automation(store, t + timedelta(minutes=1), signup.events).value.actions
    ()
    >>> [a.template for a in advance_automation(store, t + timedelta(days=3)).value.actions]
    ['welcome-2']
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

import attrs

from crmcore.customers.records import MarketingChannel, parse_channel
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import IllegalTransitionError, ValidationError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.validators import boolean, instance_of, items_of
from crmcore.marketing.automation_events import SendMessageIntent
from crmcore.marketing.campaign_audience import CampaignAudience, campaign_audience
from crmcore.marketing.campaigns import Campaign, CampaignStatus
from crmcore.marketing.customer_facts import CustomerFacts, customer_of
from crmcore.marketing.engine import Advance, advance
from crmcore.marketing.enrolments import EnrolRequest
from crmcore.marketing.guardrails import DEFAULT_GUARDRAILS, ContactHistory, Guardrails
from crmcore.marketing.local_time import DEFAULT_ZONE
from crmcore.marketing.triggers import DateTrigger, HolidayTrigger, InactivityTrigger
from crmcore.marketing.workflows import Workflow, WorkflowCatalog
from crmcore.ports import Store, UnitOfWork
from crmcore.services._checks import id_list, store_of
from crmcore.services.retry import DEFAULT_RETRY, RetryPolicy
from crmcore.services.retry import retry as run_retrying

__all__ = [
    "CampaignLaunch",
    "advance_automation",
    "enrol",
    "launch_campaign",
    "pause_workflow",
    "publish_workflow",
    "record_message_sent",
    "save_workflow",
]

# -- workflows ----------------------------------------------------------------------------------


def save_workflow(
    store: Store, workflow: Workflow, *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Outcome[Workflow]:
    """Store a new version of a workflow (or a new workflow).

    The version must be newer than every stored version of its id, and the stored workflows with
    it must hold together (no cycle of workflows entering each other): a
    [`ValidationError`][crmcore.kernel.errors.ValidationError] names what is wrong, and nothing is
    stored. Saving a version that is stored exactly so is a replay that writes nothing; a
    different workflow under a stored version is refused.
    """
    store = store_of(store)
    if not isinstance(workflow, Workflow):
        raise ValidationError("workflow", workflow, "must be a Workflow")

    def once() -> Outcome[Workflow]:
        with store.unit_of_work() as uow:
            stored = uow.workflows.find(workflow.id, workflow.version)
            if stored == workflow:
                return Outcome(stored)
            uow.workflows.all().with_version(workflow)
            saved = uow.workflows.add(workflow)
        return Outcome(saved)

    return run_retrying(once, retry)


def _activate(
    store: Store, workflow_id: str, active: bool, policy: RetryPolicy | None
) -> Outcome[Workflow]:
    def once() -> Outcome[Workflow]:
        with store.unit_of_work() as uow:
            latest = uow.workflows.latest(workflow_id)
            if latest.active is active:
                return Outcome(latest)
            copy = attrs.evolve(latest, version=latest.version + 1, active=active)
            uow.workflows.all().with_version(copy)
            saved = uow.workflows.add(copy)
        return Outcome(saved)

    return run_retrying(once, policy)


def publish_workflow(
    store: Store, workflow_id: str, *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Outcome[Workflow]:
    """Let the workflow take new enrolments: its newest version, if it is paused, is stored again
    as the next version, active. An active workflow is returned as it is."""
    store = store_of(store)
    return _activate(store, workflow_id, True, retry)


def pause_workflow(
    store: Store, workflow_id: str, *, retry: RetryPolicy | None = DEFAULT_RETRY
) -> Outcome[Workflow]:
    """Stop new enrolments (the running ones go on): the newest version is stored again as the
    next version, inactive. A paused workflow is returned as it is."""
    store = store_of(store)
    return _activate(store, workflow_id, False, retry)


# -- the automation run -------------------------------------------------------------------------


def _is_timed(catalog: WorkflowCatalog) -> bool:
    return any(
        w.active and isinstance(w.trigger, DateTrigger | HolidayTrigger | InactivityTrigger)
        for w in catalog
    )


def _run(
    uow: UnitOfWork,
    now: datetime,
    events: Sequence[DomainEvent],
    requests: Sequence[EnrolRequest],
    scope: Collection[str] | None,
    *,
    guardrails: Guardrails,
    suppression_lists: Mapping[str, Collection[str]] | None,
    default_zone: str,
) -> Advance:
    """One run of the engine inside ``uow``, and its results stored there (the enrolments and
    contact histories of the returned [`Advance`][crmcore.marketing.engine.Advance] as stored).

    ``scope=None`` is a full run: the customers of the events, the requests and the enrolments
    due take part (every customer, when a time trigger is active: they fire in ``(last run,
    now]``; those concerned by nothing else are judged on their stored flat record), and the
    run's ``now`` becomes the last run. Otherwise only the customers in
    ``scope`` (and those of the requests) take part, no time trigger fires and the last run
    stays.
    """
    last = uow.send_counts.last_run()
    counts = uow.send_counts.get()
    if last is not None and now < last:
        raise ValidationError("now", now, f"is before the last automation run ({last})")
    catalog = uow.workflows.all()
    wanted: set[str] = {r.customer_id for r in requests}
    wanted.update(who for who in map(customer_of, events) if who is not None)
    if scope is not None:
        wanted.update(scope)
    else:
        wanted.update(e.customer_id for e in uow.enrolments.due(now))
    customers = uow.customers.find_many(wanted)
    facts = [CustomerFacts.from_customer(c, now, default_zone=default_zone) for c in customers]
    known = {c.id for c in customers}
    if scope is None and _is_timed(catalog):
        # Everyone else is only looked at for time triggers: their flat records will do (the
        # latest consent per channel), read in bulk rather than decoded one by one.
        for record in uow.customers.to_frame().to_records():
            if record["id"] not in known:
                facts.append(CustomerFacts.from_record(record, now, default_zone=default_zone))
        known.update(f.customer_id for f in facts)
    result = advance(
        uow.enrolments.for_customers(known),
        [e for e in events if customer_of(e) in known],
        now,
        workflows=catalog,
        customers=facts,
        contacts=uow.contact_histories.for_customers(known),
        send_counts=counts,
        suppression_lists=suppression_lists,
        guardrails=guardrails,
        requests=requests,
        since=now if scope is not None else last,
    )
    enrolments = tuple(
        uow.enrolments.add(e) if e.version == 0 else uow.enrolments.save(e)
        for e in result.enrolments
    )
    contacts = tuple(
        uow.contact_histories.add(h) if h.version == 0 else uow.contact_histories.save(h)
        for h in result.contacts
    )
    uow.send_counts.save(result.send_counts, now if scope is None else last)
    uow.collect(*result.events)
    return attrs.evolve(result, enrolments=enrolments, contacts=contacts)


def advance_automation(
    store: Store,
    now: datetime,
    events: Iterable[DomainEvent] = (),
    *,
    requests: Iterable[EnrolRequest] = (),
    guardrails: Guardrails = DEFAULT_GUARDRAILS,
    suppression_lists: Mapping[str, Collection[str]] | None = None,
    default_zone: str = DEFAULT_ZONE,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Advance]:
    """Run every stored workflow up to ``now`` and store the result, in one unit of work.

    ``events`` are the domain events since the previous run (those the outbox relayed: they
    enrol, meet goals, change consent); ``requests`` are enrolments the host asks for. The
    returned [`Advance`][crmcore.marketing.engine.Advance] lists the intents due (written to the
    outbox, each with its idempotency key), the enrolments changed (as stored, at their new
    versions) and who was refused and why.
    Time triggers (birthdays, holidays, inactivity) fire in ``(previous run, now]`` (the first run
    looks back a day), for every stored customer. Customers' time zones come from their
    ``time_zone`` attribute, else ``default_zone``.

    Raises:
        ValidationError: ``now`` before the previous run, an event after ``now``, bad input.
        NotFoundError: an enrolment's workflow version is not stored.
    """
    store = store_of(store)
    instant = to_utc(now, "now")
    listed = items_of(events, "events", "domain events")
    asked = items_of(requests, "requests", "enrol requests")

    def once() -> Outcome[Advance]:
        with store.unit_of_work() as uow:
            result = _run(
                uow,
                instant,
                listed,
                asked,
                None,
                guardrails=guardrails,
                suppression_lists=suppression_lists,
                default_zone=default_zone,
            )
        return Outcome(result, result.events)

    return run_retrying(once, retry)


def enrol(
    store: Store,
    workflow_id: str,
    customer_ids: Iterable[str],
    at: datetime,
    *,
    guardrails: Guardrails = DEFAULT_GUARDRAILS,
    suppression_lists: Mapping[str, Collection[str]] | None = None,
    default_zone: str = DEFAULT_ZONE,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[Advance]:
    """Enrol customers in the newest version of ``workflow_id`` at ``at`` (a manual enrolment).

    The workflow's conditions, suppression lists and re-enrolment policy apply (its trigger does
    not); the refused are in the result's ``refusals``. The first steps due at ``at`` run at
    once: their intents are in the outbox when this returns. Only these customers take part (no
    time trigger fires), so the scheduler's next
    [`advance_automation()`][crmcore.services.marketing.advance_automation] is not disturbed.
    Enrolling the same customers at the same instant again enrols no one twice.
    """
    store = store_of(store)
    instant = to_utc(at, "at")
    who_asked = id_list(customer_ids, "customer_ids")
    asked = tuple(EnrolRequest(workflow_id, who, instant) for who in who_asked)

    def once() -> Outcome[Advance]:
        with store.unit_of_work() as uow:
            result = _run(
                uow,
                instant,
                (),
                asked,
                {r.customer_id for r in asked},
                guardrails=guardrails,
                suppression_lists=suppression_lists,
                default_zone=default_zone,
            )
        return Outcome(result, result.events)

    return run_retrying(once, retry)


def record_message_sent(
    store: Store,
    customer_id: str,
    channel: MarketingChannel | str,
    at: datetime,
    key: str,
    *,
    guardrails: Guardrails = DEFAULT_GUARDRAILS,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[ContactHistory]:
    """Record a message the host sent outside the workflows (a one-off, a transactional mail), so
    the frequency caps count it.

    ``key`` is its idempotency key: recording it again changes nothing. Messages older than the
    guardrails' longest cap window are dropped from the history on the way.
    """
    store = store_of(store)
    chosen = parse_channel(channel)
    instant = to_utc(at, "at")
    guardrails = instance_of(guardrails, Guardrails, "guardrails")

    def once() -> Outcome[ContactHistory]:
        with store.unit_of_work() as uow:
            held = uow.contact_histories.find(customer_id)
            history = ContactHistory(id=customer_id) if held is None else held
            if history.has(key):
                return Outcome(history)
            new = history.record(chosen, instant, key).pruned(instant - guardrails.retention)
            if held is None:
                saved = uow.contact_histories.add(new)
            else:
                saved = uow.contact_histories.save(new)
        return Outcome(saved)

    return run_retrying(once, retry)


# -- campaigns ----------------------------------------------------------------------------------


@attrs.frozen
class CampaignLaunch:
    """What [`launch_campaign()`][crmcore.services.marketing.launch_campaign] did: the campaign
    (with its usage charged), its audience (every targeted customer and group), the engine's run
    for the enrolled members and how many messages it sent."""

    campaign: Campaign
    audience: CampaignAudience
    run: Advance
    sent: int


def launch_campaign(
    store: Store,
    campaign_id: str,
    at: datetime,
    *,
    workflows: str | Mapping[str, str],
    with_logs: bool = False,
    guardrails: Guardrails = DEFAULT_GUARDRAILS,
    suppression_lists: Mapping[str, Collection[str]] | None = None,
    default_zone: str = DEFAULT_ZONE,
    retry: RetryPolicy | None = DEFAULT_RETRY,
) -> Outcome[CampaignLaunch]:
    """Start the stored campaign (if it is a draft or scheduled) and send it to its segment.

    The audience is the campaign's target over the stored customers at ``at``
    ([`campaign_audience()`][crmcore.marketing.campaign_audience.campaign_audience]: the same
    people, the same groups, in every run); the control group gets nothing. The treated members
    not yet enrolled are enrolled, as many as the budget allows (lowest assignment numbers
    first), in ``workflows``: one workflow id for every variant, or one per variant name. The
    messages the workflows send (consent, caps and quiet hours apply) are charged to the
    campaign's budget, in the same unit of work. Launching again later reaches the members not
    reached yet (new ones, or those the budget left out); at the same instant it changes
    nothing. ``with_logs`` loads the purchase and interaction logs, for a target rule that
    counts purchases or events in a window.

    Raises:
        IllegalTransitionError: the campaign is paused, completed or cancelled.
        NotFoundError: the campaign, or a variant's workflow, is not stored.
        ValidationError: a variant without a workflow, bad input.
    """
    store = store_of(store)
    instant = to_utc(at, "at")
    with_logs = boolean(with_logs, "with_logs")

    def once() -> Outcome[CampaignLaunch]:
        with store.unit_of_work() as uow:
            campaign = uow.campaigns.get(campaign_id)
            events: list[DomainEvent] = []
            if campaign.status is CampaignStatus.DRAFT:
                campaign = _moved(campaign.schedule(instant), events)
            if campaign.status is CampaignStatus.SCHEDULED:
                campaign = _moved(campaign.start(instant), events)
            if campaign.status is not CampaignStatus.RUNNING:
                raise IllegalTransitionError(
                    campaign.status, CampaignStatus.RUNNING, "only a running campaign is sent"
                )
            uow.collect(*events)
            chosen = _variant_workflows(campaign, workflows)
            for workflow_id in set(chosen.values()):
                uow.workflows.latest(workflow_id)
            audience = campaign_audience(
                campaign,
                uow.customers.to_frame(),
                instant,
                transactions=uow.purchases.to_log() if with_logs else None,
                events=uow.interactions.to_log() if with_logs else None,
            )
            reached = {
                (e.workflow_id, e.customer_id)
                for workflow_id in set(chosen.values())
                for e in uow.enrolments.of_workflow(workflow_id)
            }
            waiting = [
                (who, variant)
                for who, variant in audience.send_list()
                if (chosen[variant], who) not in reached
            ]
            picked = waiting[: campaign.allowance(len(waiting))]
            asked = [EnrolRequest(chosen[variant], who, instant) for who, variant in picked]
            run = _run(
                uow,
                instant,
                (),
                asked,
                {r.customer_id for r in asked},
                guardrails=guardrails,
                suppression_lists=suppression_lists,
                default_zone=default_zone,
            )
            ids = set(chosen.values())
            sent = sum(
                1 for a in run.actions if isinstance(a, SendMessageIntent) and a.workflow_id in ids
            )
            charged: list[DomainEvent] = []
            if sent:
                campaign = _moved(campaign.record_usage(instant, messages=sent), charged)
            uow.collect(*charged)
            stored = uow.campaigns.save(campaign) if events or charged else campaign
        written = (*events, *run.events, *charged)
        return Outcome(CampaignLaunch(stored, audience, run, sent), written)

    return run_retrying(once, retry)


def _moved(outcome: Outcome[Campaign], events: list[DomainEvent]) -> Campaign:
    events.extend(outcome.events)
    return outcome.value


def _variant_workflows(campaign: Campaign, workflows: str | Mapping[str, str]) -> dict[str, str]:
    names = [v.name for v in campaign.split.variants]
    if isinstance(workflows, str):
        return dict.fromkeys(names, workflows)
    if not isinstance(workflows, Mapping):
        raise ValidationError("workflows", workflows, "must be a workflow id or variant -> id")
    missing = [name for name in names if name not in workflows]
    if missing:
        raise ValidationError("workflows", dict(workflows), f"has no workflow for {missing}")
    return {name: workflows[name] for name in names}
