"""The dry run: who would get what in the next days, for a whole customer frame, vectorised.

[`dry_run()`][crmcore.marketing.dry_run.dry_run] plays every workflow of a catalog over a
[`CustomerFrame`][crmcore.columnar.CustomerFrame] from ``start`` for ``horizon`` and returns a
[`DryRun`][crmcore.marketing.dry_run.DryRun]: every message (sent, suppressed and why, held by quiet
hours), every other action, every enrolment, and counts per workflow and step. A million customers
and ten workflows take seconds (``benchmarks/bench_automation.py``): there is no loop over
customers, only over workflows, steps and zones.

It is the engine's rules on arrays, and answers what [`advance()`][crmcore.marketing.engine.advance]
would, per customer, with no enrolments yet, each customer's facts taken from the frame as of
``start`` (``CustomerFacts.from_record(row, start)``), called for ``now = start + horizon`` with
``since = start`` and ``max_lateness=None`` (a scheduler that keeps up), given:

* ``triggered``: per workflow, a mask of customers the host enrols at ``start`` (an
  [`EnrolRequest`][crmcore.marketing.enrolments.EnrolRequest] each): what an event-triggered
  workflow would do if those customers' events arrived now;
* ``churn_risk``: a risk score per customer (`ChurnRisk.risk` of
  [`churn_risk()`][crmcore.analytics.churn.churn_risk]): a churn warning at ``start`` for every
  [`ChurnRiskTrigger`][crmcore.marketing.triggers.ChurnRiskTrigger] whose level it reaches;
* time triggers (birthdays, holidays, inactivity) fire by themselves from the frame's columns.

A differential test checks the agreement customer by customer. Two things the dry run does not
do: it reads no events, so goals met by events never convert (goal rules do), and it reports rather
than applies global send limits: [`DryRun.limit_overruns`][crmcore.marketing.dry_run.DryRun] lists
the windows where the planned messages exceed a limit (the engine would hold the excess back).

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> import numpy as np
    >>> from crmcore.columnar import CustomerFrame
    >>> from crmcore.customers import Customer
    >>> from crmcore.marketing.steps import SendMessage, Wait
    >>> from crmcore.marketing.triggers import SegmentTrigger
    >>> from crmcore.marketing.workflows import Workflow, WorkflowCatalog
    >>> t = datetime(2026, 5, 4, 9, tzinfo=UTC)
    >>> people = [Customer.register(f"c-{i}", "Ann", t).value for i in range(4)]
    >>> people = [p.grant_consent("email", t).value if i % 2 == 0 else p
    ...           for i, p in enumerate(people)]
    >>> frame = CustomerFrame.from_customers(people)
    >>> vip = Workflow(id="vip", version=1, name="VIP", trigger=SegmentTrigger("vip"),
    ...                steps=[SendMessage("hi", channel="email", template="vip-1"),
    ...                       Wait("later", timedelta(days=2)),
    ...                       SendMessage("again", channel="email", template="vip-2")])
    >>> plan = dry_run(WorkflowCatalog([vip]), frame, t, triggered={"vip": np.ones(4, bool)})
    >>> plan.counts()["vip"]["steps"]["again"]
    {'reached': 4, 'sent': 2, 'no_consent': 2, 'frequency_cap': 0, 'deferred': 0, 'done': 0}
    >>> plan.who("vip", "again")
    ['c-0', 'c-2']
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs
import numpy as np

from crmcore.columnar import CustomerFrame
from crmcore.columnar.arguments import float_column
from crmcore.customers.records import MarketingChannel
from crmcore.kernel.arrays import AnyArray, BoolArray, Float64Array, Int64Array, read_only
from crmcore.kernel.clock import from_micros, shifted, to_micros, to_utc
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.reports import fmt_datetime, html_table
from crmcore.kernel.validators import choice
from crmcore.marketing._simulation import OUTCOMES, Attempts, Rows, Simulation
from crmcore.marketing.guardrails import DEFAULT_GUARDRAILS, Guardrails
from crmcore.marketing.local_time import DEFAULT_ZONE, TIME_ZONE_ATTRIBUTE, check_zone
from crmcore.marketing.local_time_batch import NONE, ZoneTable
from crmcore.marketing.steps import check_slug
from crmcore.marketing.triggers import (
    ChurnRiskTrigger,
    DateTrigger,
    HolidayTrigger,
    InactivityTrigger,
)
from crmcore.marketing.workflows import WorkflowCatalog
from crmcore.segments.evaluate_batch import MaskEvaluator

__all__ = ["OUTCOMES", "DryRun", "dry_run"]


def _zones(frame: CustomerFrame, default: str) -> tuple[tuple[str, ...], Int64Array]:
    name = f"attr.{TIME_ZONE_ATTRIBUTE}"
    n = len(frame)
    if name not in frame:
        return (default,), np.zeros(n, dtype=np.int64)
    column = frame.column(name)
    if column.kind == "category":
        names, codes = list(column.categories), np.asarray(column.codes, dtype=np.int64)
    elif column.kind == "string" and column.vocabulary is not None:
        names = [str(v) for v in column.vocabulary]
        codes = np.asarray(column.codes, dtype=np.int64)
    elif column.kind == "string":
        unique, codes = np.unique(column.values, return_inverse=True)
        names, codes = [str(v) for v in unique], codes.astype(np.int64)
    else:
        raise ValidationError(
            name, column.kind, "must be a string or category column of zone names"
        )
    missing = np.asarray(column.missing) | (codes < 0)
    names = [default if v == "" else v for v in names]
    for value in names:
        check_zone(value, "attributes.time_zone")
    zones = tuple(dict.fromkeys([default, *names]))
    remap = np.array([zones.index(v) for v in names], dtype=np.int64)
    out = np.where(missing, 0, remap[np.clip(codes, 0, None)] if len(remap) else 0)
    return zones, out.astype(np.int64)


def _flag(frame: CustomerFrame, name: str) -> BoolArray:
    if name not in frame:
        return np.zeros(len(frame), dtype=bool)
    column = frame.column(name)
    flags: BoolArray = np.asarray(column.values, dtype=bool) & ~np.asarray(column.missing)
    return flags


def _members(frame: CustomerFrame, ids: Collection[str]) -> BoolArray:
    wanted = np.array(sorted(ids), dtype=frame.ids.dtype) if ids else None
    if wanted is None:
        return np.zeros(len(frame), dtype=bool)
    out: BoolArray = np.isin(frame.ids, wanted)
    return out


@attrs.frozen(eq=False)
class DryRun:
    """What the workflows would do over the horizon
    (see [`dry_run()`][crmcore.marketing.dry_run.dry_run]).

    ``rows`` are columns of one row per message or action: ``customer`` (frame row),
    ``workflow`` (index in ``workflows``), ``step`` (index in that workflow's steps), ``at`` and
    ``until`` (int64 microseconds; ``until`` set for held messages), ``outcome`` (index in
    ``OUTCOMES``: sent, no_consent, frequency_cap, deferred, done). ``runs`` are the enrolments:
    customer, workflow, run, start and end (NONE while still open at the end).
    """

    start: datetime
    end: datetime
    ids: AnyArray = attrs.field(repr=False)
    workflows: tuple[str, ...]
    steps: tuple[tuple[str, ...], ...]
    rows: Mapping[str, Int64Array] = attrs.field(repr=False)
    runs: Mapping[str, Int64Array] = attrs.field(repr=False)
    reached: Mapping[tuple[int, str], int] = attrs.field(repr=False)
    limit_overruns: Mapping[str, tuple[tuple[datetime, int], ...]]

    def _workflow(self, workflow_id: str) -> int:
        if not isinstance(workflow_id, str) or workflow_id not in self.workflows:
            raise ValidationError("workflow", workflow_id, "is not a workflow of the dry run")
        return self.workflows.index(workflow_id)

    def who(self, workflow_id: str, step_id: str | None = None, outcome: str = "sent") -> list[str]:
        """Customer ids with a row of ``outcome`` at ``step_id`` (any step if ``None``), sorted."""
        w = self._workflow(workflow_id)
        outcome = choice(outcome, "outcome", OUTCOMES)
        keep = (self.rows["workflow"] == w) & (self.rows["outcome"] == OUTCOMES.index(outcome))
        if step_id is not None:
            if not isinstance(step_id, str) or step_id not in self.steps[w]:
                raise ValidationError("step", step_id, f"is not a step of {workflow_id}")
            keep &= self.rows["step"] == self.steps[w].index(step_id)
        rows = np.unique(self.rows["customer"][keep])
        return [str(v) for v in self.ids[rows]]

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per workflow: runs ``enrolled``, ``completed`` and still ``open`` at the end; per step:
        ``reached`` and one count per outcome."""
        out: dict[str, dict[str, Any]] = {}
        for w, workflow_id in enumerate(self.workflows):
            mine = self.runs["workflow"] == w
            ended = self.runs["end"][mine] != NONE
            steps: dict[str, dict[str, int]] = {}
            for s, step_id in enumerate(self.steps[w]):
                at = (self.rows["workflow"] == w) & (self.rows["step"] == s)
                per = np.bincount(self.rows["outcome"][at], minlength=len(OUTCOMES))
                steps[step_id] = {
                    "reached": self.reached.get((w, step_id), 0),
                    **{name: int(per[i]) for i, name in enumerate(OUTCOMES)},
                }
            out[workflow_id] = {
                "enrolled": int(mine.sum()),
                "completed": int(ended.sum()),
                "open": int((~ended).sum()),
                "steps": steps,
            }
        return out

    def to_dict(self) -> dict[str, object]:
        """The counts, the horizon and the limit overruns as JSON-compatible data."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "workflows": self.counts(),
            "limit_overruns": {
                label: [[t.isoformat(), n] for t, n in windows]
                for label, windows in self.limit_overruns.items()
            },
        }

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame: customer id, workflow, step, at, outcome, until."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "DryRun.to_pandas()") from None

        def times(values: Int64Array) -> Any:
            shown = np.where(values == NONE, np.iinfo(np.int64).min, values)
            return pd.to_datetime(shown.astype("datetime64[us]"), utc=True)

        rows = self.rows
        names = np.array(self.workflows, dtype=object)
        return pd.DataFrame(
            {
                "customer_id": self.ids[rows["customer"]].astype(object),
                "workflow": names[rows["workflow"]] if len(names) else [],
                "step": [
                    self.steps[w][s] for w, s in zip(rows["workflow"], rows["step"], strict=True)
                ],
                "at": times(rows["at"]),
                "outcome": np.array(OUTCOMES, dtype=object)[rows["outcome"]],
                "until": times(rows["until"]),
            }
        )

    def _repr_html_(self) -> str:
        table = []
        for workflow_id, data in self.counts().items():
            for step_id, c in data["steps"].items():
                table.append([workflow_id, step_id, c["reached"], c["sent"], c["no_consent"],
                              c["frequency_cap"], c["deferred"], c["done"]])  # fmt: skip
        top = max((r[2] for r in table), default=0)
        return html_table(
            f"Dry run {fmt_datetime(self.start)} to {fmt_datetime(self.end)}",
            ["workflow", "step", "reached", "sent", "no consent", "capped", "held", "done"],
            table,
            bars={2: float(top)},
        )


def dry_run(
    workflows: WorkflowCatalog,
    frame: CustomerFrame,
    start: datetime,
    horizon: timedelta = timedelta(days=7),
    *,
    guardrails: Guardrails = DEFAULT_GUARDRAILS,
    triggered: Mapping[str, BoolArray] | None = None,
    churn_risk: Float64Array | None = None,
    suppression_lists: Mapping[str, Collection[str]] | None = None,
    default_time_zone: str = DEFAULT_ZONE,
) -> DryRun:
    """Play ``workflows`` over ``frame`` from ``start`` for ``horizon`` (module docstring).

    Args:
        workflows: the catalog (the newest version of each workflow enrols).
        frame: the customers; consent is their ``consent_<channel>`` column, the zone their
            ``attr.time_zone`` column (else ``default_time_zone``).
        start: the first instant (aware); rules are evaluated as of it.
        horizon: how far ahead (positive, at most 400 days).
        guardrails: caps and quiet hours apply; send limits are reported.
        triggered: workflow id -> mask of customers enrolled at ``start`` by request.
        churn_risk: risk scores in frame order, for churn-risk triggers.
        suppression_lists: members of each suppression list.
        default_time_zone: the zone of customers whose record names none.

    Raises:
        ValidationError: a bad argument (naming it).
        RuleTypeError: a rule of a workflow does not fit the frame's columns.
    """
    if not isinstance(workflows, WorkflowCatalog):
        raise ValidationError("workflows", workflows, "must be a WorkflowCatalog")
    if not isinstance(frame, CustomerFrame):
        raise ValidationError("frame", frame, "must be a CustomerFrame")
    if not isinstance(guardrails, Guardrails):
        raise ValidationError("guardrails", guardrails, "must be Guardrails")
    if not isinstance(horizon, timedelta) or not timedelta(0) < horizon <= timedelta(days=400):
        raise ValidationError(
            "horizon", horizon, "must be a positive timedelta of at most 400 days"
        )
    begin = to_utc(start, "start")
    # The zone table reaches 10 days past the horizon and 2 before the start.
    shifted(begin, horizon + timedelta(days=10), "start")
    shifted(begin, -timedelta(days=2), "start")
    n = len(frame)
    start_us, end_us = to_micros(begin), to_micros(begin + horizon)
    masks = _requests(triggered, workflows, n)
    risk = _risk(churn_risk, n)
    zones, codes = _zones(frame, check_zone(default_time_zone, "default_time_zone"))
    first = (begin - timedelta(days=2)).date()
    table = ZoneTable(zones, first, (begin + horizon + timedelta(days=10)).date())
    evaluator = MaskEvaluator(frame, begin)
    rules = {id(rule): evaluator.mask(rule) for w in workflows for _field, rule in w.rules()}
    lists = {
        name: _members(frame, members) for name, members in _suppression(suppression_lists).items()
    }
    erased = _flag(frame, "erased")
    sim = Simulation(
        start_us=start_us,
        end_us=end_us,
        table=table,
        zones=codes,
        consent={ch: _flag(frame, f"consent_{ch.value}") for ch in MarketingChannel},
        masks=rules,
        guardrails=guardrails,
        columns={
            name: frame.column(name).values
            for name in frame.names
            if frame.column(name).kind in ("date", "datetime")
        },
    )
    ids = workflows.ids
    for workflow_id in workflows.entry_order:
        workflow = workflows.latest(workflow_id)
        rank = ids.index(workflow_id)
        attempts = sim.entries.setdefault(workflow_id, Attempts())
        if not workflow.active:
            continue
        ok = ~erased
        for name in workflow.suppression_lists:
            ok &= ~lists.get(name, np.zeros(n, dtype=bool))
        for _field, rule in workflow.rules():
            if _field == "conditions":
                ok &= sim.mask(rule)
            elif _field == "goal.rule":
                ok &= ~sim.mask(rule)
        at_start = np.full(n, start_us, dtype=np.int64)
        zero = np.zeros(n, dtype=np.int64)
        trigger = workflow.trigger
        if isinstance(trigger, ChurnRiskTrigger) and risk is not None:
            fired = np.flatnonzero(risk >= trigger.level)
            attempts.add(fired, at_start[fired], 0, zero[fired], zero[fired])
        if workflow_id in masks:
            asked = np.flatnonzero(masks[workflow_id])
            attempts.add(asked, at_start[asked], 1, zero[asked], zero[asked])
        if isinstance(trigger, DateTrigger | HolidayTrigger | InactivityTrigger):
            cust, at = sim.occurrences(trigger)
            attempts.add(cust, at, 2, np.zeros(len(cust), np.int64), np.zeros(len(cust), np.int64))
        sim.run_workflow(workflow, rank, attempts, ok)
    sim.apply_caps()
    rows = Rows.joined(sim.rows.cols)
    order = np.lexsort((rows["step"], rows["workflow"], rows["at"], rows["customer"]))
    runs = Rows.joined(sim.rows.runs)
    return DryRun(
        start=begin,
        end=begin + horizon,
        ids=frame.ids,
        workflows=ids,
        steps=tuple(tuple(s.id for s in workflows.latest(k).steps) for k in ids),
        rows={k: read_only(v[order]) for k, v in rows.items()},
        runs={k: read_only(v) for k, v in runs.items()},
        reached=dict(sim.reached),
        limit_overruns=_overruns(sim, guardrails),
    )


def _requests(
    triggered: Mapping[str, BoolArray] | None, workflows: WorkflowCatalog, n: int
) -> dict[str, BoolArray]:
    if triggered is None:
        return {}
    if not isinstance(triggered, Mapping):
        raise ValidationError("triggered", triggered, "must map workflow ids to masks")
    out: dict[str, BoolArray] = {}
    for key, value in triggered.items():
        check_slug(key, "triggered")
        if key not in workflows:
            raise ValidationError(f"triggered.{key}", key, "is not a workflow of the catalog")
        array = np.asarray(value)
        if array.dtype != bool or array.shape != (n,):
            raise ValidationError(f"triggered.{key}", value, f"must be a bool mask of {n} rows")
        out[key] = array
    return out


def _risk(value: Float64Array | None, n: int) -> Float64Array | None:
    if value is None:
        return None
    array = float_column(value, "churn_risk")
    if array.shape != (n,):
        raise ValidationError("churn_risk", value, f"must hold one score per customer ({n})")
    return array


def _suppression(value: Mapping[str, Collection[str]] | None) -> dict[str, Collection[str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("suppression_lists", value, "must map list names to customer ids")
    for name, members in value.items():
        check_slug(name, "suppression_lists")
        if isinstance(members, str) or not isinstance(members, Collection):
            raise ValidationError(f"suppression_lists.{name}", members, "must be customer ids")
    return dict(value)


def _overruns(
    sim: Simulation, guardrails: Guardrails
) -> dict[str, tuple[tuple[datetime, int], ...]]:
    sent = sim.sent
    out: dict[str, tuple[tuple[datetime, int], ...]] = {}
    channels = list(MarketingChannel)
    for limit in guardrails.send_limits:
        if sent is None:
            out[limit.label] = ()
            continue
        cover = (
            np.ones(len(sent["at"]), dtype=bool)
            if limit.channel is None
            else sent["channel"] == channels.index(limit.channel)
        )
        size = limit.window // timedelta(microseconds=1)
        windows, counts = np.unique(sent["at"][cover] // size, return_counts=True)
        over = counts > limit.limit
        out[limit.label] = tuple(
            (from_micros(int(w) * size), int(c))
            for w, c in zip(windows[over], counts[over], strict=True)
        )
    return out
