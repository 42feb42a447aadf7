"""An account statement: the entries of a period with the opening and closing totals.

[`LoyaltyAccount.statement`][crmcore.loyalty.ledger.LoyaltyAccount.statement]
returns a [`Statement`][crmcore.loyalty.statement.Statement]; it converts to JSON-compatible data
([`Statement.to_dict()`][crmcore.loyalty.statement.Statement.to_dict]) and shows as a table in
Jupyter.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from crmcore.kernel.reports import fmt_datetime, html_table, records_frame
from crmcore.loyalty.entries import LedgerEntry

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Statement"]


@attrs.frozen(kw_only=True)
class Statement:
    """An account statement over ``[start, end)``: opening total, entries, closing total.

    Totals are ledger totals (what the entries add up to, pending points
    included), so ``closing == opening + sum(entry.points)``.
    """

    account_id: str
    start: datetime
    end: datetime
    opening: int
    entries: tuple[LedgerEntry, ...]
    closing: int

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible statement."""
        return {
            "account_id": self.account_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "opening": self.opening,
            "closing": self.closing,
            "entries": [
                {
                    "type": e.type.value,
                    "key": e.key,
                    "at": e.at.isoformat(),
                    "points": e.points,
                    "order_id": e.order_id,
                    "redemption_id": e.redemption_id,
                    "reverses": e.reverses,
                    "reason": e.reason,
                }
                for e in self.entries
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per entry of the period: ``at``, ``type``, ``key``, ``points``, ``balance``
        (the running ledger total after it, from ``opening``), ``order_id``, ``redemption_id``,
        ``reverses`` and ``reason``."""
        columns = ("at", "type", "key", "points", "balance", "order_id", "redemption_id",
                   "reverses", "reason")  # fmt: skip
        rows: list[dict[str, object]] = []
        running = self.opening
        for e in self.entries:
            running += e.points
            values = (e.at, e.type.value, e.key, e.points, running, e.order_id,
                      e.redemption_id, e.reverses, e.reason)  # fmt: skip
            rows.append(dict(zip(columns, values, strict=True)))
        return records_frame(rows, "Statement.to_pandas", columns)

    def _repr_html_(self) -> str:
        rows: list[list[object]] = [["", "opening", "", self.opening]]
        running = self.opening
        for e in self.entries:
            running += e.points
            rows.append([e.at, e.type.value, e.key, e.points, running])
        rows.append(["", "closing", "", self.closing])
        return html_table(
            f"Statement {self.account_id}",
            ["at", "type", "key", "points", "running"],
            rows,
            caption=f"{fmt_datetime(self.start)} to {fmt_datetime(self.end)}",
        )


def statement_of(
    account_id: str, entries: Iterable[LedgerEntry], lo: datetime, hi: datetime
) -> Statement:
    """The [`Statement`][crmcore.loyalty.statement.Statement] of ``entries`` over ``[lo, hi)``
    (checked UTC times; internal)."""
    opening = 0
    chosen: list[LedgerEntry] = []
    for entry in entries:
        if entry.at < lo:
            opening += entry.points
        elif entry.at < hi:
            chosen.append(entry)
    closing = opening + sum(e.points for e in chosen)
    return Statement(
        account_id=account_id,
        start=lo,
        end=hi,
        opening=opening,
        entries=tuple(chosen),
        closing=closing,
    )
