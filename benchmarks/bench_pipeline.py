"""Benchmark: the pipeline report over a million opportunities, against pandas.

Generates an ``OpportunityFrame`` directly with a seeded numpy RNG (two years of deals on the
default HubSpot-style pipeline: each deal advances through some stages, about 60 % close won or
lost, a fifth have their amount revised and a third slip their close date), then measures in one
process, as the median wall time over ``--repeat`` runs:

* ``crmcore.sales.pipeline_report(frame, as_of)``: the open pipeline by stage as of ``as_of``
  (count, amount and exact weighted amount, from the stage, amount and close-date histories),
  stage-to-stage conversion, stage velocity (median and mean days per stage), and the outcomes of
  the deals closed (win rate, deal size, median cycle);
* the same numbers with pandas, written the way a notebook would: the histories filtered to
  ``as_of`` and the last row per deal taken with ``groupby().last()``, ``groupby`` sums per stage,
  the furthest stage per deal with ``groupby().max()``, the stays in stages with
  ``groupby().shift()`` and ``groupby().median()``. Its results are checked to equal crmcore's;

and, crmcore only, the pipeline waterfall between two dates, the quarterly forecast with its
distribution, and win rates by owner.

Run from the repository root::

    .venv/bin/python benchmarks/bench_pipeline.py --quick      # 100k opportunities
    .venv/bin/python benchmarks/bench_pipeline.py              # 1M opportunities
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
from _timing import line, measure, peak_rss_gb

from crmcore.kernel.clock import DAY_US, to_micros
from crmcore.sales.deal_performance import deal_performance
from crmcore.sales.forecast import pipeline_forecast
from crmcore.sales.opportunity_frame import MOVE_CODES, OpportunityFrame
from crmcore.sales.pipeline import DEFAULT_PIPELINE as P
from crmcore.sales.pipeline_machine import PipelineMove
from crmcore.sales.pipeline_reports import pipeline_report
from crmcore.sales.snapshots import pipeline_movement

try:
    import pandas as pd
except ImportError:  # pragma: no cover - runs without the extra, minus the baseline
    pd = None  # type: ignore[assignment]

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
START = datetime(2024, 1, 1, tzinfo=UTC)


def make_frame(n: int, seed: int) -> OpportunityFrame:
    """``n`` synthetic opportunities with stage, amount and close-date histories."""
    rng = np.random.default_rng(seed)
    open_stages = len(P.open_stages)  # 5; stage codes 0..4 open, 5 won, 6 lost
    t0, t1 = to_micros(START), to_micros(AS_OF) + 60 * DAY_US
    created = np.sort(rng.integers(t0, t1, n))
    reach = np.minimum(rng.geometric(0.45, n) - 1, open_stages - 1)  # furthest open stage
    fate = rng.random(n)
    closes = (fate < 0.62) & (created < to_micros(AS_OF) - 20 * DAY_US)
    won = closes & (rng.random(n) < 0.25 + 0.15 * reach)
    moves_per = reach + closes
    m = int(moves_per.sum())
    row = np.repeat(np.arange(n), moves_per)
    first = np.concatenate([[0], np.cumsum(moves_per)[:-1]])
    k = np.arange(m) - np.repeat(first, moves_per)  # 0.. within a deal
    gap = rng.exponential(9.0, m) * DAY_US
    step_time = np.cumsum(gap)
    head = np.minimum(first, m - 1)  # deals without moves repeat nothing: any index will do
    start_of = np.repeat(step_time[head] - gap[head], moves_per)
    at = created[row] + (step_time - start_of).astype(np.int64) + 1
    last = k == moves_per[row] - 1
    closing = last & closes[row]
    from_code = np.where(closing, reach[row], k).astype(np.int16)
    to_code = np.where(closing, np.where(won[row], 5, 6), k + 1).astype(np.int16)
    move = np.where(
        closing,
        np.where(won[row], MOVE_CODES[PipelineMove.WIN], MOVE_CODES[PipelineMove.LOSE]),
        MOVE_CODES[PipelineMove.ADVANCE],
    ).astype(np.int8)
    stage = np.where(closes, np.where(won, 5, 6), reach).astype(np.int16)
    amount = np.round(rng.lognormal(9.5, 1.0, n) * 100).astype(np.int64)
    amount[(reach == open_stages - 1) & (amount == 0)] = 100  # contract_sent needs an amount
    revised = rng.random(n) < 0.2
    new_amount = np.where(revised, (amount * rng.uniform(0.7, 1.3, n)).astype(np.int64), amount)
    new_amount[(stage >= open_stages - 1) & (new_amount == 0)] = 100
    a_rows = np.flatnonzero(revised)
    a_at = created[a_rows] + DAY_US
    close_day = created // DAY_US + rng.integers(20, 120, n)
    slips = np.minimum(rng.poisson(0.4, n), 3)
    c_rows = np.repeat(np.arange(n), slips)
    c_first = np.concatenate([[0], np.cumsum(slips)[:-1]])
    c_k = np.arange(len(c_rows)) - np.repeat(c_first, slips)
    c_old = close_day[c_rows] + 30 * c_k
    c_new = c_old + 30
    final_day = close_day + 30 * slips
    c_at = created[c_rows] + (c_k + 1) * 7 * DAY_US
    # revision logs must be sorted by (row, time): they are, by construction
    keep_moves = np.lexsort((at, row))
    return OpportunityFrame.from_arrays(
        P,
        ids=np.char.add("O", np.arange(n).astype(str)),
        stage=stage,
        created=created,
        amount=new_amount,
        close_day=final_day,
        owner=rng.integers(0, 50, n),
        owners=[f"rep{i}" for i in range(50)],
        source=rng.integers(-1, 6, n),
        sources=["web", "referral", "event", "partner", "outbound", "ads"],
        segment=rng.integers(0, 3, n),
        segments=["smb", "mid", "enterprise"],
        moves=(
            row[keep_moves],
            at[keep_moves],
            from_code[keep_moves],
            to_code[keep_moves],
            move[keep_moves],
        ),
        amount_revisions=(a_rows, a_at, amount[a_rows], new_amount[a_rows]),
        close_date_revisions=(c_rows, c_at, c_old, c_new),
    )


def pandas_tables(frame: OpportunityFrame) -> tuple[Any, Any, Any]:
    """The frame as pandas would hold it: deals, stage moves, amount revisions."""
    deals = pd.DataFrame(
        {
            "created": frame.created,
            "stage": frame.stage,
            "amount": frame.amount,
            "probability": frame.probability,
        }
    )
    moves = pd.DataFrame(
        {
            "row": frame.moves.row,
            "at": frame.moves.at,
            "from": frame.moves.from_code,
            "to": frame.moves.to_code,
        }
    )
    revisions = pd.DataFrame(
        {
            "row": frame.amount_revisions.row,
            "at": frame.amount_revisions.at,
            "new": frame.amount_revisions.new,
            "old": frame.amount_revisions.old,
        }
    )
    return deals, moves, revisions


def pandas_report(deals: Any, moves: Any, revisions: Any, t: int) -> dict[str, Any]:
    """The pipeline report's numbers, the pandas way."""
    units = P.probability_units
    kinds = P.kind_codes
    ranks = P.open_ranks
    live = deals[deals["created"] <= t]
    seen = moves[moves["at"] <= t]
    last = seen.groupby("row")["to"].last()
    opened = moves.groupby("row")["from"].first().reindex(deals.index).fillna(deals["stage"])
    stage_now = opened.copy()
    stage_now.loc[last.index] = last
    stage_now = stage_now.loc[live.index].astype(int)
    amount_first = revisions.groupby("row")["old"].first().reindex(deals.index)
    amount_now = amount_first.fillna(deals["amount"])
    rev_seen = revisions[revisions["at"] <= t].groupby("row")["new"].last()
    amount_now.loc[rev_seen.index] = rev_seen
    amount_now = amount_now.loc[live.index].astype("int64")
    kind = pd.Series(kinds[stage_now.to_numpy()], index=stage_now.index)
    is_open = kind == 0
    table = pd.DataFrame({"stage": stage_now[is_open], "amount": amount_now[is_open]})
    table["weighted"] = table["amount"] * units[table["stage"].to_numpy()]
    by_stage = table.groupby("stage").agg(
        count=("amount", "size"), amount=("amount", "sum"), weighted=("weighted", "sum")
    )
    # conversion: the furthest open rank per deal
    reached = pd.Series(ranks[opened.loc[live.index].astype(int).to_numpy()], index=live.index)
    furthest = seen.assign(rank=ranks[seen["to"].to_numpy()]).groupby("row")["rank"].max()
    reached = np.maximum(reached, furthest.reindex(live.index).fillna(-1)).astype(int)
    counts = reached[reached >= 0].value_counts().sort_index()
    reach = counts.reindex(range(len(P.open_stages) + 1), fill_value=0)[::-1].cumsum()[::-1]
    # velocity: each move ends a stay that began at the previous move (or the creation)
    entered = seen.groupby("row")["at"].shift(1)
    entered = entered.fillna(
        pd.Series(deals["created"].to_numpy()[seen["row"].to_numpy()], index=seen.index)
    )
    stays = pd.DataFrame({"stage": seen["from"], "days": seen["at"] - entered})
    stays = stays[kinds[stays["stage"].to_numpy()] == 0]
    velocity = stays.groupby("stage")["days"].median() / DAY_US
    won = int((kind == 1).sum())
    return {"by_stage": by_stage, "reach": reach, "velocity": velocity, "won": won}


