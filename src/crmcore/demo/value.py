"""Demo sections about customer value: RFM segments, value tiers, predicted CLV, churn risk."""

from __future__ import annotations

from datetime import datetime
from typing import TextIO

import numpy as np

from crmcore.analytics import (
    CustomerValues,
    churn_risk,
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    historical_clv,
    rfm_scores,
    summary_from_transactions,
    value_tiers,
)
from crmcore.columnar import CustomerFrame, TransactionLog
from crmcore.demo._text import Timings, pct, section, table, timed
from crmcore.journey import TouchpointScore, TouchpointScores
from crmcore.kernel.errors import MissingDependencyError, ModelFitError
from crmcore.lifecycle import BatchClassification

__all__ = ["currency_of", "value"]


def value(
    out: TextIO,
    frame: CustomerFrame,
    log: TransactionLog,
    lifecycle: BatchClassification,
    scores: tuple[TouchpointScore, ...],
    as_of: datetime,
    timings: Timings,
) -> None:
    """RFM segments and the RFM table, value tiers, top customers by predicted CLV, at-risk list."""
    if not len(log):
        section(out, "RFM segments")
        out.write("  no purchases yet: nothing to score\n")
        return
    rfm = timed("RFM scores and segments", timings, lambda: rfm_scores(log, as_of))
    section(out, f"RFM segments of {len(rfm):,} buyers (quintiles, as of {as_of:%Y-%m-%d})")
    table(
        out,
        ["segment", "customers", "share", "revenue share", "mean R days", "mean F"],
        [
            (
                s.name,
                s.customers,
                pct(s.share),
                pct(s.revenue_share),
                "-" if s.mean_recency_days is None else f"{s.mean_recency_days:.0f}",
                "-" if s.mean_frequency is None else f"{s.mean_frequency:.1f}",
            )
            for s in rfm.summary().segments
            if s.customers
        ],
    )
    section(out, "RFM table (first 5 buyers)")
    table(
        out,
        ["customer", "recency days", "frequency", "monetary", "code", "segment"],
        [
            (
                r["customer_id"],
                f"{float(r['recency_days']):.0f}",  # type: ignore[arg-type]
                r["frequency"],
                float(r["monetary"]),  # type: ignore[arg-type]
                r["code"],
                r["segment"],
            )
            for r in rfm.to_records()[:5]
        ],
    )

    clv = historical_clv(log, as_of)
    tiers = value_tiers(clv.values, customer_ids=clv.customer_ids, label="revenue to date")
    section(out, "Value tiers by revenue to date")
    table(
        out,
        ["tier", "customers", "value share"],
        [(t.name, t.customers, pct(t.value_share)) for t in tiers.summary()],
    )

    currency = currency_of(frame)
    p_alive = None
    try:
        summary = summary_from_transactions(log, as_of, "D", time_unit="W")
        purchases = timed("fit BG/NBD", timings, lambda: fit_bgnbd(summary))
        spend = timed("fit Gamma-Gamma", timings, lambda: fit_gamma_gamma(summary))
    except MissingDependencyError as missing:
        section(out, "Predicted CLV")
        out.write(f"  skipped: {missing}\n")
    except ModelFitError as failed:
        section(out, "Predicted CLV")
        out.write(f"  skipped: {failed}\n")
    else:
        report = customer_lifetime_value(purchases, spend, summary, months=12, discount_rate=0.01)
        money = report.as_money(currency)
        p_alive = CustomerValues(summary.customer_ids, purchases.probability_alive(summary))
        section(out, "Top customers by predicted 12-month CLV (BG/NBD + Gamma-Gamma, 1%/month)")
        out.write(
            f"  BG/NBD r={purchases.r:.3f} alpha={purchases.alpha:.3f} a={purchases.a:.3f} "
            f"b={purchases.b:.3f}; Gamma-Gamma p={spend.p:.2f} q={spend.q:.2f} v={spend.v:.2f}\n"
        )
        table(
            out,
            ["customer", "CLV", "expected purchases", "P(alive)", "repeat purchases"],
            [
                (
                    str(report.customer_ids[i]),
                    str(money[i]),
                    f"{report.expected_purchases[i]:.2f}",
                    pct(float(report.probability_alive[i])),
                    int(summary.frequency[i]),
                )
                for i in report.top(5).tolist()
            ],
        )
        out.write(f"  predicted 12-month value of the base: {float(report.clv.sum()):,.2f}\n")

    satisfaction = TouchpointScores.from_scores(scores, scale="csat") if scores else None
    risk = timed(
        "churn risk",
        timings,
        lambda: churn_risk(
            log, as_of, p_alive=p_alive, lifecycle=lifecycle, satisfaction=satisfaction
        ),
    )
    flagged = int(np.count_nonzero(risk.at_risk_mask))
    section(out, f"At risk: {flagged:,} of {len(risk):,} buyers (top 5 still worth saving)")
    table(
        out,
        ["customer", "risk", "days silent", "usual gap", "reasons"],
        [
            (
                row["customer_id"],
                f"{float(row['risk']):.2f}",  # type: ignore[arg-type]
                f"{float(row['recency_days']):.0f}",  # type: ignore[arg-type]
                "-"
                if row["expected_gap_days"] is None
                else f"{float(row['expected_gap_days']):.0f}",  # type: ignore[arg-type]
                ", ".join(row["reasons"]),  # type: ignore[arg-type]
            )
            for row in risk.at_risk(top=5, include_churned=False)
        ],
    )


def currency_of(frame: CustomerFrame) -> str:
    """The most common currency of the customers' spend (USD when nobody bought)."""
    column = frame["currency"]
    codes = column.values[column.values >= 0]
    if not len(codes):
        return "USD"
    return str(column.categories[int(np.bincount(codes).argmax())])
