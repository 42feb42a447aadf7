"""Funnel analytics: how many customers reach each step, how fast, per segment and cohort.

A funnel is a sequence of at least two *steps*; a step matches events by
funnel stage (a [`Stage`][crmcore.kernel.stage.Stage], against the event's
``stage``) or by event kind (a ``str``, against its ``kind``). Three paths
compute the same report ([`FunnelReport`][crmcore.funnel.analytics.FunnelReport]):

* [`funnel_report()`][crmcore.funnel.analytics.funnel_report] over an
  [`EventLog`][crmcore.columnar.EventLog], vectorised with numpy (no Python loop per customer or per
  event), with [`funnel_breakdown()`][crmcore.funnel.analytics.funnel_breakdown] per category,
  segment or entry cohort and [`funnel_customers()`][crmcore.funnel.analytics.funnel_customers] for
  who reached what;
* [`funnel_report_python()`][crmcore.funnel.analytics.funnel_report_python], a plain per-customer
  implementation over ``(customer_id, what, at)`` tuples: the reference the tests hold the
  vectorised path to, number for number;
* [`funnel_report_from_positions()`][crmcore.funnel.analytics.funnel_report_from_positions] over
  [`FunnelPosition`][crmcore.funnel.position.FunnelPosition] objects.

**Two ways of counting** (``counting=``, see
[`FunnelCounting`][crmcore.funnel._steps.FunnelCounting]); the paths within an attempt, the
window, the modes, the ties and the exclusions below are the same for both:

* ``"trials"`` (the default): Mixpanel's funnel trials. A customer's attempts
  are a chain of trials that do not overlap: a repeated step-1 event inside
  an open trial neither restarts it nor moves its window.
* ``"max_step"``: the sliding-window maximum of ClickHouse's ``windowFunnel``,
  PostHog's funnels and Pinot's ``FunnelMaxStep``. Every instant with a
  step-1 event starts a chain of its own, with its own window, and the
  customer counts at the furthest step any chain reaches (ties to the
  latest start). It never counts fewer customers at a step than
  ``"trials"``, and on logs with repeated step-1 events it counts more: in
  Mixpanel's example below (A 1pm, A 1:30, B 1:45, C 2:15, a one-hour
  window) the chain from the 1:30 A reaches C.

**The rules**, made exact:

**Stream order.** A customer's events are taken in time order. Events at the
same instant are taken in funnel order (by the first step each matches;
events matching no step last), then in log order. PostHog replays every
permutation of a tie and keeps the furthest result, the "most generous"
rule; ordering ties by step gives that result for funnels whose steps are
distinct, and needs no replay. The log may come in any row order: it is
sorted internally with a stable sort (``assume_sorted=True`` skips the sort
for a log grouped by customer and time-ordered, and checks that cheaply,
naming the first row out of order).

**Trials and the window** (Mixpanel's "funnel trial"). A trial starts at a
customer's first step-1 event (in ``"any"`` mode: first event of any step).
Step *k* counts only if it happens within ``window`` of the trial's start,
inclusive (PostHog's ``<=``). A repeated step-1 event inside an open trial
neither restarts it nor resets its window: Mixpanel's example, steps A, B, C
with a one-hour window and events A 1pm, A 1:30, B 1:45, C 2:15, converts to
B but not to C. After a trial closes, the next step-1 event starts a new
one (Mixpanel's re-entry): a trial closes when its window ends (the next
trial starts strictly after ``start + window``), when a strict trial is
interrupted (the next trial may start at that very instant), or when an
exclusion hits it (the next one starts strictly after the excluding
event). ``window=None`` means one trial per customer, with no time limit.
Counting ``"max_step"``, every instant with a step-1 event (``"any"``: with
an event of any step) starts an attempt of its own, with its own window,
and there is no re-entry to decide.

**Steps within a trial**, by ``mode``:

* ``"ordered"`` (the default): step *k* is the first event after step
  *k-1*'s event that matches step *k*; other events may happen in between.
  One event satisfies at most one step (so ``A, A`` needs two A events).
* ``"strict"``: the trial advances instant by instant through *all* of the
  customer's events in the log (filter the log first to strict-check
  against a narrower stream). At each later instant it takes the next step,
  and every further step that same instant provides; if the instant has no
  event of the next step but repeats the current step (a double submit, a
  reloaded page), it stays where it is; otherwise the trial is interrupted
  there. Events at the same instant as a step never interrupt it (like
  PostHog, which skips the strict check for simultaneous events), and an
  instant after the window has closed ends the trial without interrupting.
* ``"any"``: the steps in any order; a step counts at its first event in
  the window, and report step *k* means "any *k* of the steps" (PostHog's
  unordered funnel, Mixpanel's "any order"). Here one event may satisfy
  several steps if it matches several (say a kind and a stage); a step may
  not be listed twice.

**Exclusions** ([`Exclusion`][crmcore.funnel.analytics.Exclusion]): a trial is excluded when an
excluded event happens strictly after its step ``after`` and strictly before its step ``before``,
or, if it never reached ``before``, while it was still open (within the window; for a strict trial,
up to and including the instant that interrupted it). Exclusions are judged on the path above.

**Each customer counts once**, with the trial that reached the furthest
step, ties to the earliest (PostHog keeps the furthest path per person);
counting ``"max_step"``, with the attempt that reached the furthest step,
ties to the latest.
Excluded trials are discarded; a customer whose every trial was excluded
is in no step and is counted in `FunnelReport.excluded` (PostHog's
exclusion drop). Step-to-step conversion is reach *k* / reach *k-1*,
overall conversion reach *k* / reach 1, drop-off its complement (PostHog's
metric note). Time to convert into step *k* is step *k*'s instant minus
step *k-1*'s on the chosen trial, summarised by mean and the 25th, 50th
(median), 75th and 90th percentiles (linear interpolation, numpy's default).

Examples:
    >>> from datetime import datetime, timedelta, UTC
    >>> t = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)
    >>> events = [("ann", "A", t), ("ann", "A", t + timedelta(minutes=30)),
    ...           ("ann", "B", t + timedelta(minutes=45)), ("ann", "C", t + timedelta(minutes=75))]
    >>> funnel_report_python(events, ["A", "B", "C"], window=timedelta(hours=1)).counts
    (1, 1, 0)
    >>> funnel_report_python(events, ["A", "B", "C"], window=timedelta(hours=1),
    ...                      counting="max_step").counts
    (1, 1, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from crmcore.columnar import CustomerFrame, EventLog
from crmcore.funnel._engine import Outcomes, check_customer_time_order, outcomes, signature_dtype
from crmcore.funnel._reference import customer_outcome
from crmcore.funnel._report import (
    ConversionTime,
    FunnelBreakdown,
    FunnelCustomers,
    FunnelReport,
    FunnelStepStats,
    TimeStat,
    aggregate,
    aggregate_python,
    group_report,
)
from crmcore.funnel._steps import (
    DEFAULT_WINDOW,
    Exclusion,
    FunnelCounting,
    FunnelMode,
    FunnelStep,
    Matcher,
    Plan,
    plan,
)
from crmcore.kernel.arrays import BoolArray, Int64Array, UIntArray
from crmcore.kernel.clock import DAY_US, to_micros
from crmcore.kernel.errors import NotFoundError, ValidationError
from crmcore.kernel.stage import Stage
from crmcore.kernel.validators import boolean, items_of

__all__ = [
    "DEFAULT_WINDOW",
    "ConversionTime",
    "EventWhat",
    "Exclusion",
    "FunnelBreakdown",
    "FunnelCounting",
    "FunnelCustomers",
    "FunnelMode",
    "FunnelReport",
    "FunnelStep",
    "FunnelStepStats",
    "PositionLike",
    "TimeStat",
    "funnel_breakdown",
    "funnel_customers",
    "funnel_report",
    "funnel_report_from_positions",
    "funnel_report_python",
]


EventWhat = str | Stage | tuple[str, Stage]
"""What an event is in [`funnel_report_python()`][crmcore.funnel.analytics.funnel_report_python]: an
event kind, a stage entered, or both (an event of that kind that also places the customer at the
stage).
"""


# ---------------------------------------------------------------------------------------
# The vectorised path
# ---------------------------------------------------------------------------------------


def _log_signatures(log: EventLog, funnel: Plan, allow_unseen_kinds: bool) -> UIntArray:
    """Each event's bit mask of the steps (bits 0..K-1) and exclusions (K..) it matches.

    Two small lookup tables, by kind code and by stage code, so the log is
    read once per column whatever the number of steps; the masks come in
    the narrowest unsigned dtype that holds them.
    """
    kind = log["kind"]
    stage = log["stage"]
    kind_codes = kind.values
    seen = np.bincount(kind_codes, minlength=len(kind.categories)) > 0
    funnel.check_kinds({c for c, s in zip(kind.categories, seen.tolist(), strict=True) if s},
                       allow_unseen_kinds)  # fmt: skip
    dtype = signature_dtype(funnel)
    by_kind = np.zeros(len(kind.categories) + 1, dtype=dtype)
    by_stage = np.zeros(len(stage.categories) + 1, dtype=dtype)  # last slot: code -1, no stage
    for bit, matcher in enumerate(funnel.matchers + funnel.exclusion_matchers):
        column, table = (kind, by_kind) if matcher.column == "kind" else (stage, by_stage)
        code = column.code_of(matcher.value)
        if code is not None:
            table[code] |= dtype(1) << dtype(bit)
    sig: UIntArray = by_kind[kind_codes]
    if by_stage.any():
        sig |= by_stage[stage.values]
    return sig


def _check_log(log: object) -> EventLog:
    if not isinstance(log, EventLog):
        raise ValidationError("log", type(log).__name__, "must be an EventLog")
    return log


def _run(
    log: EventLog,
    steps: Sequence[FunnelStep],
    window: timedelta | None,
    mode: FunnelMode,
    exclusions: Sequence[Exclusion],
    assume_sorted: bool,
    allow_unseen_kinds: bool,
    counting: FunnelCounting,
) -> tuple[Plan, Outcomes]:
    funnel = plan(steps, window, mode, exclusions, counting)
    log = _check_log(log)
    sig = _log_signatures(log, funnel, allow_unseen_kinds)
    codes = log.customer_codes
    at_us = log.at.view(np.int64)
    if boolean(assume_sorted, "assume_sorted"):
        check_customer_time_order(codes, at_us, log.customer_ids)
    return funnel, outcomes(codes, at_us, sig, funnel, grouped=assume_sorted)


def _present(log: EventLog) -> BoolArray:
    """For each code of the log's customer vocabulary: does the customer have an event."""
    return np.bincount(log.customer_codes, minlength=len(log.customer_ids)) > 0


