"""The ``python -m crmcore demo`` script: a synthetic customer base through every module.

Each section lives in a module named for its area; `run()` builds the
data, stores it in SQLite and prints the sections in order.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TextIO

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.datasets.synthetic import generate
from crmcore.demo import base, feedback, loyalty, marketing, sales, segments, value
from crmcore.demo._text import Timings, section, table, timed
from crmcore.journey import TouchpointScores, journey_report
from crmcore.lifecycle import classify_log
from crmcore.ports import OutboxMessage
from crmcore.services.customers import import_customers
from crmcore.storage.sqlite import SqliteStore

__all__ = ["run"]


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()


def run(path: Path, customers: int, seed: int, out: TextIO) -> int:
    """Generate ``customers`` synthetic customers, store them at ``path``, print each section."""
    timings: Timings = []
    data = timed("generate synthetic data", timings, lambda: generate(customers, seed=seed))
    _remove_database(path)
    out.write(
        f"crmcore demo: {customers:,} synthetic customers (seed {seed}), "
        f"{data.start:%Y-%m-%d} to {data.end:%Y-%m-%d}, stored in {path}\n"
    )
    store = SqliteStore(path)
    try:
        timed(
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

        frame, log, events = timed("load frame + logs from SQLite", timings, load)
        base.summarise(out, frame, log, events, data.end)
        before, now = timed(
            "lifecycle of every customer, twice",
            timings,
            lambda: (
                classify_log(log, data.end - timedelta(days=90), customers=frame),
                classify_log(log, data.end, customers=frame),
            ),
        )
        base.lifecycle(out, before, now)
        value.value(out, frame, log, now, data.scores, data.end, timings)
        segments.segments(out, store, frame, log, events, data.end, timings)
        feedback.feedback(out, store, frame, data.feedback, data.end, seed, timings)
        loyalty.loyalty(out, store, data.purchases, value.currency_of(frame), data.end, timings)
        sales.sales(out, store, data.customers, value.currency_of(frame), data.end, seed, timings)
        marketing.marketing(
            out, store, data.purchases, value.currency_of(frame), data.end, seed, timings
        )
        report = timed(
            "journey map",
            timings,
            lambda: journey_report(events, TouchpointScores.from_scores(data.scores, scale="csat")),
        )
        base.journey(out, report)
        buyer = next((c for c in data.customers if c.purchases.count), data.customers[0])
        base.privacy(out, store, buyer.id, data.end)
        delivered: dict[str, int] = {}

        def count(message: OutboxMessage) -> None:
            delivered[message.kind] = delivered.get(message.kind, 0) + 1

        def relay_all() -> None:
            while store.outbox.relay(count, limit=10_000):
                pass

        timed("relay the outbox", timings, relay_all)
        section(out, "Outbox (events relayed to the host application)")
        by_volume = sorted(delivered.items(), key=lambda kv: kv[1], reverse=True)
        table(out, ["event kind", "events"], by_volume)
        section(out, "Timings")
        table(out, ["step", "seconds"], [(label, f"{s:.3f}") for label, s in timings])
    finally:
        store.close()
    out.write(
        f"\nThe database is kept at {path}; open it with crmcore.SqliteStore({str(path)!r}).\n"
    )
    return 0
