"""Command line: ``python -m crmcore demo | rfm | clv | cohorts | lifecycle | funnel | segment``.

* ``demo`` builds a synthetic customer base in SQLite and prints every module's view of it;
* ``rfm``, ``clv``, ``cohorts``, ``lifecycle``, ``segment`` read *your* orders file (a CSV;
  name your columns with ``--customer``, ``--at``, ``--amount`` or ``--order``, ``--quantity``,
  ``--unit-price``; ``--tz`` for naive times) and print a table, ``--csv`` or ``--json``;
  ``funnel`` reads an events file;
* ``segment RULE --db FILE`` and ``rfm --db FILE`` run on the demo's SQLite database
  (``--sql DIALECT`` prints the parameterised SQL of a rule instead).

The CLI is a thin shell over the library: it is the only module besides the
storage adapters that touches files or the clock.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from crmcore import demo
from crmcore.analytics import rfm_scores
from crmcore.cli_files import add_file_options, run_file_command
from crmcore.demo._text import table
from crmcore.kernel.clock import SystemClock, parse_datetime
from crmcore.kernel.errors import CrmError, NotFoundError, ValidationError
from crmcore.segments import DIALECTS, parse_rule, to_sql
from crmcore.storage.sqlite import SqliteStore

__all__ = ["build_parser", "main"]

_ORDERS = (
    "python -m crmcore {cmd} orders.csv --customer CustomerID --at InvoiceDate "
    "--order InvoiceNo --quantity Quantity --unit-price UnitPrice --tz UTC"
)
_EXAMPLES = {
    "rfm": [
        _ORDERS.format(cmd="rfm"),
        "python -m crmcore rfm orders.csv --customer CustomerID --at InvoiceDate "
        "--amount Total --tz UTC --customers --csv",
        "python -m crmcore rfm --db crmcore-demo.db",
    ],
    "clv": [_ORDERS.format(cmd="clv") + " --months 12 --month calendar"],
    "cohorts": [_ORDERS.format(cmd="cohorts") + " --period month"],
    "lifecycle": [_ORDERS.format(cmd="lifecycle") + " --customers --json"],
    "funnel": [
        "python -m crmcore funnel events.csv --customer user_id --at timestamp --kind event "
        "--steps visit,signup,purchase --tz UTC"
    ],
    "segment": [
        _ORDERS.format(cmd="segment 'purchase_count >= 3 and total_spent > 500'"),
        "python -m crmcore segment 'total_spent >= 100' --db crmcore-demo.db --sql postgresql",
    ],
}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _epilog(command: str) -> str:
    lines = "\n".join(f"  {example}" for example in _EXAMPLES[command])
    return f"examples:\n{lines}"


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
) -> argparse.ArgumentParser:
    return commands.add_parser(
        name, help=text, description=text, epilog=_epilog(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The ``crmcore`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="crmcore", description=__doc__.splitlines()[0],
        epilog=_epilog("rfm"), formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="build and summarise a synthetic customer base")
    demo_parser.add_argument("--db", default="crmcore-demo.db", help="SQLite file (replaced)")
    demo_parser.add_argument("--customers", type=_positive, default=3000, help="how many")
    demo_parser.add_argument("--seed", type=int, default=7, help="random seed")

    segment = _command(commands, "segment", "customers matching a segment rule")
    segment.add_argument("rule", help="rule text, e.g. 'total_spent >= 100 and purchase_count > 2'")
    segment.add_argument("file", nargs="?", help="your orders CSV (else --db)")
    segment.add_argument("--db", help="a SQLite file made by `crmcore demo` (instead of a CSV)")
    segment.add_argument("--sql", choices=DIALECTS, help="print the SQL for this dialect instead")
    segment.add_argument("--limit", type=_positive, default=20, help="ids to print")
    add_file_options(segment)

    rfm = _command(commands, "rfm", "RFM segments of your orders (or of a demo database)")
    rfm.add_argument("file", nargs="?", help="your orders CSV (else --db)")
    rfm.add_argument("--db", help="a SQLite file made by `crmcore demo` (instead of a CSV)")
    rfm.add_argument("--spend", choices=("net", "gross"), default="net",
                     help="monetary value net of returns (default) or purchases only")  # fmt: skip
    rfm.add_argument("--customers", action="store_true", help="one row per customer")
    add_file_options(rfm)

    clv = _command(commands, "clv", "predicted customer lifetime value (BG/NBD x Gamma-Gamma)")
    clv.add_argument("file", help="your orders CSV")
    clv.add_argument("--months", type=_positive, default=12, help="horizon in months")
    clv.add_argument("--month", choices=("30-day", "calendar"), default="30-day",
                     help="how a month is measured (30-day: as lifetimes)")  # fmt: skip
    clv.add_argument("--discount", type=float, default=0.01, help="discount rate per month")
    clv.add_argument("--period", choices=("D", "W", "M"), default="D", help="purchase periods")
    clv.add_argument("--unit", choices=("D", "W", "M"), default="W", help="model time unit")
    clv.add_argument("--limit", type=_positive, default=20, help="customers to print")
    add_file_options(clv)

    cohorts = _command(commands, "cohorts", "retention by month (or week) of first purchase")
    cohorts.add_argument("file", help="your orders CSV")
    cohorts.add_argument("--period", choices=("month", "week"), default="month")
    add_file_options(cohorts)

    lifecycle = _command(commands, "lifecycle", "lifecycle states (new, growth, ... churned)")
    lifecycle.add_argument("file", help="your orders CSV")
    lifecycle.add_argument("--customers", action="store_true", help="one row per customer")
    add_file_options(lifecycle)

    funnel = _command(commands, "funnel", "how many customers reach each step of a funnel")
    funnel.add_argument("file", help="your events CSV")
    funnel.add_argument("--steps", required=True, help="event kinds in order, comma-separated")
    funnel.add_argument("--window-days", type=_positive, help="days a trial stays open")
    funnel.add_argument("--mode", choices=("ordered", "strict", "any"), default="ordered")
    add_file_options(funnel, events=True)
    return parser


def _as_of(text: str | None) -> datetime:
    return SystemClock().now() if text is None else parse_datetime(text, "--as-of")


def _open(path: str) -> SqliteStore:
    if not Path(path).exists():
        raise NotFoundError("database", path)
    return SqliteStore(path)


def _on_file(args: argparse.Namespace) -> bool:
    if args.command not in ("rfm", "segment"):
        return True
    if args.file is not None and args.db is not None:
        raise ValidationError("--db", args.db, "give a CSV file or --db, not both")
    if args.file is None and args.db is None:
        args.db = "crmcore-demo.db"
    return args.file is not None


def _segment(args: argparse.Namespace, out: TextIO) -> int:
    as_of = _as_of(args.as_of)
    with _open(args.db) as store:
        rule = parse_rule(args.rule, store.rule_schema())
        if args.sql:
            sql, params = to_sql(rule, args.sql, as_of=as_of)
            out.write(f"{sql}\n-- parameters: {list(params)!r}\n")
            return 0
        members = store.segment_members(rule, as_of)
    out.write(f"{len(members):,} customers match as of {as_of.isoformat()}\n")
    for cid in members[: args.limit]:
        out.write(f"  {cid}\n")
    if len(members) > args.limit:
        out.write(f"  ... and {len(members) - args.limit:,} more\n")
    return 0


def _rfm(args: argparse.Namespace, out: TextIO) -> int:
    as_of = _as_of(args.as_of)
    with _open(args.db) as store, store.unit_of_work() as uow:
        log = uow.purchases.to_log()
    report = rfm_scores(log, as_of).summary()
    table(
        out,
        ["segment", "customers", "share", "revenue share"],
        [
            (s.name, s.customers, f"{s.share or 0:.1%}", f"{s.revenue_share or 0:.1%}")
            for s in report.segments
        ],
    )
    return 0


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    stream = out if out is not None else sys.stdout
    errors = err if err is not None else sys.stderr
    try:
        if args.command == "demo":
            return demo.run(Path(args.db), args.customers, args.seed, stream)
        if _on_file(args):
            return run_file_command(args, stream, errors)
        if args.command == "segment":
            return _segment(args, stream)
        if args.command == "rfm":
            return _rfm(args, stream)
    except CrmError as error:
        print(f"crmcore: {error}", file=errors)
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands
