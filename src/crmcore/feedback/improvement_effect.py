"""Whether an improvement action worked: its themes before and after, over equal windows.

[`measure_effect()`][crmcore.feedback.improvement_effect.measure_effect] compares the addressed
themes before and after the action date (by default the day it was done) over two **equal** windows,
``[at - w, at)`` and ``[at, at + w)``: the themes' share of all feedback, the NPS and the CSAT of
the tagged feedback, each with its counts so a reader sees how much evidence there is. If ``as_of``
cuts the after window short, both windows shrink to the same length (``truncated`` says so). A
before / after difference is not proof of cause (seasonality, other changes); the counts and
intervals help judge it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs
import numpy as np

from crmcore.feedback.feedback import Feedback, FeedbackLog
from crmcore.feedback.feedback_metrics import feedback_log
from crmcore.feedback.improvement import ImprovementAction
from crmcore.feedback.survey_scores import CsatScore, NpsScore, score_from_histogram, z_value
from crmcore.journey.scores import Scale
from crmcore.kernel.arrays import BoolArray, Int64Array
from crmcore.kernel.clock import to_micros, to_utc
from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import fmt_datetime, html_table, json_number, records_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ActionEffect", "WindowMeasure", "measure_effect"]


@attrs.frozen
class WindowMeasure:
    """The addressed themes in one window ``[start, end)``.

    ``feedback`` counts all feedback in the window, ``tagged`` the feedback
    carrying any of the themes, ``share = tagged / feedback`` (``None``
    without feedback). ``nps``/``csat`` are the scores of the tagged
    feedback (``None`` without answers; their ``n`` is the evidence size).
    """

    start: datetime
    end: datetime
    feedback: int
    tagged: int
    share: float | None
    nps: NpsScore | None
    csat: CsatScore | None

    def to_dict(self) -> dict[str, object]:
        """The window as JSON-compatible data."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "feedback": self.feedback,
            "tagged": self.tagged,
            "share": json_number(self.share),
            "nps": None if self.nps is None else self.nps.to_dict(),
            "csat": None if self.csat is None else self.csat.to_dict(),
        }


