"""The CDNOW sample ships as package data and loads without the repository."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from crmcore.analytics import summary_from_transactions
from crmcore.datasets import (
    CDNOW_CALIBRATION_END,
    CDNOW_HOLDOUT_END,
    load_cdnow,
    load_cdnow_summary,
)


def test_the_sample_has_its_published_shape() -> None:
    log = load_cdnow()
    assert (len(log), len(log.customer_ids)) == (6919, 2357)
    assert log["amount"].values.min() >= 0 and log["items"].values.min() >= 1
    published = load_cdnow_summary()
    assert len(published) == 2357 and int(published.repeat_buyers.sum()) == 946
    assert published.as_of == CDNOW_CALIBRATION_END


def test_the_summary_from_the_raw_sample_matches_the_published_one() -> None:
    ours = summary_from_transactions(
        load_cdnow(), CDNOW_CALIBRATION_END, "D", time_unit="W", holdout_end=CDNOW_HOLDOUT_END
    )
    ref = load_cdnow_summary()
    order = np.argsort(ours.customer_ids.astype(np.int64))
    assert ours.frequency[order].tolist() == ref.frequency.tolist()


def test_it_loads_from_outside_the_repository(tmp_path: object) -> None:
    code = "from crmcore.datasets import load_cdnow; print(len(load_cdnow()))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=str(tmp_path), capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "6919"