def check(report: Any, theirs: dict[str, Any]) -> bool:
    """Whether pandas' numbers equal crmcore's."""
    by_stage = theirs["by_stage"]
    for code, stage in enumerate(P.stages):
        if not stage.is_open:
            continue
        line = report.snapshot.line(stage.key)
        row = by_stage.loc[code] if code in by_stage.index else None
        count = 0 if row is None else int(row["count"])
        amount = 0 if row is None else int(row["amount"])
        weighted = 0 if row is None else int(row["weighted"])
        if line.count != count or int(line.amount.amount * 100) != amount:
            return False
        if line.weighted.amount * 100 * 1_000_000 != weighted:
            return False
    reach = [c.reached for c in report.conversion] + [report.conversion[-1].reached_next]
    if reach != theirs["reach"].tolist():
        return False
    medians = theirs["velocity"]
    for code, v in enumerate(report.velocity):
        if v.median_days != (float(medians.loc[code]) if code in medians.index else None):
            return False
    return bool(report.outcomes.won == theirs["won"])


def run(n: int, repeats: int, seed: int) -> None:
    """Generate the data, time both paths and print the results."""
    print(
        f"crmcore pipeline benchmark: python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__ if pd is not None else 'not installed'}"
    )
    t0 = time.perf_counter()
    frame = make_frame(n, seed)
    print(
        f"data: {len(frame):,} opportunities, {len(frame.moves):,} stage moves, "
        f"{len(frame.amount_revisions):,} amount and {len(frame.close_date_revisions):,} "
        f"close-date revisions; built and checked in {time.perf_counter() - t0:.1f} s; "
        f"median of {repeats} run(s)"
    )
    t = to_micros(AS_OF)
    ours, report = measure(lambda: pipeline_report(frame, AS_OF), repeats)
    line("crmcore pipeline_report (vectorised)", ours, f"{ours / len(frame) * 1e9:.0f} ns/deal")
    if pd is not None:
        tables = pandas_tables(frame)
        theirs, numbers = measure(lambda: pandas_report(*tables, t), repeats)
        line(
            "pandas groupby/shift/median equivalent",
            theirs,
            f"crmcore/pandas = {ours / theirs:.2f}x; same numbers: {check(report, numbers)}",
        )
    quarter_start = datetime(2025, 10, 1, tzinfo=UTC)
    flow_time, flow = measure(lambda: pipeline_movement(frame, quarter_start, AS_OF), repeats)
    line("crmcore pipeline_movement (waterfall)", flow_time, f"reconciles: {flow.reconciles}")
    forecast_time, forecast = measure(lambda: pipeline_forecast(frame, AS_OF, periods=2), repeats)
    q = forecast.periods[0]
    line(
        "crmcore pipeline_forecast (2 quarters)",
        forecast_time,
        f"{q.label}: expected {q.expected.rounded()}, P10/P50/P90 by {q.method}",
    )
    perf_time, perf = measure(lambda: deal_performance(frame, end=AS_OF, by="owner"), repeats)
    line("crmcore deal_performance by owner", perf_time, f"{len(perf.groups)} owners")
    s = report.snapshot
    print(
        f"open pipeline {s.open_amount.rounded()} in {s.open_count:,} deals, weighted "
        f"{s.weighted_amount.rounded()}; win rate {report.outcomes.win_rate:.1%}"
    )
    print(f"peak RSS: {peak_rss_gb():.2f} GB")


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="10x smaller data")
    args = parser.parse_args(argv)
    n = args.opportunities // 10 if args.quick else args.opportunities
    if n < 1 or args.repeat < 1:
        parser.error("sizes and --repeat must be positive")
    run(n, args.repeat, args.seed)


if __name__ == "__main__":
    main()
