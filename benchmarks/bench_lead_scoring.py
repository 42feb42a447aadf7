"""Benchmark: rule-based lead scoring of 1M leads with 20 rules, and predictive fits on 100k.

Builds, straight from seeded numpy arrays, a :class:`~crmcore.columnar.CustomerFrame` of leads
(country, industry, employees, source, title level, budget, e-mail present) and an
:class:`~crmcore.columnar.EventLog` of about five events per lead over twelve kinds in the last
six months, then measures in one process, as the median wall time over ``--repeat`` runs:

* ``score_frame(scoring, frame, as_of, index=index)``: 12 fit rules (segment rules, two of them
  penalties) and 8 engagement rules (windows, caps, continuous and step decay, one penalty),
  with the bands and MQL/SQL flags. The events are indexed once beforehand
  (``EngagementIndex.build``: the join of event ids to lead rows and a sort by kind and time),
  timed separately: it is paid once per data load, as a notebook loads data once;
* the same scoring written the usual pandas way over a DataFrame of the same leads (categoricals,
  integer columns) and of the events (integer lead codes, pandas' fastest key, so the
  comparison favours pandas; UTC timestamps): vectorised column tests for the fit rules, and per
  engagement rule a filter, the decay weights, ``groupby(...).sum()`` and a reindex. Its totals
  are checked to equal crmcore's (to 1e-9), and a sample of leads is re-scored one by one with
  ``LeadScoring.score`` and checked to be identical to the table, bit for bit.

Then fits both predictive models on ``--fit-leads`` leads of a known generating model and prints
their times and test AUC against the true model's.

Run from the repository root::

    .venv/bin/python benchmarks/bench_lead_scoring.py --quick   # 100k leads, 10k fit
    .venv/bin/python benchmarks/bench_lead_scoring.py           # 1M leads, 100k fit
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from _timing import line, measure, peak_rss_gb

from crmcore.columnar import STRING_DTYPE, Column, CustomerFrame, EventLog
from crmcore.columnar.schema import CUSTOMER_SCHEMA
from crmcore.kernel.clock import DAY_US, EPOCH
from crmcore.sales.model_evaluation import roc_auc
from crmcore.sales.predictive import LogisticModel, NaiveBayesModel, sigmoid
from crmcore.sales.scoring import LeadScoring
from crmcore.sales.scoring_batch import EngagementIndex, score_frame
from crmcore.sales.scoring_rules import Decay, EngagementRule, FitRule, ScoreBands, Threshold

try:
    import pandas as pd
except ImportError:  # pragma: no cover - runs without the extra, minus the baseline
    pd = None  # type: ignore[assignment]

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
COUNTRIES = ("AT", "BR", "CH", "CN", "DE", "FR", "GB", "IN", "JP", "US")
INDUSTRIES = ("fintech", "health", "manufacturing", "retail", "software", "student")
SOURCES = ("event", "organic", "paid", "referral", "webinar")
TITLES = ("c_level", "individual", "manager", "vp")
KINDS = (
    "demo_request",
    "download",
    "email_click",
    "email_open",
    "event_visit",
    "newsletter",
    "page_view",
    "pricing_view",
    "support_chat",
    "trial_start",
    "unsubscribe",
    "webinar",
)
KIND_WEIGHTS = (1, 4, 8, 20, 2, 6, 40, 8, 3, 1, 1, 6)

SCORING = LeadScoring(
    name="benchmark",
    fit=[
        FitRule("target_industry", 'attr.industry in ("software", "fintech")', 20),
        FitRule("large", "attr.employees >= 200", 15),
        FitRule("mid_size", "attr.employees between 50 and 199", 8),
        FitRule("dach", 'country in ("DE", "AT", "CH")', 10),
        FitRule("us", 'country = "US"', 6),
        FitRule("referral", 'attr.source = "referral"', 12),
        FitRule("events", 'attr.source in ("webinar", "event")', 6),
        FitRule("senior", 'attr.title in ("vp", "c_level")', 15),
        FitRule("no_email", "email is null", 10, penalty=True),
        FitRule("budget", "attr.budget >= 10000", 10),
        FitRule("fresh", "created_at within 30 days", 5),
        FitRule("student", 'attr.industry = "student"', 25, penalty=True),
    ],
    engagement=[
        EngagementRule(
            name="views", kinds="page_view", points=1, cap=20, window_days=30, decay=Decay(7)
        ),
        EngagementRule(
            name="pricing", kinds="pricing_view", points=5, cap=25, window_days=60, decay=Decay(14)
        ),
        EngagementRule(name="demo", kinds="demo_request", points=30, cap=30),
        EngagementRule(
            name="webinars",
            kinds=("webinar", "event_visit"),
            points=10,
            cap=20,
            window_days=90,
            decay=Decay(30, "step"),
        ),
        EngagementRule(
            name="clicks", kinds="email_click", points=2, cap=10, window_days=30, decay=Decay(10)
        ),
        EngagementRule(name="opens", kinds="email_open", points=0.5, cap=5, window_days=14),
        EngagementRule(
            name="downloads", kinds="download", points=8, cap=16, window_days=90, decay=Decay(30)
        ),
        EngagementRule(name="unsubscribed", kinds="unsubscribe", points=20, penalty=True, cap=20),
    ],
    fit_cap=60,
    engagement_cap=60,
    floor=0,
    bands=ScoreBands.letters(a=70, b=50, c=30),
    mql=Threshold(50, fit=20),
    sql=Threshold(70, fit=30, engagement=20),
    attributes={
        "attr.industry": "string",
        "attr.employees": "number",
        "attr.source": "string",
        "attr.title": "string",
        "attr.budget": "number",
    },
)


def _category(rng: np.random.Generator, labels: tuple[str, ...], n: int) -> Column:
    return Column.from_numpy("category", rng.integers(0, len(labels), n), categories=labels)


def make_data(n: int, seed: int) -> tuple[CustomerFrame, EventLog]:
    """``n`` leads and about ``5 n`` events in the six months before ``AS_OF``."""
    rng = np.random.default_rng(seed)
    as_us = (AS_OF - EPOCH) // timedelta(microseconds=1)
    ids = np.strings.add("L", np.arange(n).astype(STRING_DTYPE))
    email = np.strings.add(ids, "@example.com")
    no_email = rng.random(n) < 0.15
    budget = np.where(rng.random(n) < 0.3, np.nan, np.round(rng.lognormal(8.5, 1.0, n)))
    columns: dict[str, Column] = {
        "id": Column.from_numpy("string", ids),
        "name": Column.from_numpy("string", ids),
        "email": Column.from_numpy("string", email, missing=no_email),
        "created_at": Column.from_numpy(
            "datetime", (as_us - rng.integers(0, 365 * DAY_US, n)).astype("datetime64[us]")
        ),
        "country": _category(rng, COUNTRIES, n),
        "attr.industry": _category(rng, INDUSTRIES, n),
        "attr.source": _category(rng, SOURCES, n),
        "attr.title": _category(rng, TITLES, n),
        "attr.employees": Column.from_numpy("int", rng.lognormal(4, 1.5, n).astype(np.int64)),
        "attr.budget": Column.from_numpy("float", budget),
    }
    for spec in CUSTOMER_SCHEMA.columns:
        if spec.name not in columns and not spec.nullable:
            dtype = {"int": np.int64, "float": np.float64, "bool": np.bool_}[spec.kind]
            columns[spec.name] = Column.from_numpy(spec.kind, np.zeros(n, dtype=dtype))
    frame = CustomerFrame(columns)
    m = 5 * n
    weights = np.array(KIND_WEIGHTS, dtype=float)
    who = np.sort(rng.integers(0, n, m))  # sorted: the log lists the frame's ids in order
    log = EventLog(
        {
            "customer_id": Column.from_numpy("string", ids[who]),
            "at": Column.from_numpy(
                "datetime", (as_us - rng.integers(0, 180 * DAY_US, m)).astype("datetime64[us]")
            ),
            "kind": Column.from_numpy(
                "category", rng.choice(len(KINDS), m, p=weights / weights.sum()), categories=KINDS
            ),
        }
    )
    return frame, log


def pandas_frames(frame: CustomerFrame, log: EventLog, index: EngagementIndex) -> tuple[Any, Any]:
    """The leads and events as a pandas user would hold them (categoricals, integer lead codes)."""
    leads = frame.to_pandas()
    events = pd.DataFrame(
        {
            "lead": log.with_customer_index(frame),
            "at": pd.DatetimeIndex(log.at).tz_localize("UTC"),
            "kind": pd.Categorical.from_codes(log.column("kind").codes, categories=KINDS),
        }
    )
    return leads, events


def pandas_score(leads: Any, events: Any, as_of: datetime) -> Any:
    """The scoring the usual pandas way: column tests, then a groupby per engagement rule."""
    as_ts = pd.Timestamp(as_of)
    fit = pd.Series(0.0, index=leads.index)
    fit += leads["attr.industry"].isin(["software", "fintech"]) * 20.0
    fit += (leads["attr.employees"] >= 200) * 15.0
    fit += leads["attr.employees"].between(50, 199) * 8.0
    fit += leads["country"].isin(["DE", "AT", "CH"]) * 10.0
    fit += (leads["country"] == "US") * 6.0
    fit += (leads["attr.source"] == "referral") * 12.0
    fit += leads["attr.source"].isin(["webinar", "event"]) * 6.0
    fit += leads["attr.title"].isin(["vp", "c_level"]) * 15.0
    fit -= leads["email"].isna() * 10.0
    fit += (leads["attr.budget"] >= 10000).fillna(False) * 10.0
    fit += (leads["created_at"] > as_ts - pd.Timedelta(days=30)) * 5.0
    fit -= (leads["attr.industry"] == "student") * 25.0
    fit = fit.clip(upper=60.0)
    age = (as_ts - events["at"]) / pd.Timedelta(days=1)
    engagement = pd.Series(0.0, index=leads.index)
    rules = [  # (kinds, points, cap, window days, half-life days, step decay, penalty)
        (["page_view"], 1.0, 20.0, 30, 7, False, False),
        (["pricing_view"], 5.0, 25.0, 60, 14, False, False),
        (["demo_request"], 30.0, 30.0, None, None, False, False),
        (["webinar", "event_visit"], 10.0, 20.0, 90, 30, True, False),
        (["email_click"], 2.0, 10.0, 30, 10, False, False),
        (["email_open"], 0.5, 5.0, 14, None, False, False),
        (["download"], 8.0, 16.0, 90, 30, False, False),
        (["unsubscribe"], 20.0, 20.0, None, None, False, True),
    ]
    for kinds, points, cap, window, half_life, step, penalty in rules:
        keep = events["kind"].isin(kinds) & (age >= 0)
        if window is not None:
            keep &= age < window
        a = age[keep]
        if half_life is None:
            w = pd.Series(1.0, index=a.index)
        elif step:
            w = 0.5 ** np.floor(a / half_life)
        else:
            w = 0.5 ** (a / half_life)
        sums = w.groupby(events["lead"][keep]).sum()
        part = (sums * points).clip(upper=cap).reindex(leads.index, fill_value=0.0)
        engagement += -part if penalty else part
    engagement = engagement.clip(upper=60.0)
    return (fit + engagement).clip(lower=0.0)


def check_objects(table: Any, frame: CustomerFrame, log: EventLog, sample: int, seed: int) -> int:
    """Re-score ``sample`` random leads one by one; return how many differ from the table."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(frame), size=min(sample, len(frame)), replace=False)
    small = frame.take(np.sort(rows))
    records = small.to_records()
    wanted = set(small.ids.tolist())
    mask = np.isin(log.customer_ids[log.customer_codes], small.ids)
    events = [e for e in log.filter(mask).to_records() if e["customer_id"] in wanted]
    by_lead: dict[str, list[dict[str, object]]] = {}
    for e in events:
        by_lead.setdefault(str(e["customer_id"]), []).append(e)
    differ = 0
    for record in records:
        one = SCORING.score(record, AS_OF, events=by_lead.get(str(record["id"]), []))
        differ += one != table.score_of(str(record["id"]))
    return differ


