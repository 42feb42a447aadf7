"""Lifecycle classification in SQL: states, reasons and risk scores, bit for bit.

The result is that of [`classify_log()`][crmcore.lifecycle.policy_batch.classify_log].

The statement encodes ``crmcore.lifecycle.policy_batch`` rule for rule, on the log's purchase
occasions ([`crmcore.engines._occasions_sql`][crmcore.engines._occasions_sql]; a return never
makes a customer active): per customer, the occasions up to ``as_of`` in the current window, the
previous window and before, their spend summed exactly in units of 1/10,000, the first
and last occasion; then the decision list and the risk score, every float
expression in numpy's order of operations, so states, reason bits and risk
scores are the same bits. Customers without a purchase occasion up to ``as_of`` (in
the log, or only in ``customers``) are prospects.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
import numpy as np

from crmcore.columnar import STRING_DTYPE
from crmcore.columnar.arrow import import_pyarrow
from crmcore.engines._dialect import Dialect, cte
from crmcore.engines._occasions_sql import EngineLog
from crmcore.engines._runner import ROW, Runner, fetched
from crmcore.kernel.arrays import AnyArray, read_only
from crmcore.kernel.clock import DAY_US, from_micros, to_micros
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError
from crmcore.lifecycle.evidence import Reason
from crmcore.lifecycle.policy import MAX_SCALED_SPEND, SPEND_SCALE, LifecyclePolicy
from crmcore.lifecycle.policy_batch import BatchClassification, _population
from crmcore.lifecycle.states import LifecycleState

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "LifecycleOptions",
    "check_lifecycle_data",
    "lifecycle_classification",
    "lifecycle_options",
    "lifecycle_sql",
    "population_table",
]

_TOO_MUCH: Final = (
    "customer {customer!r}: spend must stay below 2**53 units of 1/10,000 to be summed exactly"
)


@attrs.frozen
class LifecycleOptions:
    """The checked options of one classification; ``population`` is ``None`` for the log's own."""

    as_us: int
    policy: LifecyclePolicy
    population: AnyArray | None = attrs.field(eq=False)


def lifecycle_options(as_of: datetime, policy: object, customers: object) -> LifecycleOptions:
    """The options checked as
    [`classify_log()`][crmcore.lifecycle.policy_batch.classify_log] checks them."""
    if not isinstance(policy, LifecyclePolicy):
        raise ValidationError("policy", policy, "must be a LifecyclePolicy")
    as_us = to_micros(as_of, "as_of")
    population = None if customers is None else _population(customers)
    if population is not None:
        names = population.tolist()
        if len(set(names)) != len(names):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValidationError("customers", name, "lists a customer id twice")
                seen.add(name)
    return LifecycleOptions(as_us, policy, population)


def _windows(d: Dialect, o: LifecycleOptions) -> tuple[str, str, str]:
    """The conditions of the current window, the previous one and the time before (on
    ``at_us``, for occasions up to ``as_of``)."""
    window = o.policy.window_days * DAY_US
    current = f"at_us > {d.integer(o.as_us - window)}"
    previous = (
        f"at_us <= {d.integer(o.as_us - window)} AND at_us > {d.integer(o.as_us - 2 * window)}"
    )
    older = f"at_us <= {d.integer(o.as_us - 2 * window)}"
    return current, previous, older


