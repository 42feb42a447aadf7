"""The history forecast from a transaction log: periods, forecasts, and the backtest."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from crmcore.columnar import TransactionLog
from crmcore.kernel.errors import ValidationError
from crmcore.sales.revenue_forecast import revenue_forecast

AS_OF = datetime(2026, 1, 15, tzinfo=UTC)


def monthly_log(
    months: int, seed: int = 1, noise: float = 20.0, start_year: int = 2023
) -> TransactionLog:
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(months):
        season = 1.0 + 0.3 * np.sin(2 * np.pi * m / 12)
        total = (1000 + 25 * m) * season + rng.normal(0, noise)
        for c in range(3):  # three customers share the month's revenue
            rows.append(
                {
                    "customer_id": f"c{c}",
                    "amount": round(total / 3, 2),
                    "at": datetime(start_year + m // 12, m % 12 + 1, 5 + c, tzinfo=UTC),
                }
            )
    rows.append({"customer_id": "c0", "amount": 77.0, "at": datetime(2026, 1, 10, tzinfo=UTC)})
    return TransactionLog.from_records(rows)


def test_monthly_history_forecast_and_backtest() -> None:
    log = monthly_log(36)
    f = revenue_forecast(log, AS_OF, horizon=6)
    assert len(f.history) == 36 and f.history_labels[0] == "2023-01"
    assert f.history_labels[-1] == "2025-12" and f.current_to_date == 77.0
    assert [p.label for p in f.forecasts] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    b = f.backtest
    assert b is not None and b.labels == f.history_labels[-6:]
    assert np.array_equal(b.actual, f.history[-6:])
    assert b.wape is not None and b.naive_wape is not None
    assert b.wape < b.naive_wape  # the trend beats repeating last year
    manual = float(np.sum(np.abs(b.actual - b.forecast)) / np.sum(np.abs(b.actual)))
    assert b.wape == pytest.approx(manual)
    assert b.mape == pytest.approx(float(np.mean(np.abs(b.actual - b.forecast) / b.actual)))
    for p in f.forecasts:
        assert p.lower is not None and p.upper is not None and p.lower < p.forecast < p.upper
    assert set(f.parameters) == {"alpha", "beta", "gamma", "phi"}
    data = f.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert list(f.to_pandas()["kind"]).count("forecast") == 6
    assert "WAPE" in f._repr_html_()


def test_quarters_seasonal_naive_and_gaps() -> None:
    rows = [
        {
            "customer_id": "a",
            "amount": 100.0 + q,
            "at": datetime(2023 + q // 4, q % 4 * 3 + 1, 2, tzinfo=UTC),
        }
        for q in range(12)
        if q != 5
    ]
    log = TransactionLog.from_records(rows)
    f = revenue_forecast(
        log, AS_OF, period="quarter", method="seasonal_naive", horizon=4, holdout=4
    )
    assert f.history_labels[5] == "2024-Q2" and f.history[5] == 0.0  # a quarter without sales
    assert [p.forecast for p in f.forecasts] == [108.0, 109.0, 110.0, 111.0]
    assert f.backtest is not None and f.backtest.naive_wape == f.backtest.wape
    assert f.parameters == {}


def test_too_short_histories_and_bad_options_name_the_field() -> None:
    log = monthly_log(20, start_year=2024)  # 24 complete months up to 2025-12
    with pytest.raises(ValidationError) as error:
        revenue_forecast(log, AS_OF)
    assert error.value.field == "log"
    short = revenue_forecast(log, AS_OF, method="seasonal_naive", holdout=0)
    assert short.backtest is None
    for option, value in (
        ("period", "week"),
        ("method", "arima"),
        ("horizon", 0),
        ("holdout", -1),
        ("season_length", 0),
    ):
        with pytest.raises(ValidationError) as error:
            revenue_forecast(log, AS_OF, **{option: value})  # type: ignore[arg-type]
        assert error.value.field == option
    with pytest.raises(ValidationError):
        revenue_forecast(log, datetime(2026, 1, 15))


def test_an_as_of_centuries_after_the_history_is_refused() -> None:
    far = datetime(9000, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="200 years after the first purchase") as error:
        revenue_forecast(monthly_log(36), far)
    assert error.value.field == "as_of"
    with pytest.raises(ValidationError) as error:
        revenue_forecast(monthly_log(36), AS_OF, horizon=2**63)
    assert error.value.field == "horizon"
