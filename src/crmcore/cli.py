"""Command line: ``python -m crmcore demo``.

The CLI is a thin shell over the library: it is the only module besides the
storage adapters that touches files or the clock.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO, TypeVar

import numpy as np

from crmcore.columnar.frame import CustomerFrame, EventLog, TransactionLog
from crmcore.errors import CrmError
from crmcore.funnel.analytics import funnel_breakdown, funnel_report
from crmcore.journey import JourneyReport, TouchpointScores, journey_report
from crmcore.lifecycle import BatchClassification, LifecycleState, classify_log
from crmcore.lifecycle import transitions as lifecycle_transitions
from crmcore.ports import OutboxMessage
from crmcore.services.customers import (
    erase_customer,
    export_customer_data,
    import_customers,
    retry_on_conflict,
)
from crmcore.stage import Stage
from crmcore.storage.sqlite import SqliteStore
from crmcore.synthetic import generate

__all__ = ["build_parser", "main"]

T = TypeVar("T")


def _table(out: TextIO, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table: numbers (and figures such as '12.5%') right-aligned, text left."""
    cells = [[str(h) for h in header], *[[_fmt(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [
        all(_looks_numeric(row[i]) for row in cells[1:]) and len(cells) > 1
        for i in range(len(header))
    ]
    for n, row in enumerate(cells):
        line = "  ".join(
            cell.rjust(width) if numeric[i] else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        out.write("  " + line.rstrip() + "\n")
        if n == 0:
            out.write("  " + "  ".join("-" * w for w in widths) + "\n")


def _looks_numeric(text: str) -> bool:
    return text == "-" or text.replace(",", "").replace(".", "").rstrip("%").lstrip("-").isdigit()


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:,.2f}"
    if isinstance(value, int | np.integer):
        return f"{value:,}"
    return str(value)


def _section(out: TextIO, title: str) -> None:
    out.write(f"\n{title}\n{'=' * len(title)}\n")


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()


def _timed(label: str, timings: list[tuple[str, float]], work: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = work()
    timings.append((label, time.perf_counter() - start))
    return result


def demo(args: argparse.Namespace, out: TextIO) -> int:
    """Build a synthetic customer base, store it in SQLite and print a summary."""
    path = Path(args.db)
    timings: list[tuple[str, float]] = []
    data = _timed(
        "generate synthetic data", timings, lambda: generate(args.customers, seed=args.seed)
    )
    _remove_database(path)
    out.write(
        f"crmcore demo: {args.customers:,} synthetic customers (seed {args.seed}), "
        f"{data.start:%Y-%m-%d} to {data.end:%Y-%m-%d}, stored in {path}\n"
    )
    store = SqliteStore(path)
    try:
        _timed(
            "store in SQLite (one unit of work)",
            timings,
            lambda: import_customers(
                store,
                data.customers,
                purchases=data.purchases,
                interactions=data.interactions,
                service_records=data.service_records,
                events=data.events,
            ),
        )

        def load() -> tuple[CustomerFrame, TransactionLog, EventLog]:
            with store.unit_of_work() as uow:
                return uow.customers.to_frame(), uow.purchases.to_log(), uow.interactions.to_log()

        frame, log, events = _timed("load frame + logs from SQLite", timings, load)
        _summarise(out, frame, log, events, data.end)
        before, now = _timed(
            "lifecycle of every customer, twice",
            timings,
            lambda: (
                classify_log(log, data.end - timedelta(days=90), customers=frame),
                classify_log(log, data.end, customers=frame),
            ),
        )
        _lifecycle(out, before, now)
        report = _timed(
            "journey map",
            timings,
            lambda: journey_report(events, TouchpointScores.from_scores(data.scores)),
        )
        _journey(out, report)
        buyer = next((c for c in data.customers if c.purchases.count), data.customers[0])
        _privacy(out, store, buyer.id, data.end)
        delivered: dict[str, int] = {}

        def count(message: OutboxMessage) -> None:
            delivered[message.kind] = delivered.get(message.kind, 0) + 1

        def relay_all() -> None:
            while store.outbox.relay(count, limit=10_000):
                pass

        _timed("relay the outbox", timings, relay_all)
        _section(out, "Outbox (events relayed to the host application)")
        by_volume = sorted(delivered.items(), key=lambda kv: kv[1], reverse=True)
        _table(out, ["event kind", "events"], by_volume)
        _section(out, "Timings")
        _table(out, ["step", "seconds"], [(label, f"{s:.3f}") for label, s in timings])
    finally:
        store.close()
    out.write(
        f"\nThe database is kept at {path}; open it with crmcore.SqliteStore({str(path)!r}).\n"
    )
    return 0


def _summarise(
    out: TextIO, frame: CustomerFrame, log: TransactionLog, events: EventLog, as_of: datetime
) -> None:
    n = len(frame)
    purchases = frame["purchase_count"].values
    spent = frame["total_spent"].values
    buyers = purchases > 0
    _section(out, "Customers")
    ages = frame.age_at(as_of.date())
    consent = frame["consent_email"].values
    _table(
        out,
        ["measure", "value"],
        [
            ("customers", n),
            ("buyers (at least one purchase)", int(buyers.sum())),
            ("repeat buyers (2+ purchases)", int((purchases >= 2).sum())),
            ("repeat purchase rate", f"{(purchases >= 2).sum() / max(buyers.sum(), 1):.1%}"),
            ("median age", f"{np.nanmedian(ages):.0f}" if n else "-"),
            ("e-mail marketing consent", f"{consent.mean():.1%}" if n else "-"),
            ("tagged vip", int(frame["tags"].has("vip").sum())),
        ],
    )
    country = frame["country"]
    counts = np.bincount(country.values[country.values >= 0], minlength=len(country.categories))
    revenue = np.bincount(
        country.values[country.values >= 0],
        weights=spent[country.values >= 0],
        minlength=len(country.categories),
    )
    top = np.argsort(-counts, kind="stable")[:6]
    _section(out, "Top countries")
    _table(
        out,
        ["country", "customers", "revenue"],
        [(country.categories[i], int(counts[i]), float(revenue[i])) for i in top if counts[i]],
    )

    _section(out, "Sales")
    amounts = log["amount"].values
    orders = len(log)
    _table(
        out,
        ["measure", "value"],
        [
            ("orders", orders),
            ("revenue", float(amounts.sum())),
            ("average order value", float(amounts.mean()) if orders else 0.0),
            ("orders per buyer", float(orders / max(buyers.sum(), 1))),
            ("spend per buyer (median)", float(np.median(spent[buyers])) if buyers.any() else 0.0),
        ],
    )
    channel = log["channel"]
    by_channel = np.bincount(channel.values, weights=amounts, minlength=len(channel.categories))
    _table(
        out,
        ["sales channel", "revenue", "share"],
        [
            (name, float(by_channel[i]), f"{by_channel[i] / max(amounts.sum(), 1e-9):.1%}")
            for i, name in enumerate(channel.categories)
        ],
    )
    at = log["at"].values
    months = at.astype("datetime64[M]")
    last = np.datetime64(as_of.replace(tzinfo=None), "M")
    recent = [(last - k) for k in range(5, -1, -1)]
    _section(out, "Revenue by month (last 6)")
    _table(
        out,
        ["month", "orders", "revenue"],
        [(str(m), int((months == m).sum()), float(amounts[months == m].sum())) for m in recent],
    )

    _funnel(out, frame, events)


def _funnel(out: TextIO, frame: CustomerFrame, events: EventLog) -> None:
    steps = list(Stage)
    report = funnel_report(events, steps, window=None)
    _section(out, "Funnel (all seven stages, ordered, no window)")
    rows = []
    for step in report.steps:
        median = None if step.time is None else step.time.median
        rows.append(
            (
                step.label,
                step.customers,
                "-" if step.conversion is None else f"{step.conversion:.1%}",
                "-" if step.overall is None else f"{step.overall:.1%}",
                "-" if median is None else f"{median / 86_400:.1f}",
            )
        )
    _table(out, ["stage", "customers", "from previous", "overall", "median days"], rows)
    by_channel = funnel_breakdown(
        events, steps[:5], by="attr.acquisition_channel", frame=frame, window=timedelta(days=60)
    )
    _section(out, "Conversion within 60 days of first touch, by acquisition channel")
    _table(
        out,
        ["channel", "entered", "converted", "rate"],
        [
            (
                str(group),
                r.entered,
                r.converted,
                "-" if r.conversion is None else f"{r.conversion:.1%}",
            )
            for group, r in sorted(by_channel.groups, key=lambda kv: str(kv[0]))
        ],
    )


def _lifecycle(out: TextIO, before: BatchClassification, now: BatchClassification) -> None:
    _section(out, f"Lifecycle as of {now.as_of:%Y-%m-%d} (and 90 days earlier)")
    was, counts, n = before.counts(), now.counts(), max(len(now.states), 1)
    _table(
        out,
        ["state", "customers", "share", "90 days earlier"],
        [(s.value, counts[s], f"{counts[s] / n:.1%}", was[s]) for s in LifecycleState],
    )
    changes = lifecycle_transitions(before, now)
    warned = changes.warnings
    _section(out, f"Churn early warning: {len(warned):,} customers entered decline")
    order = warned[np.argsort(-now.risk_scores[warned], kind="stable")][:5]
    rows = []
    for row in order:
        facts = now.classification(int(row)).evidence
        reasons = ", ".join(sorted(r.value for r in facts.reasons))
        rows.append((str(now.customer_ids[row]), f"{now.risk_scores[row]:.2f}", reasons))
    _table(out, ["customer", "risk", "reasons"], rows)
    out.write(
        f"  {len(changes.reactivations):,} reactivated (won back), "
        f"{len(changes.of_kind('churn')):,} churned in the last 90 days\n"
    )


def _journey(out: TextIO, report: JourneyReport) -> None:
    _section(out, "Journey map: top pain points (CSAT 1-5 from touchpoint ratings)")
    rows = [
        (
            row.touchpoint.label,
            "-" if row.stage is None else row.stage.label,
            row.volume,
            "-" if row.mean_score is None else f"{row.mean_score:.2f}",
            "-" if row.share_negative is None else f"{row.share_negative:.0%}",
            "-" if row.conversion is None else f"{row.conversion:.0%}",
            f"{row.pain:.3f}",
        )
        for row in report.pain_points(top=5)
    ]
    header = ["touchpoint", "stage", "events", "mean CSAT", "negative", "converts", "pain"]
    _table(out, header, rows)


def _privacy(out: TextIO, store: SqliteStore, customer_id: str, at: datetime) -> None:
    _section(out, "Data protection")
    document = export_customer_data(store, customer_id)
    held = {key: len(value) for key, value in document.items() if isinstance(value, list)}
    erased = retry_on_conflict(lambda: erase_customer(store, customer_id, at, "demo request"))
    out.write(
        f"  export of {customer_id}: {held.get('purchases', 0)} purchases, "
        f"{held.get('interactions', 0)} interactions, "
        f"{held.get('service_records', 0)} service records\n"
        f"  erased {customer_id}: name now {erased.name!r}, e-mail {erased.contact.email}, "
        f"purchases kept: {erased.purchases.count}\n"
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``crmcore`` argument parser."""
    parser = argparse.ArgumentParser(prog="crmcore", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="build and summarise a synthetic customer base")
    demo_parser.add_argument("--db", default="crmcore-demo.db", help="SQLite file (replaced)")
    demo_parser.add_argument("--customers", type=_positive, default=3000, help="how many")
    demo_parser.add_argument("--seed", type=int, default=7, help="random seed")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    stream = out if out is not None else sys.stdout
    try:
        if args.command == "demo":
            return demo(args, stream)
    except CrmError as error:
        print(f"crmcore: {error}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands
