"""Command line on your own files: RFM, CLV, cohorts, lifecycle, funnels and segments from a CSV.

Every command reads the file with the library's loaders
([`TransactionLog.from_csv()`][crmcore.columnar.table.Frame.from_csv]: your column names
through ``--customer``, ``--at``, ``--amount``, ``--order``, ``--quantity``,
``--unit-price``; ``--tz`` for naive timestamps; extra columns ignored), runs
one analysis as of ``--as-of`` (default: the latest time in the file), and
prints a table, or ``--csv`` / ``--json``. What the input held and what was
left out (guests, returns, rows after as_of) is printed below the table (to
standard error with ``--csv``), and is part of the JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TextIO

import numpy as np

from crmcore.analytics import (
    GammaGammaModel,
    cohort_matrix,
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    rfm_scores,
    summary_from_transactions,
)
from crmcore.columnar import Column, CustomerFrame, EventLog, TransactionLog
from crmcore.columnar.occasions import DataUsed, purchase_occasions
from crmcore.demo._text import table
from crmcore.funnel import funnel_report
from crmcore.kernel.arrays import AnyArray
from crmcore.kernel.clock import from_micros, parse_datetime
from crmcore.kernel.errors import ModelFitError, ValidationError
from crmcore.lifecycle import classify_log
from crmcore.progress import Progress
from crmcore.segments import frame_schema, mask, parse_rule

__all__ = ["FILE_COMMANDS", "add_file_options", "run_file_command"]

FILE_COMMANDS = ("rfm", "clv", "cohorts", "lifecycle", "funnel", "segment")
"""The commands that read a user's file."""


def add_file_options(parser: argparse.ArgumentParser, *, events: bool = False) -> None:
    """The options that say how to read a file (and how to print the result)."""
    names = parser.add_argument_group("your columns (default: crmcore's own names)")
    names.add_argument("--customer", metavar="COL", help="customer id column (customer_id)")
    names.add_argument("--at", metavar="COL", help="timestamp column (at)")
    if events:
        names.add_argument("--kind", metavar="COL", help="event kind column (kind)")
    else:
        names.add_argument("--amount", metavar="COL", help="amount column (amount)")
        names.add_argument("--order", metavar="COL", help="order id column: lines of one order")
        names.add_argument("--quantity", metavar="COL", help="quantity column (negative: return)")
        names.add_argument("--unit-price", metavar="COL", help="unit price column")
        names.add_argument("--currency", metavar="COL", help="ISO 4217 currency column")
        names.add_argument(
            "--cancellations", metavar="REGEX", help="order ids that are returns, e.g. '^C'"
        )
    reading = parser.add_argument_group("reading")
    reading.add_argument("--tz", help="time zone of naive timestamps, e.g. UTC or Europe/Berlin")
    reading.add_argument("--dayfirst", action="store_true", help="1/12/2010 is 1 December")
    reading.add_argument(
        "--strict-guests", action="store_true", help="refuse rows without a customer id"
    )
    reading.add_argument("--as-of", help="ISO datetime with offset (default: the file's latest)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--csv", action="store_true", help="print CSV")
    output.add_argument("--json", action="store_true", help="print JSON")


def _mapping(args: argparse.Namespace, events: bool) -> dict[str, str]:
    pairs = {"customer_id": args.customer, "at": args.at}
    if events:
        pairs["kind"] = args.kind
    else:
        pairs |= {
            "amount": args.amount,
            "order_id": args.order,
            "quantity": args.quantity,
            "unit_price": args.unit_price,
            "currency": args.currency,
        }
    return {ours: theirs for ours, theirs in pairs.items() if theirs}


def read_log(args: argparse.Namespace) -> TransactionLog:
    """The transaction log of ``args.file`` read as the options say."""
    return TransactionLog.from_csv(
        args.file,
        columns=_mapping(args, events=False),
        tz=args.tz,
        dayfirst=args.dayfirst,
        extra="ignore",
        guests="refuse" if args.strict_guests else "exclude",
        cancellations=args.cancellations,
    )


def _as_of(args: argparse.Namespace, times: AnyArray) -> datetime:
    if args.as_of is not None:
        return parse_datetime(args.as_of, "--as-of")
    if not len(times):
        raise ValidationError("file", args.file, "has no rows to analyse")
    return from_micros(int(times.view(np.int64).max()))


def _emit(
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    report: dict[str, object],
    notes: Sequence[str],
) -> int:
    if args.json:
        out.write(json.dumps(report, indent=2, default=str) + "\n")
        return 0
    if args.csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        for note in notes:
            err.write(f"# {note}\n")
        return 0
    table(out, header, rows)
    for note in notes:
        out.write(f"  {note}\n")
    return 0


def _notes(data: DataUsed | None) -> list[str]:
    return [] if data is None else data.notes()