def check_lifecycle_data(runner: Runner, log: EngineLog, o: LifecycleOptions) -> None:
    """The data checks of ``classify_log`` after the log's own, in its order: one currency per
    customer, exact sums of each occasion and of each customer's spend."""
    d = runner.dialect
    f = log.facts
    if f.currency_low != f.currency_high:
        mixed = runner.rows(
            f"SELECT min(currency), max(currency), min({ROW}) AS first_row FROM {log.lines} "
            "GROUP BY customer_id HAVING min(currency) <> max(currency) "
            "ORDER BY first_row LIMIT 1"
        )
        if mixed:
            raise CurrencyMismatchError(str(mixed[0][0]), str(mixed[0][1]), "compare spend of")
    if f.largest * max(f.up_to, 1) < MAX_SCALED_SPEND:
        return  # no occasion and no customer's total can reach the limit
    as_of = d.integer(o.as_us)
    limit = d.double(MAX_SCALED_SPEND)
    huge = runner.rows(
        f"SELECT customer_id, units FROM {log.occasions} WHERE purchase AND at_us <= {as_of} "
        f"AND {d.to_double('units')} >= {limit} ORDER BY {ROW} LIMIT 1"
    )
    if huge:
        customer, units = huge[0]
        raise ValidationError(
            "amount", float(units) / SPEND_SCALE, _TOO_MUCH.format(customer=customer)
        )
    units = d.to_double("units")
    bins = ", ".join(
        f"coalesce(sum(CASE WHEN {when} THEN {units} END), {d.double(0.0)}) AS {name}"
        for name, when in zip(("c", "p", "o"), _windows(d, o), strict=True)
    )
    sums = (
        f"SELECT customer_id, min({ROW}) AS first_row, {bins} FROM {log.occasions} "
        f"WHERE purchase AND at_us <= {as_of} GROUP BY customer_id"
    )
    too_much = runner.rows(
        f"SELECT customer_id, (c + p) + o AS total FROM ({sums}) x "
        f"WHERE (c + p) + o >= {limit} OR c >= {limit} OR p >= {limit} OR o >= {limit} "
        "ORDER BY first_row LIMIT 1"
    )
    if too_much:
        customer, total = too_much[0]
        raise ValidationError(
            "amount", float(total) / SPEND_SCALE, _TOO_MUCH.format(customer=customer)
        )


def _rules(d: Dialect, p: LifecyclePolicy, as_us: int) -> list[tuple[str, str]]:
    """The decision list and the risk score over ``agg``, layer by layer (numpy's order)."""
    f = d.double
    as_of = d.integer(as_us)
    one, zero = f(1.0), f(0.0)
    base = (
        "SELECT *, n > 0 AS has, "
        f"{as_of} - CASE WHEN n > 0 THEN last_us ELSE {as_of} END AS recency, "
        f"CASE WHEN n > 0 THEN last_us ELSE {as_of} END "
        f"- CASE WHEN n > 0 THEN first_us ELSE {as_of} END AS span, "
        f"CASE WHEN n > 0 THEN first_us ELSE {as_of} END AS first_at "
        "FROM agg"
    )
    floats = (
        f"SELECT *, {d.to_double('recency')} AS rec_f, {d.to_double('span')} AS span_f, "
        f"{d.to_double('n - 1')} AS n_less_1, {d.to_double('f_cur')} AS fc, "
        f"{d.to_double('f_prev')} AS fp, f_prev >= {p.min_trend_purchases} AS trend "
        "FROM base"
    )
    churn_f = f(float(p.churn_days * DAY_US))
    risk_parts = (
        f"SELECT *, least({one}, rec_f / {churn_f}) AS silence, "
        f"CASE WHEN n >= 2 AND span > 0 THEN least((rec_f * n_less_1) / "
        f"({f(2.0 * p.gap_multiple)} * span_f), {one}) ELSE {zero} END AS overdue, "
        f"CASE WHEN trend THEN greatest({zero}, {one} - fc / fp) ELSE {zero} END AS f_drop, "
        f"trend AND s_prev > {zero} AS spend_trend, "
        f"has AND recency >= {d.integer(p.churn_days * DAY_US)} AS churned "
        "FROM floats"
    )
    decisions = (
        "SELECT *, CASE WHEN spend_trend THEN "
        f"greatest({zero}, {one} - s_cur / s_prev) ELSE {zero} END AS s_drop, "
        f"has AND NOT churned AND first_at > {d.integer(as_us - p.new_days * DAY_US)} AS new "
        "FROM risk_parts"
    )
    rest = "has AND NOT churned AND NOT new"
    declines = (
        f"SELECT *, {rest} AND n >= 2 AND recency > {d.integer(p.min_silence_days * DAY_US)} "
        f"AND rec_f * n_less_1 > {f(p.gap_multiple)} * span_f AS gap, "
        f"{rest} AND n = 1 AS no_repeat, "
        f"{rest} AND trend AND fc <= {f(p.decline_ratio)} * fp AS f_down, "
        f"{rest} AND spend_trend AND s_cur <= {f(p.decline_ratio)} * s_prev AS s_down, "
        f"{rest} AS rest FROM decisions"
    )
    growths = "SELECT *, gap OR no_repeat OR f_down OR s_down AS decline FROM declines"
    grow = "rest AND NOT decline"
    growing = f"f_cur >= {p.min_trend_purchases}"
    ups = (
        f"SELECT *, {grow} AND {growing} AND fc >= {f(p.growth_ratio)} * fp AS f_up, "
        f"{grow} AND {growing} AND s_cur > {zero} AND s_cur >= {f(p.growth_ratio)} * s_prev "
        f"AS s_up, {grow} AND n < {p.mature_min_purchases} AS building, {grow} AS grow "
        "FROM growths"
    )
    return [
        ("base", base),
        ("floats", floats),
        ("risk_parts", risk_parts),
        ("decisions", decisions),
        ("declines", declines),
        ("growths", growths),
        ("ups", ups),
    ]


