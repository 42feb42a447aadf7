"""Case metrics: inner-loop performance over closed-loop cases.

[`case_report()`][crmcore.feedback.case_metrics.case_report] gives first-response and resolution
times (overall and per priority), loop closure, reopen rate and SLA attainment;
[`sla_verdicts()`][crmcore.feedback.case_metrics.sla_verdicts] runs an SLA policy's business-hours
clocks to get the verdicts. Cases come as [`Case`][crmcore.feedback.cases.Case] objects, read as
they stood at a given time, or as [`CaseColumns`][crmcore.feedback.case_metrics.CaseColumns], the
columnar form every figure is computed from with numpy. The building blocks are
[`durations`][crmcore.feedback.durations] and [`rates`][crmcore.feedback.rates].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np
import numpy.typing as npt

from crmcore.feedback.cases import Case
from crmcore.feedback.durations import DurationStats, duration_rows, durations
from crmcore.feedback.rates import Rate, loop_closure_rate, reopen_rate, sla_attainment
from crmcore.feedback.sla import SlaMetric, SlaPolicy, SlaStatus, sla_status
from crmcore.feedback.vocabulary import CaseState, Priority
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array
from crmcore.kernel.clock import to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import html_table, records_frame
from crmcore.kernel.validators import instance_of, items_of

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CaseColumns",
    "CaseReport",
    "case_report",
    "sla_verdicts",
]


def _case_as_of(case: Case, as_of: datetime | None) -> Case | None:
    """The case as it stood at ``as_of`` (its history cut there); ``None`` if not yet opened."""
    if as_of is None:
        return case
    if case.opened_at > as_of:
        return None
    kept = tuple(c for c in case.history if c.at <= as_of)
    if len(kept) == len(case.history):
        return case
    state = kept[-1].to_state if kept else CaseState.NEW
    return attrs.evolve(case, history=kept, state=state)


@attrs.frozen(eq=False)
class CaseColumns:
    """Cases as columns, the input of the vectorised case metrics.

    ``opened``, ``first_response`` (first acknowledgement) and ``resolved``
    (the latest resolution, only while the case is resolved or closed) are
    ``datetime64[us]`` UTC, ``NaT`` where it has not happened; ``closed``,
    ``ever_resolved`` and ``reopened`` (at least once) are booleans;
    ``priority`` holds [`Priority`][crmcore.feedback.cases.Priority] values (1-4).
    """

    ids: AnyArray
    opened: AnyArray
    first_response: AnyArray
    resolved: AnyArray
    closed: BoolArray
    ever_resolved: BoolArray
    reopened: BoolArray
    priority: Int64Array

    def __attrs_post_init__(self) -> None:
        for name in (
            "ids", "opened", "first_response", "resolved", "closed", "ever_resolved", "reopened",
            "priority",
        ):  # fmt: skip
            column = getattr(self, name)
            if not isinstance(column, np.ndarray) or column.ndim != 1:
                raise ValidationError(name, _shown(column), "must be a 1-dimensional numpy array")
        if self.priority.dtype.kind not in "iu":
            raise ValidationError("priority", self.priority.dtype, "must be integers")
        n = len(self.ids)
        for name in ("opened", "first_response", "resolved"):
            if getattr(self, name).dtype != np.dtype("datetime64[us]"):
                raise ValidationError(name, getattr(self, name).dtype, "must be datetime64[us]")
        for name in ("closed", "ever_resolved", "reopened"):
            if getattr(self, name).dtype != np.bool_:
                raise ValidationError(name, getattr(self, name).dtype, "must be booleans")
        for name in (
            "opened", "first_response", "resolved", "closed", "ever_resolved", "reopened",
            "priority",
        ):  # fmt: skip
            if len(getattr(self, name)) != n:
                raise ValidationError(name, len(getattr(self, name)), f"must have {n} rows")
        if np.isnat(self.opened).any():
            raise ValidationError("opened", "NaT", "every case has an opening time")
        bad = (self.priority < 1) | (self.priority > len(Priority))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationError(f"priority[{i}]", int(self.priority[i]), "must lie in 1..4")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_cases(cls, cases: Iterable[Case], *, as_of: datetime | None = None) -> CaseColumns:
        """Columns of ``cases`` as they stood at ``as_of`` (default: as recorded).

        Cases opened after ``as_of`` are left out; later changes are ignored.
        """
        if isinstance(cases, str | bytes | Case) or not isinstance(cases, Iterable):
            raise ValidationError("cases", cases, "must be Case items")
        cut = None if as_of is None else to_utc(as_of, "as_of")
        rows: list[Case] = []
        for i, case in enumerate(cases):
            if not isinstance(case, Case):
                raise ValidationError(f"cases[{i}]", case, "must be a Case")
            seen = _case_as_of(case, cut)
            if seen is not None:
                rows.append(seen)

        def stamps(values: list[datetime | None]) -> AnyArray:
            us = [_NAT_US if v is None else to_micros(v) for v in values]
            return np.array(us, dtype=np.int64).view("datetime64[us]")

        return cls(
            ids=np.array([c.id for c in rows], dtype=object),
            opened=stamps([c.opened_at for c in rows]),
            first_response=stamps([c.acknowledged_at for c in rows]),
            resolved=stamps([c.resolved_at for c in rows]),
            closed=np.array([c.loop_closed for c in rows], dtype=bool),
            ever_resolved=np.array(
                [any(ch.to_state is CaseState.RESOLVED for ch in c.history) for c in rows],
                dtype=bool,
            ),
            reopened=np.array([c.reopen_count > 0 for c in rows], dtype=bool),
            priority=np.array([int(c.priority) for c in rows], dtype=np.int64),
        )


_NAT_US: Final = int(np.datetime64("NaT", "us").view(np.int64))


@attrs.frozen
class CaseReport:
    """Inner-loop performance over a set of cases.

    * ``first_response``: opened → first acknowledgement; ``resolution``:
      opened → latest resolution (for cases resolved or closed; reopened
      cases count as pending until resolved again). Calendar time, not
      business time: business-hours SLA clocks live in the SLA module, whose
      met/breached verdicts feed ``sla``.
    * ``loop_closure``: cases closed (which needs a verified, satisfied
      follow-up) / cases opened; ``reopen``: cases reopened at least once /
      cases ever resolved; ``sla``: SLA targets met / decided (``None``
      when no verdicts were given); ``sla_by_metric``: the same per metric
      (first response, resolution) when an SLA policy was given.
    * ``by_priority``: first-response and resolution statistics per priority.
    """

    cases: int
    open: int
    first_response: DurationStats
    resolution: DurationStats
    loop_closure: Rate
    reopen: Rate
    sla: Rate | None
    by_priority: tuple[tuple[str, DurationStats, DurationStats], ...]
    sla_by_metric: tuple[tuple[str, Rate], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-compatible data (durations in seconds)."""
        return {
            "cases": self.cases,
            "open": self.open,
            "first_response": self.first_response.to_dict(),
            "resolution": self.resolution.to_dict(),
            "loop_closure": self.loop_closure.to_dict(),
            "reopen": self.reopen.to_dict(),
            "sla": None if self.sla is None else self.sla.to_dict(),
            "sla_by_metric": {m: r.to_dict() for m, r in self.sla_by_metric},
            "by_priority": [
                {"priority": p, "first_response": f.to_dict(), "resolution": r.to_dict()}
                for p, f, r in self.by_priority
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row for all cases (``priority`` ``"all"``), then one per priority: the
        first-response and resolution statistics in seconds (``first_response_median_seconds``,
        ...)."""
        rows = [
            {
                "priority": label,
                **{f"first_response_{k}": v for k, v in first.to_dict().items() if k != "name"},
                **{f"resolution_{k}": v for k, v in resolved.to_dict().items() if k != "name"},
            }
            for label, first, resolved in (
                ("all", self.first_response, self.resolution),
                *self.by_priority,
            )
        ]
        return records_frame(rows, "CaseReport.to_pandas")

    def _repr_html_(self) -> str:
        def hours(v: float | None) -> float | None:
            return None if v is None else v / 3600

        rows: list[list[object]] = []
        for label, first, resolved in (
            ("all", self.first_response, self.resolution),
            *self.by_priority,
        ):
            rows.append(
                [
                    label,
                    first.count,
                    hours(first.median),
                    hours(first.p90),
                    resolved.count,
                    hours(resolved.median),
                    hours(resolved.p90),
                ]
            )
        sla = "-" if self.sla is None or self.sla.value is None else f"{self.sla.value:.1%}"
        closure = self.loop_closure.value
        reopen = self.reopen.value
        return html_table(
            f"Cases: {self.cases:,} ({self.open:,} open)",
            ["priority", "responded", "median (h)", "p90 (h)", "resolved", "median (h)", "p90 (h)"],
            rows,
            kinds=["auto", "int", "float", "float", "int", "float", "float"],
            caption=f"loop closure {'-' if closure is None else f'{closure:.1%}'}; "
            f"reopen rate {'-' if reopen is None else f'{reopen:.1%}'}; SLA attainment {sla}",
        )


def sla_verdicts(
    cases: Iterable[Case], policy: SlaPolicy, as_of: datetime
) -> dict[SlaMetric, tuple[bool | None, ...]]:
    """Each case's SLA verdict per metric as of ``as_of``: met, breached or ``None`` (running).

    One [`sla_status()`][crmcore.feedback.sla.sla_status] per case (business-hours
    clocks, paused while waiting on the customer); cases opened after
    ``as_of`` and metrics without a target for a case's priority are left out.
    """
    instant = to_utc(as_of, "as_of")
    instance_of(policy, SlaPolicy, "policy")
    out: dict[SlaMetric, list[bool | None]] = {m: [] for m in SlaMetric}
    for i, case in enumerate(items_of(cases, "cases", "Case items")):
        if not isinstance(case, Case):
            raise ValidationError(f"cases[{i}]", case, "must be a Case")
        if case.opened_at > instant:
            continue
        for clock in sla_status(case, policy, instant).clocks:
            verdict = {SlaStatus.MET: True, SlaStatus.BREACHED: False}.get(clock.status)
            out[clock.metric].append(verdict)
    return {m: tuple(v) for m, v in out.items()}


def case_report(
    cases: CaseColumns | Iterable[Case],
    *,
    as_of: datetime | None = None,
    sla_met: Sequence[bool | None] | npt.ArrayLike | None = None,
    sla_policy: SlaPolicy | None = None,
) -> CaseReport:
    """First-response and resolution times, loop closure, reopen rate and SLA attainment.

    ``cases`` are [`Case`][crmcore.feedback.cases.Case] objects (read as
    they stood at ``as_of``) or [`CaseColumns`][crmcore.feedback.case_metrics.CaseColumns]. SLA
    attainment comes from ``sla_policy`` (with Case objects and ``as_of``: every target of every
    case, via [`sla_verdicts()`][crmcore.feedback.case_metrics.sla_verdicts]) or from ``sla_met``,
    one verdict per target computed elsewhere (``True`` met, ``False`` breached, ``None`` still
    running; it need not align with the cases). Everything else is computed with numpy over the
    columns.
    """
    per_metric: list[tuple[str, Rate]] = []
    if sla_policy is not None:
        if sla_met is not None:
            raise ValidationError("sla_met", sla_met, "give sla_met or sla_policy, not both")
        if as_of is None or isinstance(cases, CaseColumns):
            raise ValidationError(
                "sla_policy", sla_policy, "needs Case objects and as_of (SLA clocks run to a time)"
            )
        cases = list(cases)
        by_metric = sla_verdicts(cases, sla_policy, as_of)
        sla_met = [v for metric in SlaMetric for v in by_metric[metric]]
        for metric in SlaMetric:
            flags = _verdicts(by_metric[metric])
            per_metric.append((metric.value, _attained(flags)))
    if isinstance(cases, CaseColumns):
        if as_of is not None:
            raise ValidationError("as_of", as_of, "applies to Case objects, not CaseColumns")
        columns = cases
    else:
        columns = CaseColumns.from_cases(cases, as_of=as_of)
    opened = columns.opened.view(np.int64)
    first = _elapsed(columns.first_response, opened)
    resolved = _elapsed(columns.resolved, opened)
    labels = np.array([Priority(int(p)).label for p in np.unique(columns.priority)], dtype=object)
    codes = np.searchsorted(np.unique(columns.priority), columns.priority).astype(np.int64)
    keys = tuple(str(v) for v in labels.tolist())
    by_first = duration_rows(first, codes, keys, "")
    by_resolved = duration_rows(resolved, codes, keys, "")
    sla: Rate | None = None
    if sla_met is not None:
        sla = _attained(_verdicts(sla_met))
    n = len(columns)
    return CaseReport(
        cases=n,
        open=int(n - columns.closed.sum()),
        first_response=durations(first, name="first response"),
        resolution=durations(resolved, name="resolution"),
        loop_closure=loop_closure_rate(n, int(columns.closed.sum())),
        reopen=reopen_rate(int(columns.ever_resolved.sum()), int(columns.reopened.sum())),
        sla=sla,
        by_priority=tuple(
            (key, attrs.evolve(f, name="first response"), attrs.evolve(r, name="resolution"))
            for key, f, r in zip(keys, by_first, by_resolved, strict=True)
        ),
        sla_by_metric=tuple(per_metric),
    )


def _attained(verdicts: Int64Array) -> Rate:
    met: BoolArray = verdicts == 1
    decided: BoolArray = verdicts >= 0
    return sla_attainment(met, decided=decided)


def _elapsed(ends: AnyArray, starts_us: Int64Array) -> Float64Array:
    """Seconds from start to end; NaN where the end is NaT."""
    missing = np.isnat(ends)
    out: Float64Array = (ends.view(np.int64) - starts_us).astype(np.float64) / 1e6
    out[missing] = np.nan
    return out


def _verdicts(values: object) -> Int64Array:
    """SLA verdicts as 1 (met), 0 (breached), -1 (undecided)."""
    if isinstance(values, np.ndarray) and values.dtype == np.bool_:
        return values.astype(np.int64)
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError("sla_met", values, "must be a sequence of True, False or None")
    out = []
    for i, v in enumerate(values):
        if v is None:
            out.append(-1)
        elif isinstance(v, bool | np.bool_):
            out.append(int(v))
        else:
            raise ValidationError(f"sla_met[{i}]", v, "must be True, False or None")
    return np.array(out, dtype=np.int64)


def _shown(value: object) -> object:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."