def funnel_report(
    log: EventLog,
    steps: Sequence[FunnelStep],
    *,
    window: timedelta | None = DEFAULT_WINDOW,
    mode: FunnelMode = "ordered",
    exclusions: Sequence[Exclusion] = (),
    counting: FunnelCounting = "trials",
    assume_sorted: bool = False,
    allow_unseen_kinds: bool = False,
) -> FunnelReport:
    """The funnel report of ``steps`` over an event log (vectorised; see the module docs).

    ``window`` (default 14 days, PostHog's; ``None`` for no limit) bounds
    how long after entering step 1 a step still counts; ``mode`` is
    ``"ordered"``, ``"strict"`` or ``"any"``; ``counting`` is ``"trials"``
    (Mixpanel's) or ``"max_step"`` (ClickHouse ``windowFunnel``, PostHog).
    A kind step that no event has
    raises [`ValidationError`][crmcore.kernel.errors.ValidationError] naming the step (a typo
    would silently count zero) unless ``allow_unseen_kinds``; stage steps
    never do. Rows may be in any order (``assume_sorted`` skips the sort for
    a log grouped by customer and time-ordered, and checks it).

    Examples:
        >>> from datetime import datetime, UTC
        >>> from crmcore.columnar import EventLog
        >>> t = datetime(2026, 1, 5, tzinfo=UTC)
        >>> log = EventLog.from_records([
        ...     {"customer_id": "a", "at": t, "kind": "visit"},
        ...     {"customer_id": "a", "at": t + timedelta(days=1), "kind": "signup"},
        ...     {"customer_id": "b", "at": t, "kind": "visit"},
        ... ])
        >>> report = funnel_report(log, ["visit", "signup"])
        >>> report.counts, report.conversion
        ((2, 1), 0.5)
    """
    funnel, result = _run(
        log, steps, window, mode, exclusions, assume_sorted, allow_unseen_kinds, counting
    )
    customers = np.array([int(_present(log).sum())], dtype=np.int64)
    counts = aggregate(
        result.reached, result.times_us, np.zeros(len(result.reached), np.int64), customers,
        funnel.size,
    )  # fmt: skip
    return group_report(funnel, counts, 0)


