"""SLA policies: targets per priority, business-time clocks, breaches and escalations.

An [`SlaPolicy`][crmcore.feedback.sla.SlaPolicy] sets, per case
[`Priority`][crmcore.feedback.cases.Priority], a target for each
[`SlaMetric`][crmcore.feedback.sla.SlaMetric] (PEERS.md §5.1, Zendesk: targets per priority
low/normal/high/urgent, measured in business hours or not):

* ``first_response``: from opening until the first ``acknowledge``; it
  counts while the case is ``new``.
* ``resolution``: it counts while the case is ``new``, ``acknowledged`` or
  ``in_progress``; it **pauses** while ``waiting_on_customer`` (Zendesk
  "agent work time" pauses on Pending), stops when the case is resolved, and
  runs again if the case reopens: the total over all working spells is
  measured against the one target (Zendesk "full resolution time").

Only business time counts: the policy's
[`BusinessCalendar`][crmcore.feedback.calendar.BusinessCalendar] (a 24/7 calendar when
none is given) decides. Everything is **computed on read** from the case's
history ([`sla_status()`][crmcore.feedback.sla.sla_status]), as of a time the caller passes, so
there is no timer to keep in sync and the answer for any past ``as_of`` is reproducible.

A clock's *due time* is the instant its business time reaches the target.
The metric is **breached** when it was not fulfilled by then (fulfilling it
later still counts as a breach, as in Zendesk); it is **met** when fulfilled
in time. The *about-to-breach* instant is where ``warn_at`` (a fraction,
default 0.75) of the target has elapsed. [`escalations()`][crmcore.feedback.sla.escalations] turns
the crossings of both thresholds that happened in a time window into ``sla.warning`` and
``sla.breached`` events, dated when they happened.

Properties (tested with hypothesis): the elapsed time never decreases as
``as_of`` grows; pausing never adds time (elapsed ≤ business time since
opening); a case handled entirely outside business hours has elapsed zero.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import attrs

from crmcore.feedback.calendar import BusinessCalendar
from crmcore.feedback.cases import Case
from crmcore.feedback.events import SlaBreached, SlaEvent, SlaWarning
from crmcore.feedback.vocabulary import CaseState, CaseTrigger, Priority
from crmcore.kernel.clock import to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.ids import validate_id
from crmcore.kernel.reports import fmt_datetime, html_table, json_number, records_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COUNTING_STATES",
    "MetricClock",
    "SlaMetric",
    "SlaPolicy",
    "SlaReport",
    "SlaStatus",
    "SlaTarget",
    "escalations",
    "sla_status",
]


class SlaMetric(enum.StrEnum):
    """What an SLA target measures."""

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class SlaStatus(enum.StrEnum):
    """Where a metric's clock stands as of a time."""

    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


COUNTING_STATES: Final[dict[SlaMetric, frozenset[CaseState]]] = {
    SlaMetric.FIRST_RESPONSE: frozenset({CaseState.NEW}),
    SlaMetric.RESOLUTION: frozenset({CaseState.NEW, CaseState.ACKNOWLEDGED, CaseState.IN_PROGRESS}),
}
"""The case states in which each metric's clock runs."""


def _target(value: object) -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError("target", value, "must be a positive timedelta or None")
    return value


def _target_priority(value: object) -> Priority:
    return Priority.parse(value, "target.priority")


@attrs.frozen
class SlaTarget:
    """The targets for one priority (``None``: that metric has no target)."""

    priority: Priority = attrs.field(converter=_target_priority)
    first_response: timedelta | None = attrs.field(default=None, converter=_target)
    resolution: timedelta | None = attrs.field(default=None, converter=_target)

    def of(self, metric: SlaMetric) -> timedelta | None:
        """The target for ``metric``."""
        return self.first_response if metric is SlaMetric.FIRST_RESPONSE else self.resolution