def lifecycle_sql(d: Dialect, log: EngineLog, o: LifecycleOptions, population: str | None) -> str:
    """One row per customer (the log's, in first-appearance order, or ``population``'s)."""
    p = o.policy
    as_of = d.integer(o.as_us)
    scale = d.double(SPEND_SCALE)
    zero = d.double(0.0)
    current, previous, older = _windows(d, o)
    buy = f"purchase AND at_us <= {as_of}"
    sums = (
        f"SELECT customer_id, min({ROW}) AS first_row, "
        f"count(CASE WHEN {buy} THEN 1 END) AS n, "
        f"min(CASE WHEN {buy} THEN at_us END) AS first_us, "
        f"max(CASE WHEN {buy} THEN at_us END) AS last_us, "
        f"count(CASE WHEN {buy} AND {current} THEN 1 END) AS f_cur, "
        f"count(CASE WHEN purchase AND {previous} THEN 1 END) AS f_prev, "
        f"coalesce(sum(CASE WHEN {buy} AND {current} THEN units END), 0) AS u_cur, "
        f"coalesce(sum(CASE WHEN purchase AND {previous} THEN units END), 0) AS u_prev, "
        f"coalesce(sum(CASE WHEN purchase AND {older} THEN units END), 0) AS u_old "
        f"FROM {log.occasions} GROUP BY customer_id"
    )
    numbers = (
        "n, first_us, last_us, f_cur, f_prev, "
        f"{d.to_double('u_cur')} AS s_cur, {d.to_double('u_prev')} AS s_prev, "
        f"{d.to_double('u_old')} AS s_old"
    )
    if population is None:
        agg = f"SELECT customer_id, first_row AS position, {numbers} FROM sums"
    else:
        empty = (
            "coalesce(s.n, 0) AS n, s.first_us, s.last_us, coalesce(s.f_cur, 0) AS f_cur, "
            "coalesce(s.f_prev, 0) AS f_prev, "
            f"{d.to_double('coalesce(s.u_cur, 0)')} AS s_cur, "
            f"{d.to_double('coalesce(s.u_prev, 0)')} AS s_prev, "
            f"{d.to_double('coalesce(s.u_old, 0)')} AS s_old"
        )
        agg = (
            f"SELECT p.customer_id, p.position, {empty} FROM {population} p "
            "LEFT JOIN sums s ON p.customer_id = s.customer_id"
        )
    steps = [("sums", sums), ("agg", agg), *_rules(d, p, o.as_us)]
    states = (
        "CASE "
        + " ".join(
            f"WHEN {flag} THEN {state.code}"
            for flag, state in (
                ("new", LifecycleState.NEW),
                ("f_up OR s_up OR building", LifecycleState.GROWTH),
                ("grow AND NOT (f_up OR s_up OR building)", LifecycleState.MATURE),
                ("decline", LifecycleState.DECLINE),
                ("churned", LifecycleState.CHURNED),
            )
        )
        + f" ELSE {LifecycleState.PROSPECT.code} END"
    )
    reasons = " + ".join(
        f"CASE WHEN {flag} THEN {reason.bit} ELSE 0 END"
        for flag, reason in (
            ("NOT has", Reason.NO_PURCHASES),
            ("churned", Reason.NO_ACTIVITY_BEYOND_CHURN_HORIZON),
            ("new", Reason.FIRST_PURCHASE_RECENT),
            ("gap", Reason.RECENCY_BEYOND_USUAL_GAP),
            ("no_repeat", Reason.NO_REPEAT_PURCHASE),
            ("f_down", Reason.FREQUENCY_DOWN),
            ("s_down", Reason.SPEND_DOWN),
            ("f_up", Reason.FREQUENCY_UP),
            ("s_up", Reason.SPEND_UP),
            ("building", Reason.BUILDING_HISTORY),
            ("grow AND NOT (f_up OR s_up OR building)", Reason.STABLE_ACTIVITY),
        )
    )
    f = d.double
    risk = (
        f"CASE WHEN has THEN greatest(greatest(silence, overdue), greatest(f_drop, s_drop)) "
        f"ELSE {zero} END"
    )
    day = f(float(DAY_US))
    final = (
        f"SELECT customer_id, {states} AS states, {risk} AS risk_scores, "
        f"{reasons} AS reason_bits, n AS purchases, "
        "CASE WHEN has THEN first_us END AS first_purchase_at, "
        "CASE WHEN has THEN last_us END AS last_purchase_at, "
        f"CASE WHEN has THEN rec_f / {day} END AS recency_days, "
        f"CASE WHEN n >= 2 THEN (span_f / greatest(n_less_1, {f(1.0)})) / {day} END "
        "AS usual_gap_days, "
        "f_cur AS frequency_current, f_prev AS frequency_previous, "
        f"s_cur / {scale} AS spend_current, s_prev / {scale} AS spend_previous, "
        f"((s_cur + s_prev) + s_old) / {scale} AS spend_total "
        "FROM ups ORDER BY position"
    )
    return cte(steps, final)


