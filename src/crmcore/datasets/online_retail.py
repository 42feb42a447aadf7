"""A synthetic export in the shape of the UCI Online Retail data set, to try your-data reading on.

The most common shape of a real order export, with all its traps: one row per
order *line* (``InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
UnitPrice, CustomerID, Country``); cancellations as invoices ``C…`` with
negative quantities (some of goods bought before the export starts); about a
quarter of the rows without a customer (guest checkouts); customer ids that a
spreadsheet wrote as floats (``17850.0``); month-first naive times
(``12/1/2010 8:26``). [`online_retail_csv()`][crmcore.datasets.online_retail.online_retail_csv]
writes it, seeded, so the guide, the tests and the command line read the same file.

Customers buy as the BTYD story goes (a gamma-distributed rate while alive,
a beta-distributed chance to drop out after each order), so BG/NBD and
Gamma-Gamma fits have something to find.

Examples:
    >>> text = online_retail_csv(customers=20, seed=1)
    >>> text.splitlines()[0]
    'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country'
"""

from __future__ import annotations

import io
import os
from datetime import datetime, timedelta
from typing import Final

import numpy as np

from crmcore.kernel import validators
from crmcore.kernel.errors import ValidationError

__all__ = ["ONLINE_RETAIL_COLUMNS", "online_retail_csv"]

ONLINE_RETAIL_COLUMNS: Final = {
    "customer_id": "CustomerID",
    "at": "InvoiceDate",
    "order_id": "InvoiceNo",
    "quantity": "Quantity",
    "unit_price": "UnitPrice",
}
"""The column mapping that reads the export into a transaction log (our name → its name)."""

_START: Final = datetime(2010, 12, 1, 8, 0)
_DAYS: Final = 373  # to 2011-12-09, as the original
_MAX_CUSTOMERS: Final = 1_000_000
_COUNTRIES: Final = ("United Kingdom",) * 8 + ("Germany", "France", "EIRE", "Spain")
_WORDS: Final = ("WHITE", "HEART", "LANTERN", "RED", "MUG", "SET", "VINTAGE", "BAG", "CARD")


def _catalogue(rng: np.random.Generator, size: int = 300) -> list[tuple[str, str, float]]:
    items = []
    for i in range(size):
        code = f"{85000 + i}" + ("" if i % 4 else "A")
        words = " ".join(rng.choice(_WORDS, 3).tolist())
        price = float(np.round(rng.lognormal(0.8, 0.7), 2)) or 0.29
        items.append((code, f"{words} {i}", price))
    return items


def _when(day: float) -> str:
    moment = _START + timedelta(days=day)
    return f"{moment.month}/{moment.day}/{moment.year} {moment.hour}:{moment.minute:02d}"


def online_retail_csv(
    target: str | os.PathLike[str] | None = None,
    *,
    customers: int = 1000,
    seed: int = 7,
    guest_share: float = 0.25,
) -> str:
    """An Online-Retail-shaped CSV (see the module docs); written to ``target`` if given.

    Returns the CSV text. ``customers`` buyers with ids ``12346.0`` and up;
    ``guest_share`` of the invoices have no customer (from 0 to 0.9). ``target`` is a
    path (a ``str`` or path-like); one that cannot be written is a
    [`ValidationError`][crmcore.kernel.errors.ValidationError] naming it.
    """
    customers = validators.integer(customers, "customers", low=0, high=_MAX_CUSTOMERS)
    seed = validators.integer(seed, "seed", low=0)
    guest_share = validators.number(guest_share, "guest_share", low=0.0, high=0.9)
    path = None if target is None else _path(target)
    rng = np.random.default_rng(seed)
    catalogue = _catalogue(rng)
    rates = rng.gamma(0.8, 1 / 25.0, customers)  # orders per day while alive
    dropout = rng.beta(1.0, 4.0, customers)
    spend_level = rng.gamma(4.0, 0.25, customers)
    invoices: list[tuple[float, str | None, float, str]] = []  # day, customer, level, country
    for c in range(customers):
        buyer = f"{12346 + c}.0"
        country = str(rng.choice(_COUNTRIES))
        day = float(rng.uniform(0, _DAYS * 0.95))
        while day < _DAYS:
            invoices.append((day, buyer, float(spend_level[c]), country))
            if rng.random() < dropout[c]:
                break
            day += float(rng.exponential(1 / rates[c]))
    guests = int(len(invoices) * guest_share / (1 - guest_share))
    for _ in range(guests):
        invoices.append((float(rng.uniform(0, _DAYS)), None, 1.0, "United Kingdom"))
    invoices.sort(key=lambda inv: inv[0])
    out = io.StringIO()
    out.write(",".join(["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
                        "UnitPrice", "CustomerID", "Country"]) + "\n")  # fmt: skip
    cancellations: list[tuple[float, str, str, list[tuple[str, str, int, float]]]] = []
    number = 536365
    for day, cid, level, country in invoices:
        n_lines = int(rng.integers(1, 9))
        picks = rng.choice(len(catalogue), n_lines, replace=False)
        lines = []
        for k in picks.tolist():
            code, name, price = catalogue[k]
            quantity = int(max(1, round(rng.gamma(2.0, 3.0) * level)))
            lines.append((code, name, quantity, price))
        when = _when(day)
        who = cid or ""
        for code, name, quantity, price in lines:
            out.write(f"{number},{code},{name},{quantity},{when},{price:g},{who},{country}\n")
        if cid is not None and rng.random() < 0.06:
            back = lines[: int(rng.integers(1, len(lines) + 1))]
            cancellations.append((day + float(rng.uniform(0.1, 20)), cid, country, back))
        number += 1
    # returns of goods bought before the export starts: customers with no purchase in it
    for i in range(max(1, customers // 200)):
        code, name, price = catalogue[i]
        cancellations.append((float(rng.uniform(0, 30)), f"{99000 + i}.0", "France",
                              [(code, name, 2, price)]))  # fmt: skip
    for day, who, country, back in sorted(cancellations, key=lambda c: c[0]):
        if day >= _DAYS:
            continue
        when = _when(day)
        for code, name, quantity, price in back:
            out.write(f"C{number},{code},{name},{-quantity},{when},{price:g},{who},{country}\n")
        number += 1
    text = out.getvalue()
    if path is not None:
        try:
            with open(path, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
        except OSError as error:
            raise ValidationError("target", path, f"cannot be written: {error.strerror}") from None
    return text


def _path(target: object) -> str:
    """``target`` as a checked path string (a ``str`` or an ``os.PathLike`` of one)."""
    if not isinstance(target, str | os.PathLike):
        raise ValidationError("target", target, "must be a path (a str or os.PathLike)")
    path = os.fspath(target)
    if not isinstance(path, str):
        raise ValidationError("target", target, "must be a path as text, not bytes")
    return validators.text(path, "target", limit=4096)