def run_scoring(n: int, repeats: int, seed: int) -> None:
    """Time the batch scoring against pandas and check both."""
    t0 = time.perf_counter()
    frame, log = make_data(n, seed)
    print(
        f"data: {n:,} leads, {len(log):,} events, {len(SCORING.fit)} fit + "
        f"{len(SCORING.engagement)} engagement rules; built in {time.perf_counter() - t0:.1f} s; "
        f"median of {repeats} run(s)"
    )
    built, index = measure(lambda: EngagementIndex.build(frame, log), 1)
    line("crmcore EngagementIndex.build (once per load)", built)
    ours, table = measure(lambda: score_frame(SCORING, frame, AS_OF, index=index), repeats)
    line("crmcore score_frame (20 rules)", ours, f"{ours / n * 1e9:.0f} ns/lead")
    differ = check_objects(table, frame, log, 300, seed)
    print(f"  per-object LeadScoring.score on 300 sampled leads: {300 - differ} identical")
    assert differ == 0, "the per-object and batch scores differ"
    if pd is not None:
        leads, events = pandas_frames(frame, log, index)
        theirs, totals = measure(lambda: pandas_score(leads, events, AS_OF), repeats)
        gap = float(np.max(np.abs(totals.to_numpy() - table.total)))
        line(
            "pandas column tests + groupby per rule",
            theirs,
            f"crmcore is {theirs / ours:.1f}x faster; max |difference| {gap:.1e}",
        )
        assert gap < 1e-9, "pandas and crmcore disagree"
    print(
        f"  bands {table.band_counts()}, MQL {int(table.mql.sum()):,}, SQL {int(table.sql.sum()):,}"
    )
    target = "met" if ours < 1.0 else "MISSED"
    print(f"  target (< 1 s for 1M leads): {target} at {n:,} leads")