def _targets(value: object) -> tuple[SlaTarget, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("targets", value, "must be a sequence of SlaTarget")
    targets = tuple(value)
    for i, target in enumerate(targets):
        if not isinstance(target, SlaTarget):
            raise ValidationError(f"targets[{i}]", target, "must be an SlaTarget")
    priorities = [t.priority for t in targets]
    if len(set(priorities)) != len(priorities):
        raise ValidationError("targets", [p.label for p in priorities], "one target per priority")
    return tuple(sorted(targets, key=lambda t: t.priority))


def _calendar(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, BusinessCalendar):
        raise ValidationError("calendar", value, "must be a BusinessCalendar")


def _warn_at(_instance: object, _attribute: object, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value < 1
    ):
        raise ValidationError("warn_at", value, "must be a fraction strictly between 0 and 1")


def _escalate_to(value: object) -> str | None:
    return None if value is None else validate_id(value, "escalate_to")


def _policy_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 80:
        raise ValidationError("name", value, "must be a non-empty string of at most 80 characters")
    return value


@attrs.frozen(kw_only=True)
class SlaPolicy:
    """Targets per priority, measured in the business time of ``calendar``.

    ``warn_at`` is the fraction of a target at which the about-to-breach
    warning fires; ``escalate_to`` (a team id) is carried on the escalation
    events.

    Examples:
        >>> policy = SlaPolicy(name="support", targets=[
        ...     SlaTarget(
        ...         "urgent", first_response=timedelta(hours=1), resolution=timedelta(hours=8)
        ...     ),
        ...     SlaTarget("normal", first_response=timedelta(hours=8)),
        ... ])
        >>> policy.target("urgent", "resolution"), policy.target("normal", "resolution")
        (datetime.timedelta(seconds=28800), None)
    """

    name: str = attrs.field(converter=_policy_name)
    targets: tuple[SlaTarget, ...] = attrs.field(converter=_targets)
    calendar: BusinessCalendar = attrs.field(factory=BusinessCalendar.always, validator=_calendar)
    warn_at: float = attrs.field(default=0.75, validator=_warn_at)
    escalate_to: str | None = attrs.field(default=None, converter=_escalate_to)

    def target(self, priority: Priority | str, metric: SlaMetric | str) -> timedelta | None:
        """The target for ``metric`` at ``priority`` (``None`` when there is none)."""
        chosen = Priority.parse(priority)
        which = _metric(metric)
        for target in self.targets:
            if target.priority is chosen:
                return target.of(which)
        return None


def _metric(value: object) -> SlaMetric:
    if isinstance(value, SlaMetric):
        return value
    if isinstance(value, str) and value in SlaMetric._value2member_map_:
        return SlaMetric(value)
    raise ValidationError("metric", value, f"must be one of {', '.join(SlaMetric)}")


@attrs.frozen(kw_only=True)
class MetricClock:
    """One metric's clock as of a time.

    ``elapsed`` is the business time counted so far; ``time_to_breach`` is
    the business time left (zero once breached); ``due_at`` is when the
    target is (or was) reached: the crossing instant once it happened, else
    a projection from ``as_of`` if the clock is running (``None`` while
    paused or met); ``warn_at``/``breached_at`` are when the warning and the
    breach happened (``None`` if they have not); ``fulfilled_at`` is when the
    metric was fulfilled (first acknowledge; the resolution in force).
    """

    metric: SlaMetric
    target: timedelta
    elapsed: timedelta
    status: SlaStatus
    time_to_breach: timedelta
    due_at: datetime | None
    warn_at: datetime | None
    breached_at: datetime | None
    fulfilled_at: datetime | None

    @property
    def breached(self) -> bool:
        """Whether the target was missed."""
        return self.status is SlaStatus.BREACHED

    @property
    def used(self) -> float:
        """The fraction of the target used so far (may exceed 1 after a breach)."""
        return self.elapsed / self.target

    def to_dict(self) -> dict[str, object]:
        """JSON data: durations in seconds, instants as ISO 8601."""
        return {
            "metric": self.metric.value,
            "status": self.status.value,
            "target_seconds": json_number(self.target.total_seconds()),
            "elapsed_seconds": json_number(self.elapsed.total_seconds()),
            "time_to_breach_seconds": json_number(self.time_to_breach.total_seconds()),
            "used": json_number(self.used),
            "due_at": _iso(self.due_at),
            "warn_at": _iso(self.warn_at),
            "breached_at": _iso(self.breached_at),
            "fulfilled_at": _iso(self.fulfilled_at),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@attrs.frozen(kw_only=True)
class SlaReport:
    """The SLA clocks of one case as of a time (only metrics with a target are listed)."""

    case_id: str
    policy: str
    priority: Priority
    as_of: datetime
    clocks: tuple[MetricClock, ...]

    @property
    def breached(self) -> bool:
        """Whether any metric is breached."""
        return any(c.breached for c in self.clocks)

    def clock(self, metric: SlaMetric | str) -> MetricClock | None:
        """The clock of ``metric`` (``None`` when the policy sets no target for it)."""
        which = _metric(metric)
        return next((c for c in self.clocks if c.metric is which), None)

    def to_dict(self) -> dict[str, object]:
        """JSON data."""
        return {
            "case_id": self.case_id,
            "policy": self.policy,
            "priority": self.priority.label,
            "as_of": self.as_of.isoformat(),
            "breached": self.breached,
            "clocks": [c.to_dict() for c in self.clocks],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per metric's clock, with the columns of
        [`MetricClock.to_dict()`][crmcore.feedback.sla.MetricClock.to_dict]."""
        columns = ("metric", "status", "target_seconds", "elapsed_seconds",
                   "time_to_breach_seconds", "used", "due_at", "warn_at", "breached_at",
                   "fulfilled_at")  # fmt: skip
        return records_frame([c.to_dict() for c in self.clocks], "SlaReport.to_pandas", columns)

    def _repr_html_(self) -> str:
        rows = [
            [
                c.metric.value,
                c.status.value,
                c.target.total_seconds() / 3600,
                c.elapsed.total_seconds() / 3600,
                c.time_to_breach.total_seconds() / 3600,
                c.due_at,
            ]
            for c in self.clocks
        ]
        return html_table(
            f"SLA of case {self.case_id} ({self.policy}, {self.priority.label})",
            ["metric", "status", "target h", "elapsed h", "left h", "due"],
            rows,
            bars={3: max((c.target.total_seconds() / 3600 for c in self.clocks), default=0.0)},
            caption=f"as of {fmt_datetime(self.as_of)}; business hours only",
        )


def _spans(case: Case, metric: SlaMetric, as_of: datetime) -> list[tuple[datetime, datetime]]:
    counting = COUNTING_STATES[metric]
    return [(s, e) for state, s, e in case.segments(as_of) if state in counting]


def _fulfilled_at(case: Case, metric: SlaMetric, as_of: datetime) -> datetime | None:
    if metric is SlaMetric.FIRST_RESPONSE:
        first = next((c for c in case.history if c.trigger is CaseTrigger.ACKNOWLEDGE), None)
        return first.at if first is not None and first.at <= as_of else None
    state = CaseState.NEW
    resolved: datetime | None = None
    for change in case.history:
        if change.at > as_of:
            break
        state = change.to_state
        if change.trigger is CaseTrigger.RESOLVE:
            resolved = change.at
    return resolved if state in (CaseState.RESOLVED, CaseState.CLOSED) else None


def _crossing(
    calendar: BusinessCalendar, spans: list[tuple[datetime, datetime]], threshold: timedelta
) -> tuple[timedelta, datetime | None]:
    """The total business time of ``spans`` and the instant it reached ``threshold`` (if it did)."""
    total = timedelta(0)
    crossed: datetime | None = None
    for start, end in spans:
        part = calendar.business_time(start, end)
        if crossed is None and total + part >= threshold:
            crossed = calendar.add(start, threshold - total)
        total += part
    return total, crossed


def _clock(
    case: Case, policy: SlaPolicy, metric: SlaMetric, target: timedelta, as_of: datetime
) -> MetricClock:
    calendar = policy.calendar
    spans = _spans(case, metric, as_of)
    elapsed, crossed = _crossing(calendar, spans, target)
    _, warned = _crossing(calendar, spans, target * policy.warn_at)
    fulfilled = _fulfilled_at(case, metric, as_of)
    breached = crossed is not None and (fulfilled is None or crossed < fulfilled)
    if breached:
        status = SlaStatus.BREACHED
    elif fulfilled is not None:
        status = SlaStatus.MET
    elif case.state_at(as_of) in COUNTING_STATES[metric]:
        status = SlaStatus.RUNNING
    else:
        status = SlaStatus.PAUSED
    left = max(target - elapsed, timedelta(0)) if not breached else timedelta(0)
    if crossed is not None:
        due: datetime | None = crossed
    elif status is SlaStatus.RUNNING:
        due = calendar.add(as_of, left)
    else:
        due = None
    if fulfilled is not None and warned is not None and warned >= fulfilled:
        warned = None  # fulfilled exactly at the warning instant: no warning
    return MetricClock(
        metric=metric,
        target=target,
        elapsed=elapsed,
        status=status,
        time_to_breach=left,
        due_at=due,
        warn_at=warned,
        breached_at=crossed if breached else None,
        fulfilled_at=fulfilled,
    )


def _check(case: object, policy: object, as_of: object) -> tuple[Case, SlaPolicy, datetime]:
    if not isinstance(case, Case):
        raise ValidationError("case", case, "must be a Case")
    if not isinstance(policy, SlaPolicy):
        raise ValidationError("policy", policy, "must be an SlaPolicy")
    return case, policy, to_utc(as_of, "as_of")


def sla_status(case: Case, policy: SlaPolicy, as_of: datetime) -> SlaReport:
    """The SLA clocks of ``case`` under ``policy`` as of ``as_of``, from its history.

    Examples:
        >>> from datetime import UTC
        >>> t = datetime(2026, 3, 2, 9, tzinfo=UTC)
        >>> target = SlaTarget("normal", first_response=timedelta(hours=2))
        >>> policy = SlaPolicy(name="p", targets=[target])
        >>> case = Case.open("k1", "c1", t).value
        >>> clock = sla_status(case, policy, t + timedelta(hours=3)).clock("first_response")
        >>> clock.status, clock.breached_at
        (<SlaStatus.BREACHED: 'breached'>, datetime.datetime(2026, 3, 2, 11, 0, tzinfo=...))
    """
    case, policy, instant = _check(case, policy, as_of)
    clocks = []
    for metric in SlaMetric:
        target = policy.target(case.priority, metric)
        if target is not None:
            clocks.append(_clock(case, policy, metric, target, instant))
    return SlaReport(
        case_id=case.id,
        policy=policy.name,
        priority=case.priority,
        as_of=instant,
        clocks=tuple(clocks),
    )


def escalations(
    case: Case, policy: SlaPolicy, as_of: datetime, since: datetime | None = None
) -> tuple[DomainEvent, ...]:
    """The ``sla.warning`` and ``sla.breached`` events that happened in ``(since, as_of]``.

    Each is dated when its threshold was crossed, computed from the history;
    a scheduler that calls this with the previous ``as_of`` as ``since`` gets
    every escalation exactly once. ``since=None`` means from the beginning.
    """
    case, policy, instant = _check(case, policy, as_of)
    start = None if since is None else to_utc(since, "since")
    if start is not None and start > instant:
        raise ValidationError("since", since, "must not be after as_of")
    report = sla_status(case, policy, instant)
    events: list[SlaEvent] = []
    for clock in report.clocks:
        common = {
            "aggregate_id": case.id,
            "policy": policy.name,
            "metric": clock.metric.value,
            "priority": case.priority,
            "target_seconds": int(clock.target.total_seconds()),
            "escalate_to": policy.escalate_to,
        }
        if clock.warn_at is not None and (start is None or clock.warn_at > start):
            warned = clock.target * policy.warn_at
            events.append(
                SlaWarning(
                    occurred_at=clock.warn_at,
                    elapsed_seconds=int(warned.total_seconds()),
                    due_at=policy.calendar.add(clock.warn_at, clock.target - warned),
                    fraction=float(policy.warn_at),
                    **common,  # type: ignore[arg-type]
                )
            )
        if clock.breached_at is not None and (start is None or clock.breached_at > start):
            events.append(
                SlaBreached(
                    occurred_at=clock.breached_at,
                    elapsed_seconds=int(clock.target.total_seconds()),
                    due_at=clock.breached_at,
                    **common,  # type: ignore[arg-type]
                )
            )
    return tuple(sorted(events, key=lambda e: e.occurred_at))
