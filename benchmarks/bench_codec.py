"""Benchmark: the compiled type-directed codec against the original recursive one.

``crmcore.kernel.codec`` compiles a decoder (and encoder) per type once; the original
implementation, the baseline (``crmcore/kernel/codec/_reference.py``, which the codec's
differential tests also use), re-inspected the annotations for every value. Measured
in one process on the same values, as the median wall time over ``--repeat``
runs of ``--n`` calls each, for encode and decode of:

* a customer (contact, geography, demographics, tags, consents, custom
  attributes of several types);
* a loyalty account with 100 ledger entries (earns and redemptions);
* a feedback case taken through its whole loop (acknowledged, assigned,
  resolved, an unhappy follow-up that reopens it, resolved again, closed).

Both implementations' outputs are checked to be equal (the same JSON text, the
same decoded values) before timing.

Run from the repository root::

    .venv/bin/python benchmarks/bench_codec.py --quick   # 200 calls per run
    .venv/bin/python benchmarks/bench_codec.py           # 2,000 calls per run
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from _timing import measure

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root
from crmcore.customers.contact import Contact
from crmcore.customers.customer import Customer
from crmcore.customers.profile import Demographics, Gender, Geography, Psychographics
from crmcore.customers.records import ConsentRecord, MarketingChannel, Purchase
from crmcore.feedback.cases import Case
from crmcore.kernel.codec import decode, encode
from crmcore.kernel.codec._reference import reference_decode, reference_encode
from crmcore.kernel.money import Money
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram

T = TypeVar("T")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_customer() -> Customer:
    """A customer with most optional parts filled in."""
    return Customer(
        id="CUST000001",
        name="Ada Lovelace",
        created_at=T0,
        contact=Contact(email="ada@example.com", phone="+4915112345678"),
        demographics=Demographics(birth_date=date(1990, 12, 10), gender=Gender.FEMALE),
        geography=Geography(country="DE", region="Berlin", city="Berlin"),
        psychographics=Psychographics(interests=frozenset({"maths", "poetry"})),
        tags=frozenset({"vip", "newsletter", "beta"}),
        attributes={
            "since": date(2020, 1, 2),
            "score": Decimal("12.50"),
            "visits": 42,
            "ratio": 0.25,
            "vip": True,
            "note": "2024-01-01",
            "last_seen": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        },
        consents=[
            ConsentRecord(MarketingChannel.EMAIL, True, T0, "signup"),
            ConsentRecord(MarketingChannel.SMS, False, T0 + timedelta(days=3), None),
        ],
    )


def make_account(entries: int = 100) -> LoyaltyAccount:
    """An account with ``entries`` postings: two earns for each redemption of 5 points."""
    program = LoyaltyProgram(
        id="P",
        currency="EUR",
        point_value=Money("0.01", "EUR"),
        expiry=ExpiryPolicy.months_after(12),
    )
    account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
    for i in range(entries):
        at = T0 + timedelta(hours=i)
        if i % 3 == 2:
            account = account.redeem(program, 5, at=at, key=f"r-{i}").value
        else:
            purchase = Purchase(f"o-{i}", "c-1", at, Money(f"{10 + i}.25", "EUR"))
            account = account.earn(program, purchase, key=f"e-{i}").value
    return account


def make_case() -> Case:
    """A case through its whole loop; the unhappy follow-up reopens it."""
    hour = timedelta(hours=1)
    case = Case.open("case-1", "c-1", T0, priority="high", feedback_id="fb-1").value
    case = case.acknowledge(T0 + hour, note="on it").value
    case = case.assign(T0 + 2 * hour, assignee="a1", team="care").value
    case = case.start(T0 + 3 * hour).value
    case = case.resolve(T0 + 4 * hour, root_cause="Billing Error", action_taken="refunded").value
    case = case.follow_up(T0 + 5 * hour, verdict="not_resolved", satisfaction=1).value
    case = case.resolve(T0 + 8 * hour, root_cause="Billing Error", action_taken="credited").value
    case = case.follow_up(T0 + 9 * hour, verdict="resolved", satisfaction=5).value
    return case.close(T0 + 10 * hour).value


# -- timing ----------------------------------------------------------------------------------


def _loop(fn: Callable[[], object], n: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            fn()

    return run


def run(n: int, repeat: int) -> None:
    """Check that both codecs agree, then time encode and decode of each value."""
    print(f"crmcore codec benchmark: {n:,} calls per run, median of {repeat}")
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    values: dict[str, tuple[type, object]] = {
        "customer": (Customer, make_customer()),
        "loyalty account (100 entries)": (LoyaltyAccount, make_account(100)),
        "case (whole loop)": (Case, make_case()),
    }
    print(f"  {'value / operation':<40} {'baseline':>12} {'compiled':>12} {'new/old':>8}")
    for label, (tp, value) in values.items():
        data = encode(value)
        text = json.dumps(data)
        assert text == json.dumps(reference_encode(value)), f"{label}: encodings differ"
        assert decode(tp, json.loads(text)) == value, f"{label}: no round trip"
        assert reference_decode(tp, json.loads(text)) == value, f"{label}: baseline differs"
        cases: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "encode": (
                functools.partial(reference_encode, value),
                functools.partial(encode, value),
            ),
            "decode": (
                functools.partial(reference_decode, tp, data),
                functools.partial(decode, tp, data),
            ),
        }
        for operation, (old, new) in cases.items():
            new()  # compile before the clock starts
            old_s, _ = measure(_loop(old, n), repeat)
            new_s, _ = measure(_loop(new, n), repeat)
            print(
                f"  {label + ' ' + operation:<40} {old_s / n * 1e6:>9.1f} us "
                f"{new_s / n * 1e6:>9.1f} us {new_s / old_s:>8.2f}"
            )
    print("outputs agree: the same JSON text and the same decoded values")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2_000, help="calls per timed run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="10x fewer calls")
    args = parser.parse_args(argv)
    if args.quick:
        args.n = max(1, args.n // 10)
    if min(args.n, args.repeat) < 1:
        sys.exit("all sizes must be positive")
    run(args.n, args.repeat)


if __name__ == "__main__":
    main()