def _rfm(args: argparse.Namespace, out: TextIO, err: TextIO, bar: Progress) -> int:
    log = read_log(args)
    bar.step("read")
    table_ = rfm_scores(log, _as_of(args, log.at), spend=args.spend)
    bar.step("scored")
    if args.customers:
        records = table_.to_records()
        header = list(records[0]) if records else ["customer_id"]
        rows = [[r[k] for k in header] for r in records]
        return _emit(args, out, err, header, rows, table_.to_dict(), _notes(table_.data))
    report = table_.summary()
    rows = [
        [s.name, s.customers, f"{s.share or 0:.1%}", round(s.revenue, 2),
         f"{s.revenue_share or 0:.1%}"]
        for s in report.segments
    ]  # fmt: skip
    header = ["segment", "customers", "share", f"{report.spend} revenue", "revenue share"]
    return _emit(args, out, err, header, rows, report.to_dict(), _notes(report.data))


def _clv(args: argparse.Namespace, out: TextIO, err: TextIO, bar: Progress) -> int:
    log = read_log(args)
    bar.step("read")
    summary = summary_from_transactions(log, _as_of(args, log.at), args.period, time_unit=args.unit)
    purchases = fit_bgnbd(summary)
    bar.step("BG/NBD fitted")
    spend: GammaGammaModel | float
    try:
        spend = fit_gamma_gamma(summary)
    except ModelFitError as error:
        spend = float(np.mean(summary.monetary[summary.repeat_buyers]))
        err.write(f"crmcore: Gamma-Gamma not used ({error.reason}); spend {spend:.2f} for all\n")
    bar.step("spend fitted")
    report = customer_lifetime_value(
        purchases, spend, summary,
        months=args.months, discount_rate=args.discount, month=args.month,
    )  # fmt: skip
    order = report.top(len(report) if (args.csv or args.json) else args.limit)
    rows = [
        [str(report.customer_ids[i]), round(float(report.clv[i]), 2),
         round(float(report.expected_purchases[i]), 3),
         round(float(report.probability_alive[i]), 3), round(float(report.expected_spend[i]), 2)]
        for i in order.tolist()
    ]  # fmt: skip
    header = ["customer_id", "clv", "expected_purchases", "p_alive", "expected_spend"]
    params = ", ".join(f"{k}={v:.4g}" for k, v in report.purchase_model.items())
    notes = [
        f"horizon: {report.horizon}; discount {report.discount_rate:.2%} per month",
        f"BG/NBD ({report.time_unit}): {params}",
        *_notes(report.data),
    ]
    if report.spend_model:
        notes.insert(
            2, "spend: " + ", ".join(f"{k}={v:.4g}" for k, v in report.spend_model.items())
        )
    payload = report.to_dict()
    return _emit(args, out, err, header, rows, payload, notes)


def _cohorts(args: argparse.Namespace, out: TextIO, err: TextIO, bar: Progress) -> int:
    log = read_log(args)
    bar.step("read")
    matrix = cohort_matrix(log, _as_of(args, log.at), period=args.period)
    bar.step("counted")
    rates = matrix.retention()
    _, offsets = matrix.shape
    header = ["cohort", "customers", *(f"+{k}" for k in range(offsets))]
    rows = [
        [label, int(matrix.sizes[c]),
         *("" if rate != rate else f"{rate:.1%}" for rate in rates[c].tolist())]
        for c, label in enumerate(matrix.labels)
    ]  # fmt: skip
    return _emit(args, out, err, header, rows, matrix.to_dict(), _notes(matrix.data))


def _lifecycle(args: argparse.Namespace, out: TextIO, err: TextIO, bar: Progress) -> int:
    log = read_log(args)
    bar.step("read")
    as_of = _as_of(args, log.at)
    batch = classify_log(log, as_of)
    bar.step("classified")
    occasions = purchase_occasions(log)
    buyers = np.zeros(len(log.customer_ids), dtype=bool)
    buyers[occasions.codes] = True
    notes = [f"as of {as_of.isoformat()}; {len(batch):,} customers in the file"]
    notes += [f"{s} left out" for s in log.skipped]
    if not buyers.all():
        notes.append(f"{int((~buyers).sum()):,} customers only returned goods (prospects here)")
    if args.customers:
        states = batch.state_list()
        rows = [
            [str(batch.customer_ids[i]), states[i].value, round(float(batch.risk_scores[i]), 3),
             int(batch.purchases[i])]
            for i in range(len(batch))
        ]  # fmt: skip
        header = ["customer_id", "state", "risk", "purchases"]
        return _emit(args, out, err, header, rows, batch.to_dict(), notes)
    total = len(batch)
    rows = [
        [state.value, count, f"{count / total:.1%}" if total else "-"]
        for state, count in batch.counts().items()
    ]
    return _emit(args, out, err, ["state", "customers", "share"], rows, batch.to_dict(), notes)


