"""Loyalty plots: outstanding points by expiry month, and the liability over time."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crmcore.kernel.errors import ValidationError
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import LiabilityReport, liability_report
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.plotting import plot_liability
from tests.plotting.conftest import render


def _at(month: int) -> datetime:
    return datetime(2026, month, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def monthly(program: LoyaltyProgram, accounts: list[LoyaltyAccount]) -> list[LiabilityReport]:
    return [
        liability_report(program, accounts, _at(m), expected_redemption=Decimal("0.8"))
        for m in range(2, 13)
    ]


def test_one_report_is_the_value_by_expiry_month_spendable_and_pending(
    monthly: list[LiabilityReport], tmp_path: Path
) -> None:
    report = next(r for r in monthly if any(r.pending))
    ax = report.plot()
    render(ax, tmp_path / "by_month.png")
    n = len(report.months)
    spendable, pending = ax.patches[:n], ax.patches[n:]
    assert [b.get_height() for b in spendable] == pytest.approx([p * 0.01 for p in report.points])
    assert [b.get_height() for b in pending] == pytest.approx([q * 0.01 for q in report.pending])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(report.months)
    tallest = max(s.get_height() + p.get_height() for s, p in zip(spendable, pending, strict=True))
    assert ax.get_ylim()[1] > tallest  # room above the tallest stack
    title = ax.get_title(loc="left")
    assert f"{report.total_value.amount:,.2f} EUR" in title and "liability" in title
    assert ax.get_ylabel() == "EUR"


def test_several_reports_are_the_value_and_the_liability_over_time(
    monthly: list[LiabilityReport], tmp_path: Path
) -> None:
    ax = plot_liability(list(reversed(monthly)))
    render(ax, tmp_path / "over_time.png")
    value, liability = ax.lines
    assert list(value.get_ydata()) == [float(r.total_value.amount) for r in monthly]
    assert list(liability.get_ydata()) == [float(r.liability.amount) for r in monthly]  # type: ignore[union-attr]
    assert ax.get_title(loc="left") == "Points liability of shop-points, 2026-02-01 to 2026-12-01"


def test_reports_must_be_at_different_dates(monthly: list[LiabilityReport]) -> None:
    with pytest.raises(ValidationError, match="different dates"):
        plot_liability([monthly[0], monthly[0]])
    with pytest.raises(ValidationError, match="at least one"):
        plot_liability([])
    with pytest.raises(ValidationError, match="LiabilityReport"):
        plot_liability([monthly[0], 3])  # type: ignore[list-item]
