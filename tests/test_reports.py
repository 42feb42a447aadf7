"""Every report serialises, converts to pandas and renders in Jupyter with one look.

The first test walks every public class of crmcore that renders in Jupyter
(``_repr_html_``) and requires ``to_dict()`` and ``to_pandas()`` beside it. The
others check the shared look of
[`kernel.reports`][crmcore.kernel.reports]: one font, one way to write dates
and times, the currency on money columns, row labels that do not wrap.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

import crmcore
from crmcore.columnar.table import Frame
from crmcore.kernel.errors import MissingDependencyError
from crmcore.kernel.money import Money
from crmcore.kernel.reports import (
    REPORT_FONT,
    Report,
    data_frame,
    fmt,
    fmt_date,
    fmt_datetime,
    html_heatmap,
    html_table,
    records_frame,
)

ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _public_classes() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(crmcore.__path__, "crmcore."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            public = not name.startswith("_")
            if public and inspect.isclass(value) and value.__module__ == module.__name__:
                found.append(value)
    return found


def report_classes() -> list[type]:
    """Public classes that render in Jupyter, except frames (data, not reports) and the protocol."""
    return [
        c
        for c in _public_classes()
        if hasattr(c, "_repr_html_") and c is not Report and not issubclass(c, Frame)
    ]


def test_every_public_report_class_has_to_dict_to_pandas_and_repr_html() -> None:
    classes = report_classes()
    assert len(classes) > 50  # the walk found the reports (the check could otherwise pass empty)
    missing = [
        f"{c.__module__}.{c.__qualname__}.{method}"
        for c in classes
        for method in ("to_dict", "to_pandas", "_repr_html_")
        if not callable(getattr(c, method, None))
    ]
    assert missing == []


def test_frames_have_to_pandas_and_render_too() -> None:
    frames = [c for c in _public_classes() if isinstance(c, type) and issubclass(c, Frame)]
    assert {c.__name__ for c in frames} >= {"CustomerFrame", "TransactionLog", "EventLog"}
    assert all(callable(getattr(c, "to_pandas", None)) for c in frames)


# -- the shared look ----------------------------------------------------------------------------


def test_times_and_days_are_written_one_way() -> None:
    berlin = timezone(timedelta(hours=2))
    assert fmt_datetime(datetime(2026, 6, 1, 16, 30, tzinfo=berlin)) == "2026-06-01 14:30 UTC"
    assert fmt_datetime(datetime(2026, 6, 1, 0, 0, 5, tzinfo=UTC)) == "2026-06-01 00:00:05 UTC"
    assert fmt_date(datetime(2026, 6, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2)))) == (
        "2026-06-02"  # the UTC day
    )
    assert fmt(datetime(2026, 6, 1, tzinfo=UTC)) == "2026-06-01 00:00 UTC"
    assert fmt(datetime(2026, 6, 1, 9, tzinfo=UTC), "date") == "2026-06-01"


def test_money_is_written_with_its_minor_units_and_the_currency_goes_in_the_header() -> None:
    assert fmt(Money("1234.5", "EUR")) == "1,234.50 EUR"
    assert fmt(Money("1234.5", "EUR"), "money") == "1,234.50"
    assert fmt(Money("1234", "JPY"), "money") == "1,234"
    assert fmt(Money("1.2345", "KWD"), "money") == "1.234"  # three minor units, half-even
    out = html_table(
        "t", ["who", "spend", "orders"], [["a", 12.5, 3]], kinds=["auto", "money", "int"],
        currency="EUR",
    )  # fmt: skip
    assert ">spend (EUR)</th>" in out and ">orders</th>" in out and ">12.50<" in out


def test_tables_share_one_font_and_nothing_wraps_that_should_not() -> None:
    out = html_table("t", ["cohort", "n"], [["2026-W07", 12]], caption="c")
    assert out.count(REPORT_FONT) >= 2  # the table and its caption
    label = re.search(r'<td style="([^"]*)">2026-W07</td>', out)
    assert label is not None and "white-space:nowrap" in label.group(1)
    number = re.search(r'<td style="([^"]*)">12</td>', out)
    assert number is not None and "text-align:right" in number.group(1)
    assert "tabular-nums" in number.group(1)


def test_the_heatmap_shades_cells_and_keeps_labels_on_one_line() -> None:
    out = html_heatmap(
        "Retention",
        "cohort",
        ["2026-W01", "2026-W02"],
        ["+0", "+1"],
        [[1.0, 0.25], [1.0, np.nan]],
        lead=[("customers", [4, 2], "int")],
    )
    assert REPORT_FONT in out
    assert re.findall(r'white-space:nowrap;">(2026-W0\d)</td>', out) == ["2026-W01", "2026-W02"]
    assert out.count("background:rgba(76,120,168,") == 3  # the NaN cell is empty, unshaded
    assert ">25.0%</td>" in out and ">4</td>" in out


def test_data_frames_keep_text_as_text_and_empty_reports_keep_their_header() -> None:
    ids = np.array(["a", "b"], dtype=np.dtypes.StringDType())
    df = data_frame({"customer_id": ids, "value": np.array([1.0, 2.0])}, "Test.to_pandas")
    assert df["customer_id"].tolist() == ["a", "b"] and df["value"].sum() == 3.0
    empty = records_frame([], "Test.to_pandas", ("key", "n"))
    assert list(empty.columns) == ["key", "n"] and len(empty) == 0
    nested = records_frame([{"k": "x", "nps": {"value": 10, "n": 3}}], "Test.to_pandas")
    assert list(nested.columns) == ["k", "nps_value", "nps_n"]


def test_without_pandas_to_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)
    with pytest.raises(MissingDependencyError) as caught:
        records_frame([{"a": 1}], "FunnelReport.to_pandas")
    assert (caught.value.package, caught.value.extra) == ("pandas", "pandas")
    assert "FunnelReport.to_pandas" in str(caught.value)
    with pytest.raises(MissingDependencyError, match="pandas"):
        data_frame({"a": [1]}, "RfmReport.to_pandas")
    assert isinstance(pd.DataFrame(), pd.DataFrame)  # the real module is back after the test