def funnel_customers(
    log: EventLog,
    steps: Sequence[FunnelStep],
    *,
    window: timedelta | None = DEFAULT_WINDOW,
    mode: FunnelMode = "ordered",
    exclusions: Sequence[Exclusion] = (),
    counting: FunnelCounting = "trials",
    assume_sorted: bool = False,
    allow_unseen_kinds: bool = False,
) -> FunnelCustomers:
    """Each customer's outcome in the funnel (the rows behind
    [`funnel_report()`][crmcore.funnel.analytics.funnel_report])."""
    funnel, result = _run(
        log, steps, window, mode, exclusions, assume_sorted, allow_unseen_kinds, counting
    )
    done = np.arange(funnel.size)[None, :] < result.reached[:, None]
    step_at = np.where(done, result.times_us, np.iinfo(np.int64).min).view("datetime64[us]")
    return FunnelCustomers(
        customer_ids=log.customer_ids[result.customers],
        reached=result.reached,
        excluded=result.excluded,
        entered_at=result.entry_us.view("datetime64[us]"),
        step_at=step_at,
    )


# ---------------------------------------------------------------------------------------
# Breakdowns
# ---------------------------------------------------------------------------------------


def _frame_rows(log: EventLog, frame: object) -> Int64Array:
    """The frame row of each customer code of the log; every customer must be in the frame."""
    if not isinstance(frame, CustomerFrame):
        raise ValidationError("frame", type(frame).__name__, "must be a CustomerFrame")
    rows = np.full(len(log.customer_ids), -1, dtype=np.int64)
    rows[log.customer_codes] = log.with_customer_index(frame)
    missing = _present(log) & (rows < 0)
    if missing.any():
        who = str(log.customer_ids[int(np.argmax(missing))])
        raise ValidationError(
            "frame",
            who,
            "has no row for this customer of the event log; filter the log first "
            "(log.filter(log.with_customer_index(frame) >= 0))",
        )
    return rows


