import math

import numpy as np

from crmcore.kernel.reports import fmt, html_table, json_number


def test_json_number_makes_numpy_and_nan_json_safe() -> None:
    assert json_number(np.int64(3)) == 3 and type(json_number(np.int64(3))) is int
    assert json_number(np.float64(0.5)) == 0.5
    assert json_number(float("nan")) is None
    assert json_number(math.inf) is None
    assert json_number(None) is None
    assert json_number(np.bool_(True)) == 1


def test_fmt_kinds() -> None:
    assert fmt(0.1234, "pct") == "12.3%"
    assert fmt(1234567) == "1,234,567"
    assert fmt(2.5, "days") == "2.5 d"
    assert fmt(float("nan")) == "-"
    assert fmt("x") == "x"


def test_html_table_escapes_and_draws_bars() -> None:
    out = html_table(
        "<Funnel>", ["step", "count"], [["<script>", 10], ["b", 5]], bars={1: 10.0}, caption="a&b"
    )
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "&lt;Funnel&gt;" in out and "a&amp;b" in out
    assert out.count("background:#4c78a8") == 2
    assert "width:120px" in out and "width:60px" in out
