"""What the sales reports share: exact money in their JSON form."""

from __future__ import annotations

from crmcore.kernel.money import Money

__all__ = ["money_text", "optional_money_text"]


def money_text(value: Money) -> str:
    """A Money as exact decimal text, for ``to_dict`` (the currency is given once per report)."""
    return str(value.amount)


def optional_money_text(value: Money | None) -> str | None:
    """[`money_text()`][crmcore.sales._reports.money_text], or ``None``."""
    return None if value is None else str(value.amount)
