"""Real reports from one order export: JSON, pandas and Jupyter HTML agree and look alike.

One Online-Retail-shaped export (and a small EUR log, for the currency) feeds
the reports a newcomer meets in the first hour. For each: ``to_dict()`` is
strict JSON, ``to_pandas()`` has the rows the report has, and ``_repr_html_()``
uses the house font, writes times as ``2026-06-01 14:30 UTC`` (never ISO
``T``), and puts the currency on money columns.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from crmcore.analytics import (
    BgNbdModel,
    GammaGammaModel,
    churn_risk,
    cohort_matrix,
    customer_kpis,
    customer_lifetime_value,
    historical_clv,
    rfm_scores,
    summary_from_transactions,
    value_tiers,
)
from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.customers import Purchase
from crmcore.datasets import ONLINE_RETAIL_COLUMNS, generate, online_retail_csv
from crmcore.feedback.durations import durations
from crmcore.feedback.feedback import FeedbackLog
from crmcore.feedback.feedback_metrics import feedback_breakdown, feedback_trend
from crmcore.feedback.rates import sla_attainment
from crmcore.feedback.survey_scores import ces, csat, nps
from crmcore.feedback.themes import theme_report
from crmcore.funnel import Stage, funnel_breakdown, funnel_report
from crmcore.journey.analysis import journey_report
from crmcore.kernel.money import Money
from crmcore.kernel.reports import REPORT_FONT
from crmcore.lifecycle import classify_log, transitions
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import liability_report
from crmcore.loyalty.program import EarnRule, LoyaltyProgram
from crmcore.segments.parser import parse_rule
from crmcore.segments.segment import Segment, SegmentSet, diff

AS_OF = datetime(2011, 12, 10, tzinfo=UTC)
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# The published CDNOW fits (no fitting in a report test).
BGNBD = BgNbdModel(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
SPEND = GammaGammaModel(p=6.25, q=3.74, v=15.44)


def _eur_log() -> TransactionLog:
    t = datetime(2026, 1, 5, tzinfo=UTC)
    rows = [
        {"customer_id": f"c{i}", "at": t + timedelta(days=9 * i + 31 * k), "currency": "EUR",
         "amount": 20.0 + 7 * i + 3 * k, "order_id": f"o{i}-{k}"}
        for i in range(12)
        for k in range(1 + i % 4)
    ]  # fmt: skip
    return TransactionLog.from_records(rows)


Built = dict[str, tuple[Any, int]]
"""Report name -> (the report, how many rows its DataFrame must have)."""


@pytest.fixture(scope="module")
def reports() -> Built:
    log = TransactionLog.from_csv(
        io.StringIO(online_retail_csv(customers=120, seed=5)),
        columns=ONLINE_RETAIL_COLUMNS,
        tz="UTC",
        extra="ignore",
        cancellations="^C",
    )
    table = rfm_scores(log, AS_OF)
    summary = summary_from_transactions(log, AS_OF, "D", time_unit="W")
    clv = customer_lifetime_value(BGNBD, SPEND, summary, months=6, discount_rate=0.01)
    lifecycle = classify_log(log, AS_OF)
    earlier = classify_log(log, AS_OF - timedelta(days=90))
    moves = transitions(earlier, lifecycle)
    cohorts = cohort_matrix(log, AS_OF)
    observed = int(cohorts.observed.sum())
    out: Built = {
        "RfmTable": (table, len(table)),
        "RfmReport": (table.summary(), len(table.summary().segments)),
        "CohortMatrix": (cohorts, observed),
        "CustomerKpis": (customer_kpis(log, AS_OF), 1),
        "HistoricalClv": (historical_clv(log, AS_OF), len(table)),
        "ChurnRisk": (churn_risk(log, AS_OF), len(table)),
        "ValueTiers": (value_tiers(table.monetary, customer_ids=table.customer_ids), len(table)),
        "BtydSummary": (summary, len(summary)),
        "BgNbdModel": (BGNBD, 4),
        "GammaGammaModel": (SPEND, 3),
        "PredictedClv": (clv, len(summary)),
        "BatchClassification": (lifecycle, len(lifecycle)),
        "BatchTransitions": (moves, len(moves)),
    }
    eur = _eur_log()
    eur_table = rfm_scores(eur, datetime(2026, 12, 31, tzinfo=UTC))
    out["RfmReport (EUR)"] = (eur_table.summary(), len(eur_table.summary().segments))
    end = datetime(2026, 12, 31, tzinfo=UTC)
    out["CustomerKpis (EUR)"] = (customer_kpis(eur, end), 1)
    out["HistoricalClv (EUR)"] = (historical_clv(eur, end), len(eur_table))
    eur_summary = summary_from_transactions(eur, end, "D", time_unit="W")
    eur_clv = customer_lifetime_value(BGNBD, SPEND, eur_summary, months=6, discount_rate=0.01)
    out["PredictedClv (EUR)"] = (eur_clv, len(eur_summary))
    out |= _loyalty(eur)
    out |= _synthetic()
    return out


def _loyalty(log: TransactionLog) -> Built:
    program = LoyaltyProgram(
        id="shop-points", name="Shop Points", currency="EUR", point_value=Money("0.01", "EUR"),
        earn=EarnRule(points_per_unit=Decimal(1)), expiry=ExpiryPolicy.end_of_month(12),
        pending_days=14,
    )  # fmt: skip
    accounts: dict[str, LoyaltyAccount] = {}
    rows = zip(
        log.customer_ids[log.customer_codes].tolist(),
        log.at.tolist(),
        log["amount"].to_list(),
        log["order_id"].to_list(),
        strict=True,
    )
    for i, (cid, at, amount, order) in enumerate(rows):
        account = accounts.get(cid) or LoyaltyAccount(
            id=f"a-{cid}", customer_id=cid, program_id=program.id
        )
        purchase = Purchase(order, cid, at.replace(tzinfo=UTC), Money(repr(amount), "EUR"))
        accounts[cid] = account.earn(program, purchase, key=f"earn-{i}").value
    as_of = datetime(2026, 9, 1, tzinfo=UTC)
    report = liability_report(
        program, list(accounts.values()), as_of, expected_redemption=Decimal("0.8")
    )
    first = accounts["c11"]
    statement = first.statement(datetime(2026, 1, 1, tzinfo=UTC), as_of)
    return {
        "LiabilityReport": (report, len(report.months)),
        "Statement": (statement, len(statement.entries)),
    }


def _synthetic() -> Built:
    data = generate(300, seed=2)
    events = EventLog.from_interactions(data.interactions)
    steps = [Stage.AWARENESS, Stage.INTEREST, Stage.CONSIDERATION, Stage.INTENT]
    funnel = funnel_report(events, steps, window=None)
    frame = CustomerFrame.from_customers(data.customers)
    by_country = funnel_breakdown(events, steps, by="country", frame=frame, window=None)
    feedback = FeedbackLog.from_feedback(data.feedback)
    monthly = feedback_trend(feedback, "nps", period="month")
    by_channel = feedback_breakdown(feedback, "nps", by="channel")
    scores = [0, 3, 7, 8, 9, 10, 10]
    recent = parse_rule("last_purchase_at within 90 days")
    segments = SegmentSet([Segment("buyers", parse_rule("purchase_count >= 1")),
                           Segment("recent", recent)])  # fmt: skip
    now = segments.evaluate(frame, data.end)
    before = segments.evaluate(frame, data.end - timedelta(days=120))
    change = diff(before, now)
    journey = journey_report(events, data.scores)
    themes = theme_report(feedback, period="month")
    return {
        "FunnelReport": (funnel, len(steps)),
        "FunnelBreakdown": (by_country, len(by_country.groups) * len(steps)),
        "MetricBreakdown (trend)": (monthly, len(monthly.rows)),
        "MetricBreakdown": (by_channel, len(by_channel.rows)),
        "NpsScore": (nps(scores), 1),
        "CsatScore": (csat([1, 4, 5, 5, 3]), 1),
        "CesScore": (ces([2, 6, 7, 5]), 1),
        "DurationStats": (durations([timedelta(hours=h) for h in (1, 3, 8)]), 1),
        "Rate": (sla_attainment([True, False, True]), 1),
        "ThemeReport": (themes, len(themes.rows)),
        "JourneyReport": (journey, len(journey.rows)),
        "SegmentMembership": (now, len(frame)),
        "MembershipDiff": (change, change.changed),
    }


NAMES = [
    "RfmTable", "RfmReport", "CohortMatrix", "CustomerKpis", "HistoricalClv", "ChurnRisk",
    "ValueTiers", "BtydSummary", "BgNbdModel", "GammaGammaModel", "PredictedClv",
    "BatchClassification", "BatchTransitions", "RfmReport (EUR)", "CustomerKpis (EUR)",
    "HistoricalClv (EUR)", "PredictedClv (EUR)",
    "LiabilityReport", "Statement", "FunnelReport", "FunnelBreakdown", "MetricBreakdown (trend)",
    "MetricBreakdown", "NpsScore", "CsatScore", "CesScore", "DurationStats", "Rate",
    "ThemeReport", "JourneyReport", "SegmentMembership", "MembershipDiff",
]  # fmt: skip


def test_the_fixture_builds_every_named_report(reports: Built) -> None:
    assert sorted(reports) == sorted(NAMES)
    assert [n for n, (_, rows) in reports.items() if rows == 0] == []  # none empty


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_is_json_and_to_pandas_has_a_row_per_item(reports: Built, name: str) -> None:
    report, rows = reports[name]
    json.dumps(report.to_dict(), allow_nan=False)
    frame = report.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == rows and len(frame.columns) > 0


@pytest.mark.parametrize("name", NAMES)
def test_html_has_the_house_font_and_date_format(reports: Built, name: str) -> None:
    page = reports[name][0]._repr_html_()
    assert REPORT_FONT in page
    assert ISO_TIME.search(page) is None, ISO_TIME.search(page)


MONEY: dict[str, Callable[[str], bool]] = {
    "RfmReport (EUR)": lambda page: "revenue (EUR)" in page and "monetary (EUR)" in page,
    "CustomerKpis (EUR)": lambda page: "net revenue (EUR)" in page,
    "LiabilityReport": lambda page: "value (EUR)" in page,
    "HistoricalClv (EUR)": lambda page: "value (EUR)" in page,
    "PredictedClv (EUR)": lambda page: "CLV (EUR)" in page and "exp. spend (EUR)" in page,
}


@pytest.mark.parametrize("name", sorted(MONEY))
def test_money_columns_name_their_currency(reports: Built, name: str) -> None:
    assert MONEY[name](reports[name][0]._repr_html_())


def test_columns_say_what_they_hold(reports: Built) -> None:
    rfm = reports["RfmReport"][0].to_pandas()
    assert list(rfm.columns[:3]) == ["name", "customers", "share"]
    assert rfm["customers"].sum() == len(reports["RfmTable"][0])
    cohorts = reports["CohortMatrix"][0].to_pandas()
    grid = cohorts.pivot(index="cohort", columns="offset", values="retention")
    assert (grid[0].dropna() == 1.0).all()  # everyone is active in the acquisition period
    clv = reports["PredictedClv"][0].to_pandas()
    assert list(clv.columns) == [
        "customer_id", "clv", "expected_purchases", "probability_alive", "expected_spend",
    ]  # fmt: skip
    assert clv["clv"].sum() == pytest.approx(float(reports["PredictedClv"][0].clv.sum()))
    states = reports["BatchClassification"][0].to_pandas()
    assert states["state"].value_counts().to_dict() == {
        s.value: n for s, n in reports["BatchClassification"][0].counts().items() if n
    }
    moves = reports["BatchTransitions"][0].to_pandas()
    assert set(moves.columns) == {"position", "customer_id", "from", "to", "kind", "trigger"}
    assert (moves["from"] != moves["to"]).all()
    statement = reports["Statement"][0]
    balance = statement.to_pandas()["balance"]
    assert balance.iloc[-1] == statement.closing
    members = reports["SegmentMembership"][0].to_pandas()
    assert members["buyers"].sum() == reports["SegmentMembership"][0].size("buyers")
