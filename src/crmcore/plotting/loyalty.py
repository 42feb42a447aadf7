"""Loyalty plots: the points liability by expiry month, and the liability over time.

[`plot_liability()`][crmcore.plotting.loyalty.plot_liability] draws one
[`LiabilityReport`][crmcore.loyalty.ledger_batch.LiabilityReport] as the money value of
the outstanding points by the month they expire (spendable and pending stacked, points
that never expire last), or several reports taken at successive dates as the total value
and the expected liability over time, which is how finance follows a programme's
deferred revenue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import fmt_date
from crmcore.kernel.validators import items_of
from crmcore.plotting._figure import ACCENT, BLUE, GREY, axes_for, date_axis, finish, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmcore.loyalty.ledger_batch import LiabilityReport

__all__ = ["plot_liability"]

_FIELDS = ("months", "points", "pending", "point_value", "total_value", "liability", "as_of")


def plot_liability(
    reports: LiabilityReport | Sequence[LiabilityReport], *, ax: Axes | None = None
) -> Axes:
    """Outstanding points' value by expiry month (one report) or over time (several).

    One report: stacked bars per expiry month, spendable points in blue and
    pending ones (still in their return window) in grey, valued at the point
    value. Several reports of one programme (in any order; their dates must
    differ): the total value and, where an expected redemption rate was
    given, the liability, at each report's date. Returns the `Axes`.
    """
    single = hasattr(reports, "months")
    series: list[LiabilityReport] = (
        [cast("LiabilityReport", reports)]
        if single
        else list(
            cast("tuple[LiabilityReport, ...]", items_of(reports, "reports", "liability reports"))
        )
    )
    if not series:
        raise ValidationError("reports", 0, "must hold at least one liability report")
    for i, report in enumerate(series):
        require(report, _FIELDS, "LiabilityReport", "reports" if single else f"reports[{i}]")
    currency = series[0].point_value.currency
    if any(r.point_value.currency != currency for r in series):
        raise ValidationError("reports", "currency", "must all be in one currency")
    if len(series) == 1:
        return _by_month(series[0], currency, ax)
    series.sort(key=lambda r: r.as_of)
    dates = [r.as_of for r in series]
    if len(set(dates)) != len(dates):
        raise ValidationError("reports", "as_of", "must be at different dates")
    ax = axes_for(ax, "plot_liability")
    x = date_axis(ax, dates)
    ax.plot(x, [float(r.total_value.amount) for r in series], marker="o", color=BLUE,
            label="value of outstanding points")  # fmt: skip
    liability = [
        (at, float(r.liability.amount)) for at, r in zip(x, series, strict=True) if r.liability
    ]
    if liability:
        ax.plot(*zip(*liability, strict=True), marker="s", color=ACCENT,
                label="expected liability")  # fmt: skip
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)
    title = (
        f"Points liability of {series[0].program_id}, {fmt_date(dates[0])} to {fmt_date(dates[-1])}"
    )
    return finish(ax, title, ylabel=currency)


def _by_month(report: LiabilityReport, currency: str, ax: Axes | None) -> Axes:
    ax = axes_for(ax, "plot_liability", (max(5.0, 1.0 + 0.45 * len(report.months)), 4.0))
    value = float(report.point_value.amount)
    spendable = [p * value for p in report.points]
    pending = [q * value for q in report.pending]
    x = list(range(len(report.months)))
    ax.bar(x, spendable, color=BLUE, label="spendable")
    ax.bar(x, pending, bottom=spendable, color=GREY, label="pending")
    # Zero-height pending bars pin autoscaling at the tallest stack (sticky edges): set the room.
    top = max((s + p for s, p in zip(spendable, pending, strict=True)), default=0.0)
    ax.set_ylim(0, top * 1.08 or 1.0)
    ax.set_xticks(x, list(report.months), rotation=45 if len(x) > 8 else 0, ha="right"
                  if len(x) > 8 else "center")  # fmt: skip
    ax.legend(frameon=False, fontsize=8)
    total = f"{report.total_value.amount:,.2f} {currency}"
    liability = report.liability
    extra = "" if liability is None else f", liability {liability.amount:,.2f} {currency}"
    return finish(
        ax,
        f"Points by expiry month as of {fmt_date(report.as_of)}: {total}{extra}",
        "points expire in",
        currency,
    )
