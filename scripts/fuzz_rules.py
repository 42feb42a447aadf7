#!/usr/bin/env python3
"""Fuzz the segment rule path with many random rules; report anything but a CrmError.

    python scripts/fuzz_rules.py [--cases 100000] [--seed 1]

Each case is rule text built from the grammar's vocabulary, from literals at the
ends of every range (dates, datetimes with extreme offsets, numbers past 2**53,
huge durations, NUL, lone surrogates, LIKE wildcards), or a valid rule with a
stretch replaced. Every case is parsed, resolved and evaluated per object and
over numpy columns, and compiled for every SQL dialect; a builtin exception
escaping any of them is an escape. The exit status is 1 when there was one.
The test suite runs a bounded version of this (tests/segments/test_rule_fuzz.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.datasets import generate
from crmcore.kernel.errors import CrmError
from crmcore.segments import mask, matches, parse_rule
from crmcore.segments.sql import DIALECTS, to_sql
from crmcore.segments.tokenizer import KEYWORDS

FIELDS = [
    "total_spent", "age", "purchase_count", "birth_date", "created_at", "last_purchase_at",
    "name", "country", "email", "tags", "`attr.x`", "days_since_last_purchase", "gender",
]  # fmt: skip
LITERALS = [
    "0001-01-01", "9999-12-31", "2024-02-29", "0001-01-01T00:00:00-14:00",
    "9999-12-31T23:59:59+14:00", "9999-12-31T23:59:59.999999Z", "2024-01-01T00:00",
    "9007199254740992", "9007199254740993", "-1e308", "1e400", "1" + "0" * 60, "0.1", "-0",
    '"x\\u0000"', '"\\ud800"', '"%_\\\\"', '"\'"', "true", "null", "1e-400",
]  # fmt: skip
DURATIONS = ["999999999 days", "3000000 days", "100000 years", "0 days", "1 months"]
VOCABULARY = [
    *sorted(KEYWORDS), "(", ")", ",", "=", "!=", "<", "<=", ">", ">=", "-", "#", "\n",
    *FIELDS, *LITERALS, *DURATIONS,
]  # fmt: skip
TEMPLATES = [
    "{f} {op} {v}", "{f} between {v} and {v}", "{f} in ({v}, {v})", "{f} within {d}",
    "{f} after {d} ago", "{f} before {v}", "count(purchases in last {d}) >= {v}",
    "sum(amount in last {d}) > {v}", 'did "web_visit" within {d}', "{f} contains {v} ignoring case",
    "not ({f} {op} {v}) or {f} is null", "{f} starts with {v}", 'has tag {v}',
]  # fmt: skip
OPERATORS = ["<", "<=", ">", ">=", "=", "!="]


def case(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.5:
        template = rng.choice(TEMPLATES)
        text = template.format(
            f=rng.choice(FIELDS), op=rng.choice(OPERATORS), v=rng.choice(LITERALS),
            d=rng.choice(DURATIONS),
        )  # fmt: skip
        if rng.random() < 0.3:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(VOCABULARY) + text[at + rng.randrange(4) :]
        return text
    if kind < 0.8:
        return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randrange(1, 12)))
    return "".join(rng.choice("()\"' ,=<>!-.#`\n\tabcdeinorstz0123456789TZ:+") for _ in range(30))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    data = generate(12, seed=5)
    frame = CustomerFrame.from_customers(data.customers)
    log = TransactionLog.from_purchases(data.purchases)
    events = EventLog.from_interactions(data.interactions)
    as_of = data.end
    purchases = {c.id: [p for p in data.purchases if p.customer_id == c.id] for c in data.customers}
    escapes: list[tuple[str, str]] = []
    parsed = 0
    start = time.perf_counter()
    for _ in range(args.cases):
        text = case(rng)
        stage = "parse"
        try:
            rule = parse_rule(text)
            parsed += 1
            stage = "matches"
            for customer in data.customers[:3]:
                matches(rule, customer, as_of, purchases=purchases[customer.id], events=[])
            stage = "mask"
            mask(rule, frame, as_of, transactions=log, events=events)
            for dialect in DIALECTS:
                stage = f"to_sql {dialect}"
                to_sql(rule, dialect, as_of=as_of)
        except CrmError:
            continue
        except Exception:  # an escape: exactly what this script looks for
            escapes.append((text, f"{stage}: {traceback.format_exc(limit=1).splitlines()[-1]}"))
    seconds = time.perf_counter() - start
    print(
        f"{args.cases:,} cases ({parsed:,} parsed) in {seconds:.1f} s: "
        f"{len(escapes)} escaped as something other than a CrmError"
    )
    for text, what in escapes[:20]:
        print(f"  {text!r}\n    {what}")
    return 1 if escapes else 0


if __name__ == "__main__":
    sys.exit(main())