def _column_groups(frame: CustomerFrame, by: str) -> tuple[Int64Array, list[str | None]]:
    """Group id of each frame row and the group keys (``None``: missing value)."""
    try:
        column = frame.column(by)
    except NotFoundError:
        raise ValidationError("by", by, "is not a column of the frame") from None
    missing = column.missing
    if column.kind == "category":
        codes = column.values.astype(np.int64)
        keys: list[str | None] = list(column.categories)
    elif column.kind == "string":
        labels, inverse = np.unique(column.values[~missing], return_inverse=True)
        codes = np.zeros(len(column), dtype=np.int64)
        codes[~missing] = inverse
        keys = [str(v) for v in labels.tolist()]
    elif column.kind == "bool":
        codes = column.values.astype(np.int64)
        keys = ["false", "true"]
    else:
        raise ValidationError(
            "by", by, f"is a {column.kind} column; break down by a category, string or bool "
            "column (bin numbers or dates into a category first)",
        )  # fmt: skip
    codes = np.where(missing, len(keys), codes)
    return codes, [*keys, None]


def _by_groups(
    funnel: Plan,
    result: Outcomes,
    group_of_code: Int64Array,
    present: BoolArray,
    keys: Sequence[str | None],
    by: str,
) -> FunnelBreakdown:
    """Reports for groups given per customer code (``-1``: in no group); empty groups dropped."""
    n_groups = len(keys)
    members = group_of_code[present]
    customers = np.bincount(members[members >= 0], minlength=n_groups).astype(np.int64)
    counts = aggregate(
        result.reached, result.times_us, group_of_code[result.customers], customers, funnel.size
    )
    return FunnelBreakdown(
        by,
        tuple((keys[g], group_report(funnel, counts, g)) for g in range(n_groups) if customers[g]),
    )


