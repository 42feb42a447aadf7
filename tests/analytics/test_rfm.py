"""RFM scores and segments: pandas differential tests, segment maps, reports, bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.analytics.quantiles import quantile_scores
from crmcore.analytics.rfm import RfmTable, rfm_scores
from crmcore.analytics.rfm_segments import (
    PYMC_MARKETING_SEGMENTS,
    R_RFM_SEGMENTS,
    RFM_SEGMENTS,
    SEG_MAP_RF,
    SegmentMap,
    SegmentRule,
)
from crmcore.columnar import Column, TransactionLog
from crmcore.kernel.errors import CurrencyMismatchError, NotFoundError, ValidationError

pd = pytest.importorskip("pandas")

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
DAY = timedelta(days=1)
ELEVEN = (
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New Customers",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
)


def pandas_scores(values: np.ndarray, method: str, labels: list[int]) -> list[int]:
    ranked = pd.Series(values).rank(method=method)
    return [int(x) for x in pd.qcut(ranked, len(labels), labels=labels)]


def random_log(seed: int, customers: int, rows: int, currency: bool = False) -> TransactionLog:
    rng = np.random.default_rng(seed)
    codes = np.concatenate([rng.permutation(customers), rng.integers(0, customers, rows)])
    rows = len(codes)
    ids = np.array([f"c{i:04d}" for i in range(customers)])
    # Coarse times and amounts so that ties occur.
    at = np.datetime64("2026-06-30T00:00:00", "us") - rng.integers(0, 60, rows).astype(
        "timedelta64[D]"
    )
    amount = rng.integers(1, 20, rows).astype(np.float64) * 5.0
    columns = {
        "customer_id": Column.from_numpy("string", ids[codes]),
        "at": Column.from_numpy("datetime", at),
        "amount": Column.from_numpy("float", amount),
    }
    if currency:
        columns["currency"] = Column.from_numpy("category", np.zeros(rows, int), categories=["EUR"])
    return TransactionLog(columns)


# -- scores against pandas ---------------------------------------------------------------------

values_strategy = st.lists(
    st.one_of(st.integers(0, 6).map(float), st.floats(0, 1000, allow_nan=False)),
    min_size=2,
    max_size=60,
)


@given(values=values_strategy, bins=st.integers(2, 9))
@settings(max_examples=150, deadline=None)
def test_first_ties_match_pandas_qcut_on_first_ranks(values: list[float], bins: int) -> None:
    array = np.array(values)
    expected = pandas_scores(array, "first", list(range(1, bins + 1)))
    assert quantile_scores(array, bins, "first").tolist() == expected


@given(values=values_strategy, method=st.sampled_from(["average", "dense"]))
@settings(max_examples=150, deadline=None)
def test_shared_ties_match_pandas_whenever_pandas_can_bin(values: list[float], method: str) -> None:
    array = np.array(values)
    ours = quantile_scores(array, 5, method)  # type: ignore[arg-type]
    try:
        expected = pandas_scores(array, method, [1, 2, 3, 4, 5])
    except ValueError:  # duplicate edges: pandas refuses, we still answer
        ranks = pd.Series(array).rank(method=method).to_numpy()
        assert set(ours.tolist()) <= {1, 2, 3, 4, 5}
        # ties share a score and the order is kept
        order = np.argsort(ranks, kind="stable")
        assert (np.diff(ours[order]) >= 0).all()
        for value in np.unique(array):
            assert len(set(ours[array == value].tolist())) == 1
        return
    assert ours.tolist() == expected
    for value in np.unique(array):
        assert len(set(ours[array == value].tolist())) == 1


def test_quantile_scores_edge_cases() -> None:
    assert quantile_scores([7.0]).tolist() == [3]
    assert quantile_scores([1, 1, 1], ties="average").tolist() == [3, 3, 3]
    assert quantile_scores([1.0, 2.0]).tolist() == [1, 5]  # as pandas: gaps below 5 values
    assert quantile_scores([3.0, 1.0, 2.0]).tolist() == [5, 1, 3]
    with pytest.raises(ValidationError):
        quantile_scores([])
    with pytest.raises(ValidationError):
        quantile_scores([1.0, float("nan")])
    with pytest.raises(ValidationError):
        quantile_scores([1.0, 2.0], bins=10)
    with pytest.raises(ValidationError):
        quantile_scores([1.0, 2.0], ties="max")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        quantile_scores(np.array(["a", "b"]))


def pandas_rfm(log: TransactionLog, as_of: datetime) -> Any:
    """The notebook recipe: groupby, rank(first), qcut (customers in the log's code order)."""
    df = pd.DataFrame(
        {
            "customer": log.customer_codes,
            "at": pd.DatetimeIndex(log.at).tz_localize("UTC"),
            "amount": log["amount"].values,
        }
    )
    df = df[df["at"] <= pd.Timestamp(as_of)]
    g = df.groupby("customer", sort=True).agg(
        last=("at", "max"), frequency=("at", "size"), monetary=("amount", "sum")
    )
    recency = (pd.Timestamp(as_of) - g["last"]) / pd.Timedelta(days=1)
    g["r"] = pd.qcut(recency.rank(method="first"), 5, labels=[5, 4, 3, 2, 1]).astype(int)
    g["f"] = pd.qcut(g["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    g["m"] = pd.qcut(g["monetary"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    g["recency"] = recency
    return g


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rfm_scores_match_the_pandas_recipe(seed: int) -> None:
    log = random_log(seed, customers=300, rows=1500)
    as_of = AS_OF - 5 * DAY  # some purchases lie after as_of and are ignored
    table = rfm_scores(log, as_of)
    g = pandas_rfm(log, as_of)
    ids = log.customer_ids[g.index.to_numpy()]
    assert table.customer_ids.tolist() == ids.tolist()
    assert table.frequency.tolist() == g["frequency"].tolist()
    np.testing.assert_allclose(table.monetary, g["monetary"].to_numpy())
    np.testing.assert_allclose(table.recency_days, g["recency"].to_numpy())
    for name in ("r", "f", "m"):
        assert getattr(table, name).tolist() == g[name].tolist()


@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 40),  # customer
            st.integers(0, 30),  # days before as_of (few values: recency ties)
            st.sampled_from([0.5, 1.0, 2.5, 10.0, 19.99]),  # few amounts: monetary ties
        ),
        min_size=1,
        max_size=300,
    ),
    bins=st.sampled_from([4, 5]),
)
@settings(max_examples=120, deadline=None)
def test_rfm_scores_equal_the_integer_unit_recipe_with_heavy_ties(
    rows: list[tuple[int, int, float]], bins: int
) -> None:
    """Differential: the selection-based scores (no sort) against groupby + rank(first) + qcut
    with spend summed in integer units, on data where nearly every value ties."""
    log = TransactionLog.from_records(
        {"customer_id": f"c{c}", "at": AS_OF - d * DAY, "amount": a} for c, d, a in rows
    )
    segments = RFM_SEGMENTS if bins == 5 else PYMC_MARKETING_SEGMENTS
    table = rfm_scores(log, AS_OF, bins=bins, segments=segments)
    df = pd.DataFrame(
        {
            "customer": log.customer_codes,
            "at": pd.DatetimeIndex(log.at).tz_localize("UTC"),
            "units": np.rint(log["amount"].values * 10_000).astype(np.int64),
        }
    )
    g = df.groupby("customer", sort=True).agg(
        last=("at", "max"), frequency=("at", "size"), units=("units", "sum")
    )
    recency = (pd.Timestamp(AS_OF) - g["last"]) / pd.Timedelta(days=1)
    up, down = list(range(1, bins + 1)), list(range(bins, 0, -1))

    def qcut(values: Any, labels: list[int]) -> list[int]:
        if len(values) == 1:
            return [labels[(bins + 1) // 2 - 1]]  # pandas cannot bin one value: the middle bin
        return [int(v) for v in pd.qcut(values.rank(method="first"), bins, labels=labels)]

    assert table.r.tolist() == qcut(recency, down)
    assert table.f.tolist() == qcut(g["frequency"], up)
    assert table.m.tolist() == qcut(g["units"], up)
    codes = (table.r.astype(int) - 1) * bins * bins + (table.f - 1) * bins + (table.m - 1)
    assert table.segment_codes.tolist() == segments.lookup()[codes].tolist()


def test_rfm_table_columns_and_segments() -> None:
    log = random_log(9, customers=200, rows=900)
    table = rfm_scores(log, AS_OF)
    assert len(table) == 200
    for array in (table.r, table.f, table.m):
        assert array.min() == 1 and array.max() == 5
        assert np.bincount(array)[1:].tolist() == [40] * 5  # ties="first": exact quintiles
    assert table.codes.tolist() == [int(c) for c in table.code_labels()]
    names = table.segment_list()
    lookup = {c: RFM_SEGMENTS.segment_of(*(int(d) for d in c)) for c in table.code_labels()}
    assert names == [lookup[c] for c in table.code_labels()]
    first = table.row(0)
    assert first["customer_id"] == str(table.customer_ids[0])
    assert table.row(str(table.customer_ids[0])) == first
    assert table.customers_in(names[0])[0] == first["customer_id"] or names[0] != first["segment"]
    assert table.mask("Champions").sum() == names.count("Champions")
    with pytest.raises(NotFoundError):
        table.mask("Nobody")
    with pytest.raises(NotFoundError):
        table.index_of("missing")
    with pytest.raises(ValidationError):
        table.row(10_000)
    assert not table.r.flags.writeable
    records = table.to_records()
    assert len(records) == 200 and records[7] == table.row(7)
    df = table.to_pandas()
    assert df["segment"].tolist() == names


def test_whole_days_makes_same_day_purchases_tie() -> None:
    t = AS_OF - 3 * DAY
    log = TransactionLog.from_records(
        [
            {"customer_id": "a", "at": t + timedelta(hours=1), "amount": 1.0},
            {"customer_id": "b", "at": t + timedelta(hours=5), "amount": 1.0},
        ]
    )
    exact = rfm_scores(log, AS_OF, ties="average")
    whole = rfm_scores(log, AS_OF, ties="average", whole_days=True)
    assert exact.r.tolist() == [1, 5]
    assert whole.r.tolist() == [3, 3]
    assert whole.recency_days.tolist() == [2.0, 2.0]


def test_monetary_mean_and_excluded_customers() -> None:
    log = TransactionLog.from_records(
        [
            {"customer_id": "a", "at": AS_OF - DAY, "amount": 10.0},
            {"customer_id": "a", "at": AS_OF - DAY, "amount": 30.0},
            {"customer_id": "b", "at": AS_OF - 2 * DAY, "amount": 25.0},
            {"customer_id": "later", "at": AS_OF + DAY, "amount": 99.0},
        ]
    )
    table = rfm_scores(log, AS_OF, monetary="mean")
    assert table.customer_ids.tolist() == ["a", "b"]  # no purchase up to as_of: excluded
    assert table.monetary.tolist() == [20.0, 25.0]
    assert table.revenue.tolist() == [40.0, 25.0]


# -- segment maps ------------------------------------------------------------------------------

MAPS = [RFM_SEGMENTS, R_RFM_SEGMENTS, SEG_MAP_RF, PYMC_MARKETING_SEGMENTS]


@pytest.mark.parametrize("segment_map", MAPS, ids=lambda m: m.name)
def test_every_code_maps_to_exactly_one_segment(segment_map: SegmentMap) -> None:
    lookup = segment_map.lookup()
    q = segment_map.bins
    assert len(lookup) == q**3 and (lookup >= 0).all()
    for i, (r, f, m) in enumerate(segment_map.codes()):
        assert segment_map.names[lookup[i]] == segment_map.segment_of(r, f, m)


@given(r=st.integers(1, 5), f=st.integers(1, 5), m=st.integers(1, 5))
def test_default_map_first_match_is_unique_segment(r: int, f: int, m: int) -> None:
    hits = [rule for rule in RFM_SEGMENTS.rules if rule.matches(r, f, m)]
    assert hits, "every code is covered by a rule (no default needed)"
    # Overlaps only where the table says so: Lost before Hibernating.
    assert len({h.name for h in hits}) == 1 or {h.name for h in hits} == {"Lost", "Hibernating"}
    assert RFM_SEGMENTS.segment_of(r, f, m) == hits[0].name


def test_default_map_has_the_eleven_segments_all_reachable() -> None:
    assert RFM_SEGMENTS.default is None
    assert set(RFM_SEGMENTS.names) == set(ELEVEN) and len(RFM_SEGMENTS.names) == 11
    reached = {RFM_SEGMENTS.names[i] for i in RFM_SEGMENTS.lookup().tolist()}
    assert reached == set(ELEVEN)
    assert RFM_SEGMENTS.segment_of(5, 5, 5) == "Champions"
    assert RFM_SEGMENTS.segment_of(1, 1, 1) == "Lost"
    assert RFM_SEGMENTS.segment_of(1, 1, 5) == "Hibernating"
    assert RFM_SEGMENTS.segment_of(1, 5, 1) == "Can't Lose Them"
    assert RFM_SEGMENTS.segment_of(5, 1, 3) == "New Customers"


SEG_MAP_REGEX = {
    r"[1-2][1-2]": "hibernating",
    r"[1-2][3-4]": "at_risk",
    r"[1-2]5": "cant_loose",
    r"3[1-2]": "about_to_sleep",
    r"33": "need_attention",
    r"[3-4][4-5]": "loyal_customers",
    r"41": "promising",
    r"51": "new_customers",
    r"[4-5][2-3]": "potential_loyalists",
    r"5[4-5]": "champions",
}


def test_seg_map_reproduces_the_python_regex_recipe() -> None:
    for r, f, m in SEG_MAP_RF.codes():
        rf = f"{r}{f}"
        # The recipe applies Series.replace(seg_map, regex=True) in dict order.
        matches = [name for pattern, name in SEG_MAP_REGEX.items() if re.fullmatch(pattern, rf)]
        assert len(matches) == 1
        assert SEG_MAP_RF.segment_of(r, f, m) == matches[0]
        assert RFM_SEGMENTS.segment_of(r, f, m).replace(" ", "_").lower().startswith(
            {"cant_loose": "can't", "potential_loyalists": "potential"}.get(
                matches[0], matches[0][:4]
            )
        ) or (matches[0] == "hibernating" and RFM_SEGMENTS.segment_of(r, f, m) == "Lost")


def test_r_rfm_map_first_match_and_others() -> None:
    m = R_RFM_SEGMENTS
    assert m.segment_of(5, 5, 5) == "Champions"  # also a Loyal Customers code: first wins
    assert m.segment_of(5, 1, 1) == "Potential Loyalist"  # before New Customers
    assert m.segment_of(1, 1, 5) == "Others"
    assert "Others" in m.names


def test_pymc_marketing_map_uses_quartile_codes() -> None:
    m = PYMC_MARKETING_SEGMENTS
    assert m.bins == 4
    assert m.segment_of(3, 3, 4) == "Premium Customer"
    assert m.segment_of(4, 1, 1) == "Inactive Customer"
    assert m.segment_of(4, 4, 1) == "Other"
    log = random_log(4, customers=100, rows=400)
    table = rfm_scores(log, AS_OF, bins=4, segments=m)
    assert set(table.r.tolist()) == {1, 2, 3, 4}
    with pytest.raises(ValidationError, match="4 bins"):
        rfm_scores(log, AS_OF, segments=m)


def test_custom_maps_are_validated() -> None:
    partial = [SegmentRule("Best", recency=5)]
    with pytest.raises(ValidationError, match="unmapped"):
        SegmentMap("mine", partial)
    mine = SegmentMap("mine", partial, default="Rest")
    assert mine.names == ("Best", "Rest")
    assert mine.segment_of(5, 1, 1) == "Best" and mine.segment_of(4, 5, 5) == "Rest"
    with pytest.raises(ValidationError):
        SegmentRule("x", recency=(3, 2))
    with pytest.raises(ValidationError):
        SegmentRule("", recency=1)
    with pytest.raises(ValidationError):
        SegmentMap("big", [SegmentRule("x", recency=7)], default="y")
    with pytest.raises(ValidationError):
        SegmentMap("none", [])
    with pytest.raises(ValidationError):
        SegmentMap.from_codes("bad", {"x": "555"}, default="y")
    with pytest.raises(ValidationError):
        SegmentMap.from_codes("bad", {"x": ["5a5"]}, default="y")
    log = random_log(5, customers=50, rows=200)
    table = rfm_scores(log, AS_OF, segments=mine)
    assert set(table.segment_list()) <= {"Best", "Rest"}
    assert table.mask("Best").sum() == (table.r == 5).sum()
    assert json.loads(json.dumps(mine.to_dict()))["rules"][0]["recency"] == [5, 5]


# -- report ------------------------------------------------------------------------------------


def test_report_sizes_shares_and_means() -> None:
    log = random_log(6, customers=400, rows=2000)
    table = rfm_scores(log, AS_OF)
    report = table.summary()
    assert report.customers == 400
    assert sum(s.customers for s in report.segments) == 400
    assert sum(s.share or 0 for s in report.segments) == pytest.approx(1.0)
    assert sum(s.revenue_share or 0 for s in report.segments) == pytest.approx(1.0)
    champions = report.segment("Champions")
    mask = table.mask("Champions")
    assert champions.customers == mask.sum()
    assert champions.mean_r == pytest.approx(table.r[mask].mean())
    assert champions.revenue == pytest.approx(table.revenue[mask].sum())
    data = json.loads(json.dumps(table.to_dict()))
    assert data["ties"] == "first" and len(data["segments"]) == 11
    empty = [s for s in data["segments"] if s["customers"] == 0]
    assert all(s["mean_r"] is None for s in empty)
    html = table._repr_html_()
    assert "Can&#x27;t Lose Them" in html and "RFM table" in html
    with pytest.raises(NotFoundError):
        report.segment("nope")
    assert "RfmTable(400 customers" in repr(table)
    assert isinstance(table, RfmTable)


# -- bad input ---------------------------------------------------------------------------------


def test_bad_input_raises_clear_errors() -> None:
    log = random_log(7, customers=20, rows=60)
    with pytest.raises(ValidationError, match="timezone-aware"):
        rfm_scores(log, datetime(2026, 6, 30))
    with pytest.raises(ValidationError, match="no purchase"):
        rfm_scores(log, AS_OF - 400 * DAY)
    with pytest.raises(ValidationError):
        rfm_scores("log", AS_OF)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        rfm_scores(log, AS_OF, monetary="max")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        rfm_scores(log, AS_OF, segments="default")  # type: ignore[arg-type]
    empty = TransactionLog.from_records([])
    with pytest.raises(ValidationError, match="no purchase"):
        rfm_scores(empty, AS_OF)
    only_a_return = TransactionLog.from_records(
        [{"customer_id": "a", "at": AS_OF - DAY, "amount": -1.0}]
    )
    with pytest.raises(ValidationError, match="no purchase"):
        rfm_scores(only_a_return, AS_OF)  # a return is not a purchase occasion
    with pytest.raises(ValidationError):
        rfm_scores(log, AS_OF, spend="refunds")  # type: ignore[arg-type]
    mixed = TransactionLog.from_records(
        [
            {"customer_id": "a", "at": AS_OF - DAY, "amount": 1.0, "currency": "EUR"},
            {"customer_id": "b", "at": AS_OF - DAY, "amount": 1.0, "currency": "USD"},
        ]
    )
    with pytest.raises(CurrencyMismatchError):
        rfm_scores(mixed, AS_OF)
    single = rfm_scores(random_log(8, customers=3, rows=10, currency=True), AS_OF)
    assert len(single) == 3


def test_one_customer_scores_the_middle() -> None:
    log = TransactionLog.from_records([{"customer_id": "a", "at": AS_OF - DAY, "amount": 5.0}])
    table = rfm_scores(log, AS_OF)
    assert table.code_labels() == ["333"]
    assert table.segment_list() == ["Need Attention"]


def test_returns_are_netted_out_of_monetary_not_refused() -> None:
    # Issue 21, defect 2: rfm_scores refused negative amounts, so returns had to be dropped.
    log = TransactionLog.from_records([
        {"customer_id": "a", "at": AS_OF - 9 * DAY, "amount": 100.0},
        {"customer_id": "a", "at": AS_OF - 2 * DAY, "amount": -40.0},
        {"customer_id": "b", "at": AS_OF - 3 * DAY, "amount": 70.0},
        {"customer_id": "c", "at": AS_OF - 3 * DAY, "amount": -5.0},
    ])  # fmt: skip
    net = rfm_scores(log, AS_OF)
    assert net.customer_ids.tolist() == ["a", "b"]
    assert net.monetary.tolist() == [60.0, 70.0]
    assert net.frequency.tolist() == [1, 1]  # a return is not a purchase occasion
    assert net.recency_days.tolist() == [9.0, 3.0]  # nor does it make the customer recent
    gross = rfm_scores(log, AS_OF, spend="gross")
    assert gross.monetary.tolist() == [100.0, 70.0]
    report = net.summary()
    assert report.spend == "net" and report.data is not None
    assert (report.data.returns, report.data.returns_without_purchase) == (2, 1)
    assert report.to_dict()["data"]["return_value"] == -45.0  # type: ignore[index]