EFFECTS = {  # the generating model of the fit benchmark: log-odds per level
    "source": (-0.5, 0.3, 0.0, 1.2, 0.5),
    "industry": (0.6, 0.2, -0.2, 0.8, -1.5, 0.0),
    "size": (-0.6, 0.0, 0.4, 0.9),
    "country": (0.2, -0.1, 0.0, 0.3, -0.2, 0.1, 0.0, -0.3, 0.1, 0.0),
}


def conversions(n: int, seed: int) -> tuple[dict[str, Any], Any, Any]:
    """``n`` decided leads from a known logistic model: features, outcomes, true probabilities."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    logit = np.full(n, -2.0)
    for name, effects in EFFECTS.items():
        codes = rng.integers(0, len(effects), n)
        data[name] = np.strings.add(f"{name}-", codes.astype(STRING_DTYPE))
        logit += np.array(effects)[codes]
    data["visits"] = rng.poisson(3, n).astype(float)
    data["employees"] = rng.lognormal(4, 1.5, n)
    logit += 0.25 * data["visits"]
    truth = sigmoid(logit)
    return data, rng.random(n) < truth, truth


def run_fits(n: int, repeats: int, seed: int) -> None:
    """Time both predictive fits on ``n`` leads; print the held-out AUC against the truth."""
    train, won, _ = conversions(n, seed)
    test, test_won, truth = conversions(n, seed + 1)
    features = [*EFFECTS, "visits", "employees"]
    best = roc_auc(test_won, truth)
    print(
        f"predictive fit: {n:,} leads, {len(features)} features "
        f"(4 categorical, 2 numeric), base rate {won.mean():.1%}"
    )
    for model in (NaiveBayesModel, LogisticModel):
        took, fitted = measure(lambda m=model: m.fit(train, won, features), repeats)
        auc = roc_auc(test_won, fitted.predict_proba(test))
        line(
            f"crmcore {model.__name__}.fit",
            took,
            f"held-out AUC {auc:.4f} = {auc / best:.1%} of the true model's {best:.4f}",
        )
        assert auc >= 0.95 * best


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k leads, 10k for the fits")
    parser.add_argument("--leads", type=int, default=None)
    parser.add_argument("--fit-leads", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n = args.leads or (100_000 if args.quick else 1_000_000)
    print(
        f"crmcore lead scoring benchmark: python {platform.python_version()}, numpy "
        f"{np.__version__}, pandas {pd.__version__ if pd is not None else 'not installed'}"
    )
    run_scoring(n, args.repeat, args.seed)
    run_fits(args.fit_leads or (10_000 if args.quick else 100_000), args.repeat, args.seed)
    print(f"peak memory {peak_rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