def _cohorts(result: Outcomes, period: str) -> tuple[Int64Array, list[str | None]]:
    """Group of each outcome row by the UTC week (ISO, from Monday) or month of entry."""
    if period == "week":
        days = result.entry_us // DAY_US
        start = days - (days + 3) % 7  # 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays
        labels, group = np.unique(start, return_inverse=True)
        keys: list[str | None] = []
        for monday in labels.tolist():
            year, week, _ = (date(1970, 1, 1) + timedelta(days=monday)).isocalendar()
            keys.append(f"{year}-W{week:02d}")
        return group.astype(np.int64), keys
    months = result.entry_us.view("datetime64[us]").astype("datetime64[M]")
    labels, group = np.unique(months, return_inverse=True)
    return group.astype(np.int64), [str(m) for m in labels]


def funnel_breakdown(
    log: EventLog,
    steps: Sequence[FunnelStep],
    *,
    by: str | None = None,
    frame: CustomerFrame | None = None,
    segments: Mapping[str, npt.ArrayLike] | None = None,
    cohort: Literal["week", "month"] | None = None,
    window: timedelta | None = DEFAULT_WINDOW,
    mode: FunnelMode = "ordered",
    exclusions: Sequence[Exclusion] = (),
    counting: FunnelCounting = "trials",
    assume_sorted: bool = False,
    allow_unseen_kinds: bool = False,
) -> FunnelBreakdown:
    """The funnel per group of customers: pass exactly one of ``by``, ``segments``, ``cohort``.

    * ``by="country", frame=frame``: one group per value of a category,
      string or bool column of ``frame`` (key ``None``: missing value).
      Events are matched to frame rows by customer id
      (`with_customer_index()`); every
      customer of the log must be in the frame.
    * ``segments={"vip": mask, ...}, frame=frame``: one group per boolean
      mask over the frame's rows; segments may overlap.
    * ``cohort="week"`` or ``"month"``: customers grouped by when their
      chosen trial entered step 1 (UTC; ISO weeks, from Monday, keyed
      ``"2026-W02"``; months keyed ``"2026-01"``).

    Each group's report is exactly [`funnel_report()`][crmcore.funnel.analytics.funnel_report] over
    that group's customers. Groups without customers are left out.
    """
    chosen = [
        name
        for name, v in (("by", by), ("segments", segments), ("cohort", cohort))
        if v is not None
    ]
    if len(chosen) != 1:
        raise ValidationError(
            "by", chosen, "pass exactly one of by=<column>, segments={name: mask} or cohort=..."
        )
    funnel, result = _run(
        log, steps, window, mode, exclusions, assume_sorted, allow_unseen_kinds, counting
    )
    present = _present(log)
    if cohort is not None:
        if cohort not in ("week", "month"):
            raise ValidationError("cohort", cohort, "must be 'week' or 'month'")
        group, keys = _cohorts(result, cohort)
        customers = np.bincount(group, minlength=len(keys)).astype(np.int64)
        counts = aggregate(result.reached, result.times_us, group, customers, funnel.size)
        return FunnelBreakdown(
            f"cohort:{cohort}",
            tuple((keys[g], group_report(funnel, counts, g)) for g in range(len(keys))),
        )
    rows = _frame_rows(log, frame)
    assert frame is not None  # checked by _frame_rows
    if by is not None:
        if not isinstance(by, str):
            raise ValidationError("by", by, "must be a column name")
        groups, keys = _column_groups(frame, by)
        group_of_code = np.where(rows >= 0, groups[np.maximum(rows, 0)], -1)
        return _by_groups(funnel, result, group_of_code, present, keys, by)
    assert segments is not None
    if not isinstance(segments, Mapping) or not segments:
        raise ValidationError("segments", segments, "must be a non-empty mapping of name to mask")
    reports: list[tuple[str | None, FunnelReport]] = []
    for name, mask in segments.items():
        if not isinstance(name, str):
            raise ValidationError("segments", name, "segment names must be str")
        inside = np.asarray(mask)
        if inside.dtype != np.bool_ or inside.shape != (len(frame),):
            raise ValidationError(
                f"segments[{name!r}]", inside.shape, f"must be a bool mask of length {len(frame)}"
            )
        group_of_code = np.where((rows >= 0) & inside[np.maximum(rows, 0)], 0, -1)
        part = _by_groups(funnel, result, group_of_code, present, [name], "segments")
        reports.append((name, part[name] if name in part else _empty(funnel)))
    return FunnelBreakdown("segments", tuple(reports))


