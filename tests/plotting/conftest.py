"""Shared data and helpers of the plot tests: the Agg backend, real reports, PNG rendering."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from crmcore.columnar import TransactionLog
from crmcore.customers import Purchase
from crmcore.datasets import ONLINE_RETAIL_COLUMNS, online_retail_csv
from crmcore.kernel.money import Money
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import EarnRule, LoyaltyProgram

AS_OF = datetime(2011, 12, 10, tzinfo=UTC)
"""The day after the last order of the Online-Retail-shaped export."""


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def render(ax: Axes, path: Path) -> Path:
    """Draw ``ax``'s figure to a PNG and check that something was drawn (not a blank canvas)."""
    ax.figure.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = mpimg.imread(path)[..., :3]
    inked = np.any(pixels < 0.9, axis=-1).mean()  # share of pixels that are not near-white
    assert inked > 0.02, f"{path.name} is almost blank ({inked:.1%} inked)"
    return path


def texts(ax: Axes) -> list[str]:
    """Every text drawn inside the axes (annotations, labels in cells and on bars)."""
    return [t.get_text() for t in ax.texts]


@pytest.fixture(scope="session")
def retail_log() -> TransactionLog:
    """A small Online-Retail-shaped export (order lines, returns, guests), read in one call."""
    text = online_retail_csv(customers=150, seed=11)
    return TransactionLog.from_csv(
        io.StringIO(text),
        columns=ONLINE_RETAIL_COLUMNS,
        tz="UTC",
        extra="ignore",
        cancellations="^C",
    )


@pytest.fixture(scope="session")
def program() -> LoyaltyProgram:
    """One point per euro, worth one cent, expiring at the end of the 12th month."""
    return LoyaltyProgram(
        id="shop-points",
        name="Shop Points",
        currency="EUR",
        point_value=Money("0.01", "EUR"),
        earn=EarnRule(points_per_unit=Decimal(1)),
        expiry=ExpiryPolicy.end_of_month(12),
        pending_days=14,
    )


@pytest.fixture(scope="session")
def accounts(program: LoyaltyProgram) -> list[LoyaltyAccount]:
    """Eight accounts earning on purchases spread over 2026."""
    start = datetime(2026, 1, 3, tzinfo=UTC)
    out = []
    for i in range(8):
        account = LoyaltyAccount(id=f"acct-{i}", customer_id=f"c-{i}", program_id=program.id)
        for k in range(1 + i % 3):
            at = start + timedelta(days=23 * i + 61 * k)
            order = Purchase(f"o-{i}-{k}", f"c-{i}", at, Money(40 + 17 * i + 5 * k, "EUR"))
            account = account.earn(program, order, key=f"earn-{i}-{k}").value
        out.append(account)
    return out
