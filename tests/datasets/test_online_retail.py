"""The Online-Retail-shaped export: seeded, with every trap of the real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcore.columnar import TransactionLog
from crmcore.datasets import ONLINE_RETAIL_COLUMNS, online_retail_csv
from crmcore.kernel.errors import ValidationError


def test_it_is_seeded_and_reads_in_one_call(tmp_path: Path) -> None:
    first = online_retail_csv(customers=50, seed=3)
    assert first == online_retail_csv(customers=50, seed=3)
    assert first != online_retail_csv(customers=50, seed=4)
    path = tmp_path / "orders.csv"
    assert online_retail_csv(path, customers=50, seed=3) == path.read_text()
    lines = first.splitlines()[1:]
    assert any(line.startswith("C") and ",-" in line for line in lines)  # cancellations
    assert any(",," in line for line in lines)  # guests
    assert all("/" in line.split(",")[4] for line in lines)  # month-first dates
    log = TransactionLog.from_csv(path, columns=ONLINE_RETAIL_COLUMNS, tz="UTC", extra="ignore")
    assert log.skipped and log.skipped[0].rows > 0
    assert (log["amount"].values < 0).any()


def test_bad_arguments_name_the_argument(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="target: must not be empty"):
        online_retail_csv("", customers=2)
    with pytest.raises(ValidationError, match="target: must be a path"):
        online_retail_csv(1.5, customers=2)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="target: cannot be written"):
        online_retail_csv(tmp_path / "missing" / "x.csv", customers=2)
    with pytest.raises(
        ValidationError, match=r"guest_share: must be a finite number from 0\.0 to 0\.9"
    ):
        online_retail_csv(customers=2, guest_share=1.0)
    with pytest.raises(ValidationError, match="customers: must be an integer"):
        online_retail_csv(customers=2**63)