def _empty(funnel: Plan) -> FunnelReport:
    return aggregate_python(funnel, 0, [])


# ---------------------------------------------------------------------------------------
# The per-customer reference path
# ---------------------------------------------------------------------------------------


def _signature(what: object, funnel: Plan, field: str) -> tuple[int, str | None]:
    """The step/exclusion bits an event matches, and its kind (if it has one)."""
    if isinstance(what, tuple) and len(what) == 2 and isinstance(what[1], Stage):
        kind, stage = what
    elif isinstance(what, Stage):
        kind, stage = None, what
    else:
        kind, stage = what, None
    if kind is not None and (not isinstance(kind, str) or not kind):
        raise ValidationError(
            field, what, "must be an event kind (str), a Stage, or a (kind, Stage) pair"
        )
    bits = 0
    for bit, matcher in enumerate(funnel.matchers + funnel.exclusion_matchers):
        if matcher == Matcher("kind", kind or "") or (
            stage is not None and matcher == Matcher("stage", stage.label)
        ):
            bits |= 1 << bit
    return bits, kind


def funnel_report_python(
    events: Iterable[tuple[str, EventWhat, datetime]],
    steps: Sequence[FunnelStep],
    window: timedelta | None = DEFAULT_WINDOW,
    mode: FunnelMode = "ordered",
    *,
    exclusions: Sequence[Exclusion] = (),
    counting: FunnelCounting = "trials",
    allow_unseen_kinds: bool = False,
) -> FunnelReport:
    """The same report as [`funnel_report()`][crmcore.funnel.analytics.funnel_report], computed
    customer by customer in plain Python.

    ``events`` are ``(customer_id, what, at)``: ``what`` is an event kind
    (``str``), a [`Stage`][crmcore.kernel.stage.Stage] entered, or a
    ``(kind, Stage)`` pair (what an [`EventLog`][crmcore.funnel.analytics.EventLog] row with a stage
    is); ``at`` is an aware datetime. Errors name the event (``events[3]``). Use it on small inputs,
    to audit a number, or as an executable definition.
    """
    funnel = plan(steps, window, mode, exclusions, counting)
    per_customer: dict[str, list[tuple[int, int]]] = {}
    kinds: set[str] = set()
    for i, event in enumerate(items_of(events, "events", "(customer_id, what, at) tuples")):
        if not isinstance(event, tuple) or len(event) != 3:
            raise ValidationError(f"events[{i}]", event, "must be a (customer_id, what, at) tuple")
        customer, what, at = event
        if not isinstance(customer, str) or not customer:
            raise ValidationError(
                f"events[{i}]", customer, "the customer id must be a non-empty str"
            )
        bits, kind = _signature(what, funnel, f"events[{i}]")
        if kind is not None:
            kinds.add(kind)
        per_customer.setdefault(customer, []).append((to_micros(at, f"events[{i}]"), bits))
    funnel.check_kinds(kinds, allow_unseen_kinds)
    results = []
    for rows in per_customer.values():
        outcome = customer_outcome(rows, funnel)
        if outcome is not None:
            results.append((outcome.reached, outcome.times_us))
    return aggregate_python(funnel, len(per_customer), results)


