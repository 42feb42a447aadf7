"""Command line: ``python -m crmcore demo``.

The CLI is a thin shell over the library: it is the only module besides the
storage adapters that touches files or the clock.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from crmcore import demo
from crmcore.errors import CrmError

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
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    stream = out if out is not None else sys.stdout
    try:
        if args.command == "demo":
            return demo.run(Path(args.db), args.customers, args.seed, stream)
    except CrmError as error:
        print(f"crmcore: {error}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands
