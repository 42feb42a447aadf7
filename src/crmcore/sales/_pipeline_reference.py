"""The pipeline reports in plain Python, one opportunity at a time (the reference of the tests).

Each function follows the definitions written in the report modules literally, using only the
per-object queries of [`Opportunity`][crmcore.sales.opportunities.Opportunity] (``stage_at``,
``amount_at``, ``status_at``, ``close_date_at``, ``stage_periods``, ...), so that the vectorised
reports can be checked against it number for number. Amounts are whole minor units, weighted
amounts minor units x 1,000,000, times aware datetimes.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from crmcore.kernel.clock import DAY_US, to_micros
from crmcore.kernel.money import Money
from crmcore.sales._exact import PROBABILITY_SCALE
from crmcore.sales.opportunities import Opportunity
from crmcore.sales.pipeline import Pipeline
from crmcore.sales.pipeline_stages import ForecastCategory, StageKind

__all__ = [
    "aged",
    "conversion",
    "forecast_totals",
    "minor",
    "movement",
    "performance",
    "slipped",
    "snapshot",
    "velocity",
]

_OPEN = StageKind.OPEN


def minor(money: Money) -> int:
    """A Money as whole minor units (exact)."""
    return int(money.amount.scaleb(money.minor_units))


def _units(opportunity: Opportunity, pipeline: Pipeline, stage: str) -> int:
    chosen = opportunity.probability
    p = chosen if chosen is not None else pipeline.stage(stage).probability
    return int(p * PROBABILITY_SCALE)


def snapshot(
    opportunities: Sequence[Opportunity], pipeline: Pipeline, t: datetime
) -> dict[str, tuple[int, int, int]]:
    """Per open stage: (open deals, amount, weighted amount) as of ``t``."""
    out = {s.key: (0, 0, 0) for s in pipeline.open_stages}
    for o in opportunities:
        if o.status_at(t) is not _OPEN:
            continue
        stage = o.stage_at(t)
        amount = o.amount_at(t)
        assert stage is not None
        assert amount is not None
        count, total, weighted = out[stage]
        units = minor(amount)
        out[stage] = (count + 1, total + units, weighted + units * _units(o, pipeline, stage))
    return out


def _in(o: Opportunity, t: datetime, low: date | None, high: date | None) -> bool:
    if o.status_at(t) is not _OPEN:
        return False
    day = o.close_date_at(t)
    assert day is not None
    return (low is None or day >= low) and (high is None or day <= high)


def movement(
    opportunities: Sequence[Opportunity],
    pipeline: Pipeline,
    start: datetime,
    end: datetime,
    close_between: tuple[date, date] | None = None,
) -> dict[str, tuple[int, int]]:
    """The waterfall: ``start``, every flow, ``end``, advanced, moved_back, slipped, as
    (count, amount)."""
    low, high = close_between if close_between is not None else (None, None)
    names = ("new", "reopened", "pulled_in", "increased", "decreased", "won", "lost", "pushed_out")
    out = dict.fromkeys(("start", "end", *names, "advanced", "moved_back", "slipped"), (0, 0))

    def add(name: str, amount: int) -> None:
        count, total = out[name]
        out[name] = (count + 1, total + amount)

    for o in opportunities:
        if o.created_at > end:
            continue
        a1 = minor(o.amount_at(end))  # type: ignore[arg-type]
        in1 = _in(o, end, low, high)
        existed = o.created_at <= start
        in0 = existed and _in(o, start, low, high)
        a0 = minor(o.amount_at(start)) if existed else 0  # type: ignore[arg-type]
        status1 = o.status_at(end)
        status0 = o.status_at(start) if existed else None
        closed = _closed_at(o, end) if status1 is not _OPEN else None
        day1 = o.close_date_at(end)
        scoped1 = (
            day1 is not None and (low is None or day1 >= low) and (high is None or day1 <= high)
        )
        passing = (
            not in0
            and not in1
            and status1 is not _OPEN
            and closed is not None
            and start < closed <= end
            and scoped1
        )
        if in0:
            add("start", a0)
            if a1 > a0:
                add("increased", a1 - a0)
            elif a1 < a0:
                add("decreased", a0 - a1)
        if in1:
            add("end", a1)
        if (not in0 and in1) or passing:
            if not existed:
                add("new", a1)
            elif status0 is not _OPEN:
                add("reopened", a1)
            else:
                add("pulled_in", a1)
        if (in0 and not in1) or passing:
            name = {StageKind.WON: "won", StageKind.LOST: "lost"}.get(status1, "pushed_out")  # type: ignore[arg-type]
            add(name, a1)
        if in0 and in1:
            r0 = pipeline.open_rank(o.stage_at(start))  # type: ignore[arg-type]
            r1 = pipeline.open_rank(o.stage_at(end))  # type: ignore[arg-type]
            if r1 > r0:
                add("advanced", 0)
            elif r1 < r0:
                add("moved_back", 0)
            if o.close_date_at(end) > o.close_date_at(start):  # type: ignore[operator]
                add("slipped", a1)
    return out


def conversion(
    opportunities: Sequence[Opportunity], pipeline: Pipeline, t: datetime, start: datetime | None
) -> list[tuple[str, int, int, int, int]]:
    """Per open stage: (stage, reached, reached the next step, closed, won)."""
    k = len(pipeline.open_stages)
    reached, closed, won = [0] * (k + 1), [0] * (k + 1), [0] * (k + 1)
    for o in opportunities:
        if o.created_at > t or (start is not None and o.created_at <= start):
            continue
        ranks = [pipeline.open_rank(o.opened_stage)]
        ranks += [pipeline.open_rank(c.to_state) for c in o.stage_history if c.at <= t]
        furthest = max(ranks)
        status = o.status_at(t)
        for s in range(furthest + 1):
            reached[s] += 1
            closed[s] += status is not _OPEN
            won[s] += status is StageKind.WON
    stages = pipeline.open_stages
    return [
        (stage.key, reached[s], reached[s + 1], closed[s], won[s]) for s, stage in enumerate(stages)
    ]


def velocity(
    opportunities: Sequence[Opportunity], pipeline: Pipeline, t: datetime
) -> list[tuple[str, int, float | None, float | None, int, float | None]]:
    """Per open stage: (stage, ended stays, median days, mean days, deals there now, their median
    age in days)."""
    ended: dict[str, list[int]] = {s.key: [] for s in pipeline.open_stages}
    current: dict[str, list[int]] = {s.key: [] for s in pipeline.open_stages}
    now = to_micros(t)
    for o in opportunities:
        for period in o.stage_periods(t):
            if not pipeline.stage(period.stage).is_open:
                continue
            entered = to_micros(period.entered_at)
            if period.left_at is not None:
                ended[period.stage].append(to_micros(period.left_at) - entered)
            elif o.status_at(t) is _OPEN:
                current[period.stage].append(now - entered)
    out = []
    for stage in pipeline.open_stages:
        stays, here = ended[stage.key], current[stage.key]
        out.append(
            (
                stage.key,
                len(stays),
                statistics.median(stays) / DAY_US if stays else None,
                sum(stays) / len(stays) / DAY_US if stays else None,
                len(here),
                statistics.median(here) / DAY_US if here else None,
            )
        )
    return out


def _closed_at(o: Opportunity, t: datetime) -> datetime:
    return [c for c in o.stage_history if c.at <= t][-1].at


def performance(
    opportunities: Sequence[Opportunity],
    end: datetime,
    start: datetime | None = None,
    by: str | None = None,
) -> dict[str, tuple[int, int, int, int, float | None, float | None]]:
    """Per group: (won, lost, won amount, lost amount, median cycle days, mean cycle days)."""
    groups: dict[str, list[tuple[StageKind, int, int]]] = {}
    for o in opportunities:
        if o.created_at > end:
            continue
        status = o.status_at(end)
        if status is _OPEN:
            continue
        closed = _closed_at(o, end)
        if start is not None and closed <= start:
            continue
        label = {
            None: "all",
            "owner": o.owner,
            "source": o.source,
            "segment": o.segment,
            "account": o.account_id,
            "stage": o.stage_at(end),
        }[by] or "(none)"
        cycle = to_micros(closed) - to_micros(o.created_at)
        groups.setdefault(label, []).append((status, minor(o.amount_at(end)), cycle))  # type: ignore[arg-type]
    out = {}
    for label, rows in groups.items():
        won = [r for r in rows if r[0] is StageKind.WON]
        lost = [r for r in rows if r[0] is StageKind.LOST]
        cycles = [r[2] for r in won]
        out[label] = (
            len(won),
            len(lost),
            sum(r[1] for r in won),
            sum(r[1] for r in lost),
            statistics.median(cycles) / DAY_US if cycles else None,
            sum(cycles) / len(cycles) / DAY_US if cycles else None,
        )
    return out


def _open(o: Opportunity, t: datetime) -> bool:
    return o.created_at <= t and o.status_at(t) is _OPEN


def _by_amount(opportunities: list[Opportunity], t: datetime) -> list[str]:
    return [o.id for o in sorted(opportunities, key=lambda o: (-minor(o.amount_at(t)), o.id))]  # type: ignore[arg-type]


def slipped(
    opportunities: Sequence[Opportunity],
    t: datetime,
    *,
    since: datetime | None = None,
    min_slips: int = 1,
    include_overdue: bool = False,
) -> list[str]:
    """The ids of the open deals that slipped (or are overdue), largest amount first."""
    picked = []
    for o in opportunities:
        if not _open(o, t):
            continue
        pushes = [
            c
            for c in o.close_date_history
            if c.at <= t and c.slipped and (since is None or c.at > since)
        ]
        overdue = o.close_date_at(t) < t.date()  # type: ignore[operator]
        if len(pushes) >= min_slips or (include_overdue and overdue):
            picked.append(o)
    return _by_amount(picked, t)


def aged(
    opportunities: Sequence[Opportunity],
    t: datetime,
    *,
    older_than_days: int | None = None,
    in_stage_days: int | None = None,
) -> list[str]:
    """The ids of the open deals older than, or longer in their stage than, the limits."""
    picked = []
    for o in opportunities:
        if not _open(o, t):
            continue
        old = older_than_days is not None and t - o.created_at > timedelta(days=older_than_days)
        entered = o.stage_periods(t)[-1].entered_at
        stuck = in_stage_days is not None and t - entered > timedelta(days=in_stage_days)
        if old or stuck:
            picked.append(o)
    return _by_amount(picked, t)


def forecast_totals(
    opportunities: Sequence[Opportunity],
    pipeline: Pipeline,
    t: datetime,
    first: date,
    end: date,
    *,
    overdue_from: date | None = None,
) -> tuple[int, dict[ForecastCategory, int], Decimal, list[tuple[int, Decimal]]]:
    """For close dates in ``[first, end)``: closed won (minor units), open amount per category,
    the exact expected value (minor units), and the open deals as (amount, probability).

    ``overdue_from``: the first day of the forecast; open deals due before it count on it.
    """
    won = 0
    categories = dict.fromkeys(ForecastCategory, 0)
    deals: list[tuple[int, Decimal]] = []
    for o in opportunities:
        if o.created_at > t:
            continue
        status = o.status_at(t)
        amount = minor(o.amount_at(t))  # type: ignore[arg-type]
        if status is StageKind.WON:
            closed_day = _closed_at(o, t).date()
            if first <= closed_day < end:
                won += amount
            continue
        if status is not _OPEN:
            continue
        stage = pipeline.stage(o.stage_at(t))
        if stage.forecast_category is ForecastCategory.OMITTED:
            continue
        due = o.close_date_at(t)
        assert due is not None
        day = due
        if overdue_from is not None and day < overdue_from:
            day = overdue_from
        if first <= day < end:
            categories[stage.forecast_category] += amount
            p = o.probability if o.probability is not None else stage.probability
            deals.append((amount, p))
    expected = Decimal(won) + sum((Decimal(a) * p for a, p in deals), Decimal(0))
    return won, categories, expected, deals