class PositionLike(Protocol):
    """What
    [`funnel_report_from_positions()`][crmcore.funnel.analytics.funnel_report_from_positions] reads
    from a funnel position."""

    @property
    def customer_id(self) -> str:
        """The customer the position belongs to."""
        ...

    @property
    def stage(self) -> Stage:
        """The current stage."""
        ...

    def entered_at(self, stage: Stage) -> datetime | None:
        """When ``stage`` was entered (skipped stages: the skip's instant), or ``None``."""
        ...


def funnel_report_from_positions(
    positions: Iterable[PositionLike],
    steps: Sequence[Stage] = tuple(Stage),
    window: timedelta | None = None,
) -> FunnelReport:
    """An ordered funnel over stages from per-customer funnel positions.

    A position reached step ``k`` if it reached step ``k-1``, entered step
    ``k``'s stage (``entered_at`` is not ``None``) no earlier than step
    ``k-1``'s, and, with a ``window``, within it of entering step 1. For a
    position moved only by its own rules (forward moves record skipped
    stages at the same instant), this is exactly
    [`funnel_report()`][crmcore.funnel.analytics.funnel_report] in ``"ordered"`` mode over an event
    log holding one event per stage entry.
    """
    funnel = plan(steps, window, "ordered")
    for i, step in enumerate(funnel.steps):
        if not isinstance(step, Stage):
            raise ValidationError(f"steps[{i}]", step, "a funnel over positions has Stage steps")
        if step in funnel.steps[:i]:
            raise ValidationError(f"steps[{i}]", step, "repeats an earlier stage")
    stages: tuple[Stage, ...] = tuple(s for s in funnel.steps if isinstance(s, Stage))
    seen: set[str] = set()
    results: list[tuple[int, list[int]]] = []
    for i, position in enumerate(items_of(positions, "positions", "funnel positions")):
        customer = getattr(position, "customer_id", None)
        if not isinstance(customer, str) or not callable(getattr(position, "entered_at", None)):
            raise ValidationError(
                f"positions[{i}]", position, "must be a funnel position (customer_id, entered_at)"
            )
        if customer in seen:
            raise ValidationError(
                f"positions[{i}]", customer, "is a second position for this customer"
            )
        seen.add(customer)
        times: list[int] = []
        for k, stage in enumerate(stages):
            at = position.entered_at(stage)
            if at is None:
                break
            us = to_micros(at, f"positions[{i}].entered_at({stage.label})")
            if k and (
                us < times[-1]
                or (funnel.window_us is not None and us - times[0] > funnel.window_us)
            ):
                break
            times.append(us)
        if times:
            results.append((len(times), times))
    return aggregate_python(funnel, len(seen), results)
