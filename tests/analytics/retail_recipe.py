"""The pandas recipe users write for an Online-Retail-shaped export, as the reference.

What a careful notebook does with ``InvoiceNo, StockCode, Description, Quantity,
InvoiceDate, UnitPrice, CustomerID, Country``: drop the rows without a
customer, turn ``17850.0`` back into ``17850``, parse the month-first dates in
UTC, compute line totals exactly (in 1/10,000), group the lines into invoices,
and call an invoice a purchase when its total is not negative and not every line
is a return. The differential tests hold crmcore to this recipe number for number.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from crmcore.datasets import online_retail_csv

COLUMNS = {
    "customer_id": "CustomerID",
    "at": "InvoiceDate",
    "order_id": "InvoiceNo",
    "quantity": "Quantity",
    "unit_price": "UnitPrice",
}
OPTIONS = ["--customer", "CustomerID", "--at", "InvoiceDate", "--order", "InvoiceNo",
           "--quantity", "Quantity", "--unit-price", "UnitPrice", "--tz", "UTC"]  # fmt: skip


@cache
def retail_file(folder: str, customers: int = 600, seed: int = 11) -> Path:
    """The generated export in ``folder`` (written once per test session)."""
    path = Path(folder) / f"online-retail-{customers}-{seed}.csv"
    if not path.exists():
        online_retail_csv(path, customers=customers, seed=seed)
    return path


def orders(path: Path) -> tuple[Any, Any]:
    """The recipe's (purchases, returns): one row per invoice, customer order of first sight."""
    import pandas as pd

    df = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str})
    df = df.dropna(subset=["CustomerID"])
    df["customer"] = df["CustomerID"].astype("int64").astype(str)
    df["at"] = pd.to_datetime(df["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.tz_localize("UTC")
    df["units"] = df["Quantity"] * np.rint(df["UnitPrice"] * 10_000).astype("int64")
    df["returning"] = df["Quantity"] < 0
    invoices = df.groupby("InvoiceNo", sort=False).agg(
        customer=("customer", "first"),
        at=("at", "min"),
        units=("units", "sum"),
        all_return=("returning", "all"),
    )
    bought = (invoices["units"] >= 0) & ~invoices["all_return"]
    seen = {c: i for i, c in enumerate(pd.unique(df["customer"]))}
    invoices["rank"] = invoices["customer"].map(seen)
    return invoices[bought], invoices[~bought]


def rfm(path: Path, as_of: datetime) -> Any:
    """Recency (days), frequency and net monetary per customer, scored 1-5 as the recipe does."""
    import pandas as pd

    purchases, returns = orders(path)
    purchases = purchases[purchases["at"] <= pd.Timestamp(as_of)]
    returns = returns[returns["at"] <= pd.Timestamp(as_of)]
    per = purchases.groupby("customer").agg(
        last=("at", "max"),
        frequency=("units", "size"),
        units=("units", "sum"),
        rank=("rank", "min"),
    )
    per["units"] += returns.groupby("customer")["units"].sum().reindex(per.index, fill_value=0)
    per = per.sort_values("rank")
    per["recency"] = (pd.Timestamp(as_of) - per["last"]).dt.total_seconds() / 86_400
    per["monetary"] = per["units"] / 10_000
    labels = [1, 2, 3, 4, 5]
    per["r"] = pd.qcut(per["recency"].rank(method="first"), 5, labels=labels[::-1]).astype(int)
    per["f"] = pd.qcut(per["frequency"].rank(method="first"), 5, labels=labels).astype(int)
    per["m"] = pd.qcut(per["monetary"].rank(method="first"), 5, labels=labels).astype(int)
    return per


def cohorts(path: Path) -> Any:
    """Customers active per (first-purchase month, months since), from purchases only."""
    purchases, _ = orders(path)
    month = purchases["at"].dt.year * 12 + purchases["at"].dt.month - 1
    first = month.groupby(purchases["customer"]).transform("min")
    active = (
        purchases.assign(cohort=first, offset=month - first)
        .groupby(["cohort", "offset"])["customer"]
        .nunique()
    )
    return active


def btyd_daily(path: Path, as_of: datetime) -> Any:
    """lifetimes' summary (daily periods, times in days) of the purchases up to ``as_of``."""
    import pandas as pd

    purchases, _ = orders(path)
    purchases = purchases[purchases["at"] <= pd.Timestamp(as_of)]
    day = purchases["at"].dt.floor("D")
    daily = purchases.assign(day=day).groupby(["customer", "day"])["units"].sum().reset_index()
    g = daily.groupby("customer")
    first, last = g["day"].min(), g["day"].max()
    count = g.size()
    total = g["units"].sum()
    first_units = daily.sort_values("day").groupby("customer")["units"].first()
    end = pd.Timestamp(as_of).floor("D")
    out = pd.DataFrame(
        {
            "frequency": count - 1,
            "recency": (last - first).dt.days.astype(float),
            "T": (end - first).dt.days.astype(float),
            "monetary": np.where(
                count > 1, (total - first_units) / np.maximum(count - 1, 1) / 10_000, 0.0
            ),
        }
    )
    return out
