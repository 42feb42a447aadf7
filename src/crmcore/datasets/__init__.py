"""Data to learn and test with: synthetic CRM data, an Online-Retail-shaped export, CDNOW.

[`generate()`][crmcore.datasets.synthetic.generate] draws customers, purchases,
interactions, service records and feedback from one seeded random generator
(the same arguments always give the same data), for demos, docs, notebooks
and tests. [`online_retail_csv()`][crmcore.datasets.online_retail.online_retail_csv]
writes an export of the most common real shape (order lines, cancellations,
guests, float ids, month-first dates), and
[`load_cdnow()`][crmcore.datasets.cdnow.load_cdnow] loads the CDNOW sample of the
BTYD literature, shipped as package data.
"""

from crmcore.datasets.cdnow import (
    CDNOW_CALIBRATION_END,
    CDNOW_HOLDOUT_END,
    load_cdnow,
    load_cdnow_summary,
)
from crmcore.datasets.online_retail import ONLINE_RETAIL_COLUMNS, online_retail_csv
from crmcore.datasets.synthetic import SyntheticData, generate

__all__ = [
    "CDNOW_CALIBRATION_END",
    "CDNOW_HOLDOUT_END",
    "ONLINE_RETAIL_COLUMNS",
    "SyntheticData",
    "generate",
    "load_cdnow",
    "load_cdnow_summary",
    "online_retail_csv",
]
