"""Command line: ``python -m crmcore demo | segment | rfm``.

* ``demo`` builds a synthetic customer base in SQLite and prints every module's view of it;
* ``segment RULE --db FILE`` runs a segment rule inside a SQLite database
  (``--sql DIALECT`` prints the parameterised SQL instead);
* ``rfm --db FILE`` prints the RFM segments of the stored purchases.

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
from crmcore.demo._text import table
from crmcore.kernel.clock import SystemClock, parse_datetime
from crmcore.kernel.errors import CrmError, NotFoundError
from crmcore.segments import DIALECTS, parse_rule, to_sql
from crmcore.storage.sqlite import SqliteStore

__all__ = ["build_parser", "main"]


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

    segment = commands.add_parser("segment", help="run a segment rule inside a SQLite database")
    segment.add_argument("rule", help="rule text, e.g. 'total_spent >= 100 and has tag \"vip\"'")
    segment.add_argument("--db", default="crmcore-demo.db", help="SQLite file (must exist)")
    segment.add_argument("--as-of", help="ISO datetime with offset (default: now)")
    segment.add_argument("--sql", choices=DIALECTS, help="print the SQL for this dialect instead")
    segment.add_argument("--limit", type=_positive, default=20, help="ids to print")

    rfm = commands.add_parser("rfm", help="RFM segments of the purchases in a SQLite database")
    rfm.add_argument("--db", default="crmcore-demo.db", help="SQLite file (must exist)")
    rfm.add_argument("--as-of", help="ISO datetime with offset (default: now)")
    return parser


def _as_of(text: str | None) -> datetime:
    return SystemClock().now() if text is None else parse_datetime(text, "--as-of")


def _open(path: str) -> SqliteStore:
    if not Path(path).exists():
        raise NotFoundError("database", path)
    return SqliteStore(path)


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


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    stream = out if out is not None else sys.stdout
    try:
        if args.command == "demo":
            return demo.run(Path(args.db), args.customers, args.seed, stream)
        if args.command == "segment":
            return _segment(args, stream)
        if args.command == "rfm":
            return _rfm(args, stream)
    except CrmError as error:
        print(f"crmcore: {error}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands
