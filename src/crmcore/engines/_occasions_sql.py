"""Purchase occasions in SQL: a transaction log read inside an engine as numpy reads it.

Every transaction analytic of the engines reads its log through
[`read_log()`][crmcore.engines._occasions_sql.read_log], which applies the one rule of
[`crmcore.columnar.occasions`][crmcore.columnar.occasions] and the loader's row rules:

* **guests**: rows without a customer id are left out and reported as a
  [`SkippedRows`][crmcore.columnar.reading.SkippedRows] line, with their amount, as the
  frame loaders report them;
* **amounts** are exact integers in units of 1/10,000 (``round_even(amount *
  10000)``, numpy's ``rint``); where ``amount`` is missing, the unit price in
  those units times ``quantity``;
* **orders**: rows sharing an ``order_id`` (and a customer) are one order,
  at the time of its first row and worth the sum of its rows; a row without
  one is an order by itself (no ``GROUP BY`` then: a log without order ids
  is read row by row, at the cost of a scan);
* an order is a **purchase occasion** when its value is not negative and
  some row of it does not return goods (a negative amount or quantity);
  any other order is a **return**.

The checks come first, in one scan of the rows, and raise the errors the
loaders raise, naming the row and the column: a missing time, a missing
amount, a unit price without a quantity, an amount that disagrees with
quantity x unit price, one order id on two customers.
[`data_used()`][crmcore.engines._occasions_sql.data_used] then gives the report's
[`DataUsed`][crmcore.columnar.occasions.DataUsed] from the per-customer totals of
[`totals_sql()`][crmcore.engines._occasions_sql.totals_sql].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from crmcore.columnar.occasions import DataUsed
from crmcore.columnar.reading import SkippedRows
from crmcore.columnar.table import Frame
from crmcore.engines._dialect import Dialect
from crmcore.engines._runner import (
    NUMBERS,
    ROW,
    ColumnNeed,
    Runner,
    check_columns,
    text_type,
)
from crmcore.kernel.clock import from_micros
from crmcore.kernel.errors import CurrencyMismatchError, ValidationError

__all__ = [
    "GUESTS",
    "MAX_EXACT",
    "SPEND_SCALE",
    "TRANSACTION_COLUMNS",
    "LogFacts",
    "EngineLog",
    "check_currency",
    "data_used",
    "read_log",
    "exact_limit",
    "exact_sum",
    "totals_sql",
]

SPEND_SCALE: Final = 10_000.0
"""Units of spend per currency unit (``crmcore.columnar.occasions.UNITS``)."""
GUESTS: Final = "without a customer id (guest checkouts)"
"""The reason the loaders give for rows without a customer."""
MAX_EXACT: Final = 2**53
"""Sums of units must stay below this to be exact in a float64 (numpy's limit)."""
_MAX_DOUBLE: Final = 1.7976931348623157e308
_MAX_LINE_UNITS: Final = 2.0**62

TRANSACTION_COLUMNS: Final = (
    ColumnNeed("customer_id", ("text",), meaning="a text column of customer ids"),
    ColumnNeed("at", ("timestamp",), meaning="a timestamp with time zone (an instant)"),
    ColumnNeed("amount", NUMBERS, meaning="a number column (float, integer or decimal)"),
    ColumnNeed("currency", ("text",), required=False, meaning="a text column of ISO 4217 codes"),
    ColumnNeed("order_id", ("text",), required=False, meaning="a text column of order ids"),
    ColumnNeed("quantity", ("integer",), required=False, meaning="an integer column"),
    ColumnNeed("unit_price", NUMBERS, required=False, meaning="a number column"),
)
"""What the transaction plans read (named as in a
[`TransactionLog`][crmcore.columnar.TransactionLog]); ``amount`` may be left out when
``quantity`` and ``unit_price`` are given."""


@attrs.frozen
class LogFacts:
    """What the scan of the rows found (rows with a customer unless said otherwise).

    ``rows`` counts them; ``guests`` the rows without a customer, worth
    ``guest_units``; ``after`` and ``up_to`` the rows after ``as_of`` and up
    to it. ``currency_low``/``high`` bound the currencies of every row,
    ``end_*`` those of the rows up to the analysis' end; ``largest`` is the
    largest absolute amount in units; ``orders`` and ``quantities`` say
    whether any row has an order id or a quantity.
    """

    rows: int
    guests: int
    guest_units: float
    after: int
    up_to: int
    currency_low: str | None
    currency_high: str | None
    end_low: str | None
    end_high: str | None
    largest: float
    orders: bool
    quantities: bool


@attrs.frozen
class EngineLog:
    """A transaction log as an engine reads it: its purchase occasions and what the read found.

    ``lines`` is a view of the rows with a customer (``customer_id, at_us,
    units, back`` (the row returns goods), ``currency, order_id, crm_row``);
    ``occasions`` one of the orders
    (``customer_id, at_us, units, crm_row, purchase``), ``crm_row`` being
    the order's first row; ``skipped`` what was left out (the frame's own
    notes, or the guests found).
    """

    lines: str
    occasions: str
    facts: LogFacts
    skipped: tuple[SkippedRows, ...]


def _canonical(d: Dialect, raw: str, found: Mapping[str, object]) -> str:
    """The user's columns under their own names, typed: one row per row of the input."""
    q = d.quote
    text = text_type(d)

    def column(name: str, kind: str) -> str:
        value = f"CAST({q(name)} AS {kind})" if name in found else f"CAST(NULL AS {kind})"
        return f"{value} AS {name}"

    return (
        f"SELECT CAST({q('customer_id')} AS {text}) AS customer_id, "
        f"{d.micros(q('at'))} AS at_us, {column('amount', 'DOUBLE')}, "
        f"{column('quantity', 'BIGINT')}, {column('unit_price', 'DOUBLE')}, "
        f"{column('currency', text)}, {column('order_id', text)}, {ROW} FROM {raw}"
    )


def _scaled(d: Dialect, value: str) -> str:
    return d.round_even(f"{value} * {d.double(SPEND_SCALE)}")


def _units(d: Dialect, priced: bool) -> str:
    """A row's value in units (BIGINT); valid once the checks passed."""
    amount = d.to_bigint(_scaled(d, "amount"))
    if not priced:
        return amount
    line = f"{d.to_bigint(_scaled(d, 'unit_price'))} * quantity"
    return f"CASE WHEN amount IS NULL OR isnan(amount) THEN {line} ELSE {amount} END"


def _row_checks(d: Dialect, priced: bool) -> list[tuple[str, str]]:
    """The loaders' row rules, in their order: (column, condition of a bad row)."""
    given = "(amount IS NOT NULL AND NOT isnan(amount))"
    price = "(unit_price IS NOT NULL AND NOT isnan(unit_price))"
    checks = [("at", "at_us IS NULL")]
    if priced:
        line = f"(quantity IS NOT NULL AND {price})"
        scaled = f"unit_price * {d.double(SPEND_SCALE)}"
        rounded = _scaled(d, "unit_price")
        checks += [
            ("quantity", f"{price} AND quantity IS NULL"),
            ("amount", f"NOT {given} AND NOT {line}"),
            ("amount", f"{given} AND abs(amount) > {d.double(_MAX_DOUBLE)}"),
            (
                "unit_price",
                f"{line} AND abs({scaled} - {rounded}) > "
                f"{d.double(1e-6)} * greatest({d.double(1.0)}, abs({scaled}))",
            ),
            (
                "quantity",
                f"{line} AND abs({rounded}) * abs({d.to_double('quantity')}) >= "
                f"{d.double(_MAX_LINE_UNITS)}",
            ),
            (
                "amount",
                f"{line} AND {given} AND {_scaled(d, 'amount')} <> "
                f"{rounded} * {d.to_double('quantity')}",
            ),
        ]
    else:
        checks += [
            ("amount", f"NOT {given}"),
            ("amount", f"abs(amount) > {d.double(_MAX_DOUBLE)}"),
        ]
    return checks


def _refuse(runner: Runner, tx: str, column: str, row: int) -> ValidationError:
    """The loader's error for the bad value of ``column`` in row ``row``."""
    values = runner.rows(f"SELECT amount, quantity, unit_price FROM {tx} WHERE {ROW} = {row}")
    amount, quantity, price = values[0] if values else (None, None, None)
    field = f"row {row}: {column}"
    if column == "at":
        return ValidationError(field, None, "is required (column is not nullable)")
    if column == "unit_price":
        return ValidationError(
            field,
            float(price),
            "has more than 4 decimals, below any currency's minor unit: round it",
        )
    if column == "quantity" and quantity is None:
        return ValidationError(
            field, None,
            "is missing while unit_price is given: give both (amount = quantity x unit_price), "
            "or give only an amount",
        )  # fmt: skip
    if column == "quantity":
        return ValidationError(field, int(quantity), "x unit_price is too large")
    if amount is None or amount != amount:
        return ValidationError(
            field, None,
            "is required (missing or NaN): give an amount, or a quantity and a unit_price",
        )  # fmt: skip
    if abs(amount) > _MAX_DOUBLE:
        return ValidationError(field, float(amount), "must be a finite number")
    total = round(float(price) * SPEND_SCALE) * int(quantity) / SPEND_SCALE
    return ValidationError(
        field, float(amount),
        f"differs from quantity x unit_price = {int(quantity)} x {float(price):g} = "
        f"{total:g}: drop one of them, or fix the row",
    )  # fmt: skip


def _scan(runner: Runner, tx: str, priced: bool, as_us: int, end_us: int) -> LogFacts:
    """One scan of the rows: the row checks (raising the first failure) and the facts."""
    d = runner.dialect
    checks = _row_checks(d, priced)
    who = "customer_id IS NOT NULL"
    value = (
        f"(CASE WHEN amount IS NULL OR isnan(amount) THEN {_scaled(d, 'unit_price')} * "
        f"{d.to_double('quantity')} ELSE {_scaled(d, 'amount')} END)"
        if priced
        else _scaled(d, "amount")
    )
    as_of, end = d.integer(as_us), d.integer(end_us)
    parts = [f"min(CASE WHEN {bad} THEN {ROW} END)" for _, bad in checks]
    parts += [
        f"count(CASE WHEN {who} THEN 1 END)",
        f"count(CASE WHEN NOT ({who}) THEN 1 END)",
        f"sum(CASE WHEN NOT ({who}) THEN {value} END)",
        f"count(CASE WHEN {who} AND at_us > {as_of} THEN 1 END)",
        f"count(CASE WHEN {who} AND at_us <= {as_of} THEN 1 END)",
        f"min(CASE WHEN {who} THEN currency END)",
        f"max(CASE WHEN {who} THEN currency END)",
        f"min(CASE WHEN {who} AND at_us <= {end} THEN currency END)",
        f"max(CASE WHEN {who} AND at_us <= {end} THEN currency END)",
        f"max(CASE WHEN {who} THEN abs({value}) END)",
        f"count(CASE WHEN {who} THEN order_id END)",
        f"count(CASE WHEN {who} THEN quantity END)",
    ]
    row = runner.rows(f"SELECT {', '.join(parts)} FROM {tx}")[0]
    for (column, _), first in zip(checks, row, strict=False):
        if first is not None:
            raise _refuse(runner, tx, column, int(first))
    (rows, guests, guest_units, after, up_to, low, high, p_low, p_high, largest, orders,
     quantities) = row[len(checks):]  # fmt: skip
    return LogFacts(
        rows=int(rows), guests=int(guests), guest_units=float(guest_units or 0.0),
        after=int(after), up_to=int(up_to), currency_low=low, currency_high=high,
        end_low=p_low, end_high=p_high, largest=float(largest or 0.0),
        orders=bool(orders), quantities=bool(quantities),
    )  # fmt: skip


def _check_one_customer_per_order(runner: Runner, lines: str) -> None:
    """Refuse an order id on two customers, naming the row as the loaders do."""
    clash = runner.rows(
        f"SELECT order_id FROM {lines} WHERE order_id IS NOT NULL GROUP BY order_id "
        "HAVING min(customer_id) <> max(customer_id) LIMIT 1"
    )
    if not clash:
        return
    owners = (
        f"SELECT o.order_id, o.first_row, l.customer_id AS owner FROM (SELECT order_id, "
        f"min({ROW}) AS first_row FROM {lines} WHERE order_id IS NOT NULL GROUP BY order_id) o "
        f"JOIN {lines} l ON l.{ROW} = o.first_row"
    )
    row, order, owner, earlier, other = runner.rows(
        f"SELECT l.{ROW}, l.order_id, w.owner, w.first_row, l.customer_id FROM {lines} l "
        f"JOIN ({owners}) w ON l.order_id = w.order_id WHERE l.customer_id <> w.owner "
        f"ORDER BY l.{ROW} LIMIT 1"
    )[0]
    raise ValidationError(
        f"row {row}: order_id", str(order),
        f"belongs to customer {str(owner)!r} in row {earlier} and to {str(other)!r} here: "
        "the lines of an order have one customer",
    )  # fmt: skip


def read_log(
    runner: Runner, raw: str, source: object, as_us: int, end_us: int | None = None
) -> EngineLog:
    """Check the raw view of a transaction log and give its lines and purchase occasions.

    ``source`` is what the user passed (a frame's own skipped rows are
    reported); ``as_us`` and ``end_us`` (default ``as_us``) bound the
    analysis, for the facts. Raises the loaders' errors (see the module docs).
    """
    found = runner.columns(raw)
    priced = "quantity" in found and "unit_price" in found
    needs = [n if n.name != "amount" or not priced else attrs.evolve(n, required=False)
             for n in TRANSACTION_COLUMNS]  # fmt: skip
    check_columns(found, needs, "log")
    d = runner.dialect
    tx = runner.fresh("tx")
    runner.view(tx, _canonical(d, raw, found))
    facts = _scan(runner, tx, priced, as_us, as_us if end_us is None else end_us)
    back = "units < 0" + (" OR coalesce(quantity < 0, FALSE)" if facts.quantities else "")
    lines = runner.fresh("lines")
    runner.view(
        lines,
        f"SELECT customer_id, at_us, units, ({back}) AS back, currency, order_id, {ROW} FROM "
        f"(SELECT *, {_units(d, priced)} AS units FROM {tx} WHERE customer_id IS NOT NULL) t",
    )
    occasions = runner.fresh("occasions")
    if facts.orders:
        _check_one_customer_per_order(runner, lines)
        # Orders read more than once: computed once. Rows without an order id are orders of
        # their own (their row number is unique, and NULL for the others).
        runner.table(
            occasions,
            f"SELECT customer_id, min(at_us) AS at_us, sum(units) AS units, min({ROW}) AS {ROW}, "
            "sum(units) >= 0 AND count(CASE WHEN NOT back THEN 1 END) > 0 AS purchase "
            f"FROM {lines} GROUP BY customer_id, order_id, "
            f"CASE WHEN order_id IS NULL THEN {ROW} END",
        )
    else:
        runner.view(
            occasions,
            f"SELECT customer_id, at_us, units, {ROW}, NOT back AS purchase FROM {lines}",
        )
    skipped: tuple[SkippedRows, ...] = source.skipped if isinstance(source, Frame) else ()
    if facts.guests:
        note = SkippedRows(reason=GUESTS, rows=facts.guests, amount=facts.guest_units / SPEND_SCALE)
        skipped = (*skipped, note)
    return EngineLog(lines, occasions, facts, skipped)


def check_currency(
    runner: Runner, log: EngineLog, operation: str, end_us: int | None = None
) -> None:
    """Raise [`CurrencyMismatchError`][crmcore.kernel.errors.CurrencyMismatchError] when the
    rows (up to ``end_us``, the end given to ``read_log``) use two currencies; the first two in
    sorted order are named."""
    f = log.facts
    low, high = (f.currency_low, f.currency_high) if end_us is None else (
        f.end_low, f.end_high)  # fmt: skip
    if low == high:
        return
    condition = "currency IS NOT NULL"
    if end_us is not None:
        condition += f" AND at_us <= {runner.dialect.integer(end_us)}"
    codes = runner.rows(
        f"SELECT DISTINCT currency FROM {log.lines} WHERE {condition} ORDER BY currency LIMIT 2"
    )
    raise CurrencyMismatchError(str(codes[0][0]), str(codes[1][0]), operation)


def totals_sql(d: Dialect, occasions: str, as_us: int) -> str:
    """Per customer of the log: ``first_row`` (first appearance), purchase occasions up to
    ``as_of`` (``n``, ``gross`` units, ``first_us``, ``last_us``) and returns (``n_back``,
    ``back`` units, zero or negative)."""
    as_of = d.integer(as_us)
    buy = f"purchase AND at_us <= {as_of}"
    give = f"NOT purchase AND at_us <= {as_of}"
    return (
        f"SELECT customer_id, min({ROW}) AS first_row, "
        f"count(CASE WHEN {buy} THEN 1 END) AS n, "
        f"coalesce(sum(CASE WHEN {buy} THEN units END), 0) AS gross, "
        f"min(CASE WHEN {buy} THEN at_us END) AS first_us, "
        f"max(CASE WHEN {buy} THEN at_us END) AS last_us, "
        f"count(CASE WHEN {give} THEN 1 END) AS n_back, "
        f"coalesce(sum(CASE WHEN {give} THEN units END), 0) AS back "
        f"FROM {occasions} GROUP BY customer_id"
    )


def exact_limit(runner: Runner, log: EngineLog, sums: str) -> None:
    """Raise unless every total of ``sums`` (a query of ``total`` sums of units) stays below
    2**53, numpy's limit of exact sums; the total furthest from zero is quoted.

    The sums should be taken as ``DECIMAL(38, 0)`` (see
    [`exact_sum()`][crmcore.engines._occasions_sql.exact_sum]), which cannot overflow where a
    BIGINT sum could. The query runs only when some sum of the log's rows could reach the
    limit.
    """
    f = log.facts
    if f.largest * max(f.rows, 1) < MAX_EXACT:
        return
    row = runner.rows(f"SELECT max(total), min(total) FROM ({sums}) s")[0]
    high, low = (0 if v is None else int(v) for v in row)
    worst = high if high >= -low else low
    if abs(worst) >= MAX_EXACT:
        raise ValidationError(
            "amount", worst / SPEND_SCALE, "a total must stay below 2**53 / 10,000"
        )


def exact_sum(value: str) -> str:
    """The exact sum of integer ``value``, as ``DECIMAL(38, 0)``."""
    return f"sum(CAST({value} AS DECIMAL(38, 0)))"


def _currency(log: EngineLog) -> str | None:
    f = log.facts
    return f.currency_low if f.currency_low == f.currency_high else None


def data_used(runner: Runner, log: EngineLog, totals: str, as_us: int) -> DataUsed:
    """The report's [`DataUsed`][crmcore.columnar.occasions.DataUsed], from a view or table of
    [`totals_sql()`][crmcore.engines._occasions_sql.totals_sql] rows."""
    row: Any = runner.rows(
        "SELECT sum(n), sum(gross), sum(n_back), sum(back), "
        "sum(CASE WHEN n = 0 THEN n_back ELSE 0 END), sum(CASE WHEN n = 0 THEN back ELSE 0 END) "
        f"FROM {totals}"
    )[0]
    n, gross, n_back, back, orphans, orphan_units = (int(v or 0) for v in row)
    f = log.facts
    return DataUsed(
        as_of=from_micros(as_us),
        rows=f.rows,
        rows_after_as_of=f.after,
        purchase_occasions=n,
        purchase_value=gross / SPEND_SCALE,
        returns=n_back,
        return_value=back / SPEND_SCALE,
        returns_without_purchase=orphans,
        return_value_without_purchase=orphan_units / SPEND_SCALE,
        currency=_currency(log),
        skipped=log.skipped,
    )