def population_table(ids: AnyArray) -> pa.Table:
    """The population as an Arrow table of ``customer_id`` and ``position``."""
    pa = import_pyarrow("classify_log(customers=...)")
    return pa.table(
        {
            "customer_id": pa.array(ids.tolist(), type=pa.string()),
            "position": pa.array(np.arange(len(ids), dtype=np.int64)),
        }
    )


def _times(result: pa.Table, name: str) -> AnyArray:
    values = result.column(name).cast("int64").fill_null(np.iinfo(np.int64).min)
    return read_only(np.asarray(values.to_numpy(zero_copy_only=False)).view("datetime64[us]"))


def lifecycle_classification(result: pa.Table, o: LifecycleOptions) -> BatchClassification:
    """The [`BatchClassification`][crmcore.lifecycle.policy_batch.BatchClassification] of the
    fetched rows."""
    return BatchClassification(
        from_micros(o.as_us),
        o.policy,
        customer_ids=fetched(result, "customer_id", STRING_DTYPE),
        states=fetched(result, "states", np.int8),
        risk_scores=fetched(result, "risk_scores", np.float64),
        reason_bits=fetched(result, "reason_bits", np.uint16),
        purchases=fetched(result, "purchases", np.int64),
        first_purchase_at=_times(result, "first_purchase_at"),
        last_purchase_at=_times(result, "last_purchase_at"),
        recency_days=fetched(result, "recency_days", np.float64),
        usual_gap_days=fetched(result, "usual_gap_days", np.float64),
        frequency_current=fetched(result, "frequency_current", np.int64),
        frequency_previous=fetched(result, "frequency_previous", np.int64),
        spend_current=fetched(result, "spend_current", np.float64),
        spend_previous=fetched(result, "spend_previous", np.float64),
        spend_total=fetched(result, "spend_total", np.float64),
    )