def _funnel(args: argparse.Namespace, out: TextIO, err: TextIO, bar: Progress) -> int:
    log = EventLog.from_csv(
        args.file, columns=_mapping(args, events=True), tz=args.tz, dayfirst=args.dayfirst,
        extra="ignore", guests="refuse" if args.strict_guests else "exclude",
    )  # fmt: skip
    bar.step("read")
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    window = None if args.window_days is None else timedelta(days=args.window_days)
    report = funnel_report(log, steps, window=window, mode=args.mode)
    bar.step("counted")
    rows = [
        [s.number, s.label, s.customers,
         "" if s.conversion is None else f"{s.conversion:.1%}",
         "" if s.overall is None else f"{s.overall:.1%}"]
        for s in report.steps
    ]  # fmt: skip
    notes = [f"{report.customers:,} customers in the file"]
    notes += [f"{s} left out" for s in log.skipped]
    header = ["step", "label", "customers", "conversion", "overall"]
    return _emit(args, out, err, header, rows, report.to_dict(), notes)


def customer_frame(log: TransactionLog, as_of: datetime) -> CustomerFrame:
    """One row per customer of ``log`` with the purchase facts a segment rule can use.

    ``purchase_count``, ``total_spent`` (net of returns), ``first_purchase_at`` and
    ``last_purchase_at`` come from the purchase occasions up to ``as_of``; the id
    doubles as the name and the first purchase as ``created_at``.
    """
    as_us = int(np.datetime64(as_of.replace(tzinfo=None), "us").astype(np.int64))
    occasions = purchase_occasions(log).up_to(as_us)
    k = len(log.customer_ids)
    count = np.bincount(occasions.codes, minlength=k)
    spent = np.bincount(occasions.codes, weights=occasions.value, minlength=k)
    spent += np.bincount(occasions.return_codes, weights=occasions.return_value, minlength=k)
    first = np.full(k, np.iinfo(np.int64).max)
    last = np.full(k, np.iinfo(np.int64).min)
    np.minimum.at(first, occasions.codes, occasions.t)
    np.maximum.at(last, occasions.codes, occasions.t)
    never = count == 0
    fallback = np.full(k, as_us)
    np.minimum.at(fallback, log.customer_codes, log.at.view(np.int64))
    created = np.where(never, fallback, first).astype("datetime64[us]")
    ids = log.customer_ids
    columns = {
        "id": Column.from_numpy("string", ids),
        "name": Column.from_numpy("string", ids),
        "created_at": Column.from_numpy("datetime", created),
        "purchase_count": Column.from_numpy("int", count),
        "items_purchased": Column.from_numpy("int", np.zeros(k, dtype=np.int64)),
        "total_spent": Column.from_numpy("float", spent),
        "first_purchase_at": Column.from_numpy("datetime", first.astype("datetime64[us]"),
                                               missing=never),
        "last_purchase_at": Column.from_numpy("datetime", last.astype("datetime64[us]"),
                                              missing=never),
        "interaction_count": Column.from_numpy("int", np.zeros(k, dtype=np.int64)),
        "service_count": Column.from_numpy("int", np.zeros(k, dtype=np.int64)),
        "erased": Column.from_numpy("bool", np.zeros(k, dtype=bool)),
    }  # fmt: skip
    for spec in CustomerFrame.SCHEMA.columns:
        if spec.name.startswith("consent_"):
            columns[spec.name] = Column.from_numpy("bool", np.zeros(k, dtype=bool))
    return CustomerFrame(columns)


def _segment(args: argparse.Namespace, out: TextIO, err: TextIO, bar: Progress) -> int:
    log = read_log(args)
    bar.step("read")
    as_of = _as_of(args, log.at)
    frame = customer_frame(log, as_of)
    rule = parse_rule(args.rule, frame_schema(frame))
    members = frame.ids[mask(rule, frame, as_of, transactions=log)]
    bar.step("evaluated")
    rows = [[str(cid)] for cid in members.tolist()]
    shown = rows if (args.csv or args.json) else rows[: args.limit]
    notes = [f"{len(rows):,} of {len(frame):,} customers match as of {as_of.isoformat()}"]
    if len(shown) < len(rows):
        notes.append(f"... and {len(rows) - len(shown):,} more (--csv prints all)")
    notes += [f"{s} left out" for s in log.skipped]
    report = {"as_of": as_of.isoformat(), "rule": args.rule, "customers": len(frame),
              "members": [r[0] for r in rows]}  # fmt: skip
    return _emit(args, out, err, ["customer_id"], shown, report, notes)


_RUNNERS = {
    "rfm": _rfm,
    "clv": _clv,
    "cohorts": _cohorts,
    "lifecycle": _lifecycle,
    "funnel": _funnel,
    "segment": _segment,
}


def run_file_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``args.command`` on ``args.file``; progress on standard error when it is a terminal."""
    with Progress(2 if args.command != "clv" else 3, f"crmcore {args.command}", stream=err) as bar:
        return _RUNNERS[args.command](args, out, err, bar)
