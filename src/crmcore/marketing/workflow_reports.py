"""Workflow reports: enrolled, at each step, converted, suppressed by reason, per workflow and step.

[`workflow_report()`][crmcore.marketing.workflow_reports.workflow_report] reads stored enrolments
(their histories say everything) and counts, per workflow: runs enrolled, still open, completed,
converted (and the conversion rate), exited by reason; per step: how many runs reached it, how many
are there now, and what running it did (messages sent, suppressed by reason, held back, actions
done, branch answers, other workflows entered). Reports print, serialise (``to_dict``,
``to_pandas``) and render in Jupyter.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> from crmcore.marketing.enrolments import Enrolment
    >>> from crmcore.marketing.enrolment_machine import StepOutcome
    >>> from crmcore.marketing.steps import END, SendMessage
    >>> from crmcore.marketing.triggers import EventTrigger
    >>> from crmcore.marketing.workflows import Workflow
    >>> flow = Workflow(id="thanks", version=1, name="Thanks", trigger=EventTrigger("case.closed"),
    ...                 steps=[SendMessage("mail", channel="email", template="thanks")])
    >>> t = datetime(2026, 5, 4, tzinfo=UTC)
    >>> done = Enrolment.start(flow, "c-1", t).value.ran(t, StepOutcome.SENT, END).value
    >>> muted = Enrolment.start(flow, "c-2", t).value.ran(
    ...     t, StepOutcome.SUPPRESSED, END, reason="no_consent").value
    >>> report = workflow_report([done, muted])
    >>> summary = report.workflow("thanks")
    >>> summary.completed, summary.step("mail").sent, dict(summary.step("mail").suppressed)
    (2, 1, {'no_consent': 1})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from crmcore.kernel.errors import MissingDependencyError, NotFoundError, ValidationError
from crmcore.kernel.frozen import FrozenDict
from crmcore.kernel.reports import html_table, json_number
from crmcore.kernel.validators import instance_of, items_of
from crmcore.marketing.enrolment_machine import EnrolmentStatus, EnrolmentTrigger, StepOutcome
from crmcore.marketing.enrolments import Enrolment
from crmcore.marketing.workflows import WorkflowCatalog

__all__ = ["StepSummary", "WorkflowReport", "WorkflowSummary", "workflow_report"]

_RAN: frozenset[EnrolmentTrigger] = frozenset(
    {EnrolmentTrigger.RUN, EnrolmentTrigger.COMPLETE, EnrolmentTrigger.WAIT}
)


@attrs.frozen
class StepSummary:
    """One step of a workflow: runs that ``reached`` it, runs ``at_step`` now, and outcomes.

    ``outcomes`` counts [`StepOutcome`][crmcore.marketing.enrolment_machine.StepOutcome] values
    (a wait's end is ``done``); ``suppressed`` counts suppressed messages by reason; ``held``
    counts messages held back by reason (``quiet_hours``, ``send_limit``).
    """

    step: str
    reached: int
    at_step: int
    outcomes: FrozenDict[str, int]
    suppressed: FrozenDict[str, int]
    held: FrozenDict[str, int]

    @property
    def sent(self) -> int:
        """Messages sent at this step."""
        sent = self.outcomes.get(StepOutcome.SENT.value)
        return 0 if sent is None else sent

    def to_dict(self) -> dict[str, object]:
        """The summary as JSON-compatible data."""
        return {
            "step": self.step,
            "reached": self.reached,
            "at_step": self.at_step,
            "outcomes": dict(self.outcomes),
            "suppressed": dict(self.suppressed),
            "held": dict(self.held),
        }


@attrs.frozen
class WorkflowSummary:
    """One workflow (all its versions): runs by status, exits by reason, and its steps."""

    workflow: str
    enrolled: int
    open: int
    completed: int
    converted: int
    exited: FrozenDict[str, int]
    steps: tuple[StepSummary, ...]

    @property
    def conversion_rate(self) -> float | None:
        """Converted runs over enrolled runs (``None`` with no runs)."""
        return self.converted / self.enrolled if self.enrolled else None

    def step(self, step_id: str) -> StepSummary:
        """The summary of step ``step_id`` (NotFoundError if the runs never knew it)."""
        instance_of(step_id, str, "step_id", "a step id")
        for summary in self.steps:
            if summary.step == step_id:
                return summary
        raise NotFoundError(f"step of workflow {self.workflow}", step_id)

    def to_dict(self) -> dict[str, object]:
        """The summary as JSON-compatible data."""
        return {
            "workflow": self.workflow,
            "enrolled": self.enrolled,
            "open": self.open,
            "completed": self.completed,
            "converted": self.converted,
            "conversion_rate": json_number(self.conversion_rate),
            "exited": dict(self.exited),
            "steps": [s.to_dict() for s in self.steps],
        }


@attrs.frozen
class WorkflowReport:
    """The report of [`workflow_report()`][crmcore.marketing.workflow_reports.workflow_report]."""

    workflows: tuple[WorkflowSummary, ...]

    def workflow(self, workflow_id: str) -> WorkflowSummary:
        """The summary of ``workflow_id`` (NotFoundError if it has no runs and no definition)."""
        instance_of(workflow_id, str, "workflow_id", "a workflow id")
        for summary in self.workflows:
            if summary.workflow == workflow_id:
                return summary
        raise NotFoundError("workflow", workflow_id)

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-compatible data."""
        return {"workflows": [w.to_dict() for w in self.workflows]}

    def to_pandas(self) -> Any:
        """One row per workflow and step (pandas needed)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "WorkflowReport.to_pandas()") from None
        rows = [
            {
                "workflow": w.workflow,
                "step": s.step,
                "reached": s.reached,
                "at_step": s.at_step,
                "sent": s.sent,
                **{f"suppressed_{k}": v for k, v in s.suppressed.items()},
                **{f"held_{k}": v for k, v in s.held.items()},
            }
            for w in self.workflows
            for s in w.steps
        ]
        return pd.DataFrame(rows).fillna(0)

    def _repr_html_(self) -> str:
        rows: list[list[object]] = [
            [w.workflow, s.step, s.reached, s.at_step, s.sent, sum(s.suppressed.values()),
             sum(s.held.values())]
            for w in self.workflows
            for s in w.steps
        ]  # fmt: skip
        top = max((s.reached for w in self.workflows for s in w.steps), default=0)
        totals = ", ".join(
            f"{w.workflow}: {w.enrolled} enrolled, {w.converted} converted" for w in self.workflows
        )
        return html_table(
            "Workflows",
            ["workflow", "step", "reached", "at step", "sent", "suppressed", "held"],
            rows,
            bars={2: float(top)},
            caption=totals,
        )


def _frozen(counter: Mapping[str, int]) -> FrozenDict[str, int]:
    return FrozenDict(sorted(counter.items()))


def workflow_report(
    enrolments: Iterable[Enrolment], catalog: WorkflowCatalog | None = None
) -> WorkflowReport:
    """Count ``enrolments`` per workflow and step.

    With a ``catalog`` every workflow appears (also those without runs) and steps follow the
    newest version's order; otherwise steps appear in the order runs first reached them.
    """
    if catalog is not None and not isinstance(catalog, WorkflowCatalog):
        raise ValidationError("catalog", catalog, "must be a WorkflowCatalog or None")
    by_workflow: dict[str, list[Enrolment]] = {}
    for i, enrolment in enumerate(items_of(enrolments, "enrolments", "enrolments")):
        if not isinstance(enrolment, Enrolment):
            raise ValidationError(f"enrolments[{i}]", enrolment, "must be an Enrolment")
        by_workflow.setdefault(enrolment.workflow_id, []).append(enrolment)
    ids = sorted(set(by_workflow) | set(catalog.ids if catalog is not None else ()))
    summaries = []
    for workflow_id in ids:
        order = (
            [s.id for s in catalog.latest(workflow_id).steps]
            if catalog is not None and workflow_id in catalog
            else []
        )
        summaries.append(_summary(workflow_id, by_workflow.get(workflow_id, []), order))
    return WorkflowReport(tuple(summaries))


def _summary(workflow_id: str, runs: list[Enrolment], order: list[str]) -> WorkflowSummary:
    status = Counter(e.status for e in runs)
    exited: Counter[str] = Counter()
    reached: Counter[str] = Counter()
    at_step: Counter[str] = Counter()
    outcomes: dict[str, Counter[str]] = {}
    suppressed: dict[str, Counter[str]] = {}
    held: dict[str, Counter[str]] = {}
    steps = list(order)
    for enrolment in runs:
        if enrolment.status is EnrolmentStatus.EXITED:
            exited[enrolment.history[-1].reason or "unknown"] += 1
        if not enrolment.is_final and enrolment.step is not None:
            at_step[enrolment.step] += 1
        seen: set[str] = set()
        for change in enrolment.history:
            step = change.step
            if step is None:
                continue
            if step not in steps:
                steps.append(step)
            if change.trigger in _RAN and step not in seen:
                seen.add(step)
                reached[step] += 1
            if change.outcome is not None and change.trigger is not EnrolmentTrigger.CONVERT:
                outcomes.setdefault(step, Counter())[change.outcome.value] += 1
                if change.outcome is StepOutcome.SUPPRESSED:
                    suppressed.setdefault(step, Counter())[change.reason or "unknown"] += 1
            if change.trigger is EnrolmentTrigger.WAIT and change.reason in (
                "quiet_hours",
                "send_limit",
            ):
                held.setdefault(step, Counter())[change.reason] += 1
    return WorkflowSummary(
        workflow=workflow_id,
        enrolled=len(runs),
        open=status[EnrolmentStatus.ACTIVE] + status[EnrolmentStatus.WAITING],
        completed=status[EnrolmentStatus.COMPLETED],
        converted=status[EnrolmentStatus.CONVERTED],
        exited=_frozen(exited),
        steps=tuple(
            StepSummary(
                step=s,
                reached=reached[s],
                at_step=at_step[s],
                outcomes=_frozen(outcomes.get(s, Counter())),
                suppressed=_frozen(suppressed.get(s, Counter())),
                held=_frozen(held.get(s, Counter())),
            )
            for s in steps
        ),
    )