def _diff(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


@attrs.frozen
class ActionEffect:
    """An action's themes before and after its date, over two equal windows (module docs).

    ``share_change`` is in shares (0..1), ``nps_change`` in NPS points,
    ``csat_change`` in percentage points; each is ``None`` when either
    window lacks the data.
    """

    action_id: str
    themes: tuple[str, ...]
    at: datetime
    window: timedelta
    truncated: bool
    before: WindowMeasure
    after: WindowMeasure

    @property
    def share_change(self) -> float | None:
        """After minus before: the themes' share of all feedback."""
        return _diff(self.after.share, self.before.share)

    @property
    def nps_change(self) -> float | None:
        """After minus before: the tagged feedback's NPS."""
        return _diff(
            None if self.after.nps is None else self.after.nps.value,
            None if self.before.nps is None else self.before.nps.value,
        )

    @property
    def csat_change(self) -> float | None:
        """After minus before: the tagged feedback's CSAT (% satisfied)."""
        return _diff(
            None if self.after.csat is None else self.after.csat.value,
            None if self.before.csat is None else self.before.csat.value,
        )

    def to_dict(self) -> dict[str, object]:
        """The effect as JSON-compatible data."""
        return {
            "action_id": self.action_id,
            "themes": list(self.themes),
            "at": self.at.isoformat(),
            "window_seconds": self.window.total_seconds(),
            "truncated": self.truncated,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "share_change": json_number(self.share_change),
            "nps_change": json_number(self.nps_change),
            "csat_change": json_number(self.csat_change),
        }

    def to_pandas(self) -> pd.DataFrame:
        """Two rows, ``window`` ``"before"`` and ``"after"``, with the columns of
        [`WindowMeasure.to_dict()`][crmcore.feedback.improvement_effect.WindowMeasure.to_dict]
        flattened (``nps_value``, ``csat_n``, ...)."""
        rows = [
            {"window": "before", **self.before.to_dict()},
            {"window": "after", **self.after.to_dict()},
        ]
        return records_frame(rows, "ActionEffect.to_pandas")

    def _repr_html_(self) -> str:
        def row(label: str, w: WindowMeasure) -> list[object]:
            return [
                label,
                w.feedback,
                w.tagged,
                w.share,
                None if w.nps is None else w.nps.value,
                0 if w.nps is None else w.nps.n,
                None if w.csat is None else w.csat.value,
                0 if w.csat is None else w.csat.n,
            ]

        header = ["window", "feedback", "tagged", "share", "NPS", "NPS n", "CSAT %", "CSAT n"]
        kinds = ["auto", "int", "int", "pct", "float", "int", "float", "int"]
        days = self.window.total_seconds() / 86400
        return html_table(
            f"Effect of {self.action_id} on {', '.join(self.themes)}",
            header,
            [row("before", self.before), row("after", self.after)],
            kinds=kinds,
            caption=f"two windows of {days:.1f} days around {fmt_datetime(self.at)}"
            + (" (shortened: after window reaches as_of)" if self.truncated else ""),
        )


def _window(
    log: FeedbackLog, tagged: BoolArray, us: Int64Array, start: datetime, end: datetime, z: float
) -> WindowMeasure:
    lo, hi = to_micros(start), to_micros(end)
    inside = (us >= lo) & (us < hi)
    hits = inside & tagged
    total, count = int(inside.sum()), int(hits.sum())
    scores: dict[Scale, NpsScore | CsatScore | None] = {}
    for scale in (Scale.NPS, Scale.CSAT):
        raw = log.scores[scale][hits]
        answers = raw[~np.isnan(raw)].astype(np.int64) - scale.low
        if len(answers):
            hist = np.bincount(answers, minlength=scale.high - scale.low + 1)
            result = score_from_histogram(scale, hist.tolist(), z, 0.95)
            assert isinstance(result, NpsScore | CsatScore)
            scores[scale] = result
        else:
            scores[scale] = None
    nps_score, csat_score = scores[Scale.NPS], scores[Scale.CSAT]
    assert nps_score is None or isinstance(nps_score, NpsScore)
    assert csat_score is None or isinstance(csat_score, CsatScore)
    return WindowMeasure(
        start=start,
        end=end,
        feedback=total,
        tagged=count,
        share=count / total if total else None,
        nps=nps_score,
        csat=csat_score,
    )


def measure_effect(
    action: ImprovementAction,
    feedback: FeedbackLog | Iterable[Feedback],
    *,
    as_of: datetime,
    window: timedelta = timedelta(days=28),
    at: datetime | None = None,
) -> ActionEffect:
    """The action's themes in ``[at - window, at)`` vs ``[at, at + window)`` (module docs).

    ``at`` defaults to the action's completion time; an action not done
    needs an explicit ``at`` (e.g. its start, for a gradual rollout).
    ``as_of`` is when the measurement is made: feedback after it is
    ignored, and if the after window would reach past it both windows
    shrink to ``as_of - at`` (``truncated``). Intervals are 95 %.
    """
    if not isinstance(action, ImprovementAction):
        raise ValidationError("action", action, "must be an ImprovementAction")
    log = feedback_log(feedback)
    now = to_utc(as_of, "as_of")
    if at is None:
        if action.done_at is None:
            raise ValidationError(
                "at", None, f"action {action.id!r} is {action.status.value}: pass at= explicitly"
            )
        pivot = action.done_at
    else:
        pivot = to_utc(at, "at")
    if not isinstance(window, timedelta) or window <= timedelta(0):
        raise ValidationError("window", window, "must be a positive timedelta")
    length = min(window, now - pivot)
    if length <= timedelta(0):
        raise ValidationError("as_of", now, f"must be after the action date {pivot.isoformat()}")
    us = log.at.view(np.int64)
    tagged = np.zeros(len(log), dtype=bool)
    wanted = [i for i, t in enumerate(log.themes) if t in action.themes]
    if wanted:
        hit = np.isin(log.theme_codes, wanted)
        tagged[log.theme_rows()[hit]] = True
    z = z_value(0.95)
    return ActionEffect(
        action_id=action.id,
        themes=action.themes,
        at=pivot,
        window=length,
        truncated=length < window,
        before=_window(log, tagged, us, pivot - length, pivot, z),
        after=_window(log, tagged, us, pivot, pivot + length, z),
    )
