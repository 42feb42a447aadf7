"""The CDNOW sample: the data set of the "buy 'til you die" literature, shipped with crmcore.

The purchases of a 1/10 sample (2,357 customers) of the people who first
bought at the online music shop CDNOW in the first quarter of 1997, followed
until the end of June 1998, as Bruce Hardie and Peter Fader distribute it and
as the ``lifetimes`` package ships it (source and citations in
``crmcore/datasets/data/cdnow/SOURCE.md``).

* [`load_cdnow()`][crmcore.datasets.cdnow.load_cdnow]: the 6,919 transactions as a
  [`TransactionLog`][crmcore.columnar.TransactionLog] (customer id = sample id, time =
  the day at 00:00 UTC, ``amount`` in dollars, ``items`` = CDs);
* [`load_cdnow_summary()`][crmcore.datasets.cdnow.load_cdnow_summary]: the published
  calibration summary (39 weeks to
  [`CDNOW_CALIBRATION_END`][crmcore.datasets.cdnow.CDNOW_CALIBRATION_END], times in weeks)
  as a [`BtydSummary`][crmcore.analytics.btyd.BtydSummary].

Examples:
    >>> log = load_cdnow()
    >>> len(log), len(log.customer_ids)
    (6919, 2357)
    >>> int(load_cdnow_summary().frequency.sum())
    2457
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Final

import numpy as np

from crmcore.analytics.btyd import BtydSummary
from crmcore.columnar import Column, TransactionLog

__all__ = [
    "CDNOW_CALIBRATION_END",
    "CDNOW_HOLDOUT_END",
    "load_cdnow",
    "load_cdnow_summary",
]

CDNOW_CALIBRATION_END: Final = datetime(1997, 9, 30, tzinfo=UTC)
"""The end of the 39-week calibration period of the published analyses."""
CDNOW_HOLDOUT_END: Final = datetime(1998, 6, 30, tzinfo=UTC)
"""The end of the 39-week holdout period that follows it."""

_FOLDER: Final = ("data", "cdnow")


def _text(name: str) -> str:
    return resources.files("crmcore.datasets").joinpath(*_FOLDER, name).read_text("utf-8")


@cache
def _transactions() -> TransactionLog:
    rows = [line.split() for line in _text("CDNOW_sample.txt").splitlines() if line.strip()]
    ids = np.array([row[1].lstrip("0") or "0" for row in rows], dtype=str)
    ymd = [row[2] for row in rows]
    days = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in ymd], dtype="datetime64[D]")
    return TransactionLog(
        {
            "customer_id": Column.from_numpy("string", ids),
            "at": Column.from_numpy("datetime", days.astype("datetime64[us]")),
            "amount": Column.from_numpy("float", np.array([float(r[4]) for r in rows])),
            "items": Column.from_numpy("int", np.array([int(r[3]) for r in rows])),
        }
    )


def load_cdnow() -> TransactionLog:
    """The CDNOW sample's 6,919 transactions as a transaction log (see the module docs)."""
    return _transactions()


def load_cdnow_summary() -> BtydSummary:
    """The published CDNOW calibration summary: ``x``, ``t_x``, ``T`` (weeks) and ``zbar``.

    In sample-id order; ``as_of`` is
    [`CDNOW_CALIBRATION_END`][crmcore.datasets.cdnow.CDNOW_CALIBRATION_END].
    """
    lines = _text("cdnow_customers_summary_with_transactions.csv").splitlines()[1:]
    data = np.array([[float(v) for v in line.split(",")] for line in lines if line.strip()])
    return BtydSummary(
        customer_ids=data[:, 0].astype(np.int64).astype(str),
        frequency=data[:, 1].astype(np.int64),
        recency=data[:, 2],
        T=data[:, 3],
        monetary=data[:, 4],
        time_unit="W",
        as_of=CDNOW_CALIBRATION_END,
    )
