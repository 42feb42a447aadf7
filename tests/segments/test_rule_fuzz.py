"""Fuzzing the whole rule path: text at the edges of every range raises only rule errors.

Parsing, resolving, the per-object evaluator, the numpy mask and the SQL compiler
of every dialect see literals at the ends of the date, datetime and number ranges,
huge durations, hostile strings and random mutations of valid rules; whatever
they do, only a ``CrmError`` may escape (``scripts/fuzz_rules.py`` runs the same
check on 100,000 cases).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import CustomerFrame, EventLog, TransactionLog
from crmcore.datasets import generate
from crmcore.kernel.errors import CrmError
from crmcore.segments import mask, matches, parse_rule
from crmcore.segments.sql import DIALECTS, to_sql

DATA = generate(12, seed=5)
FRAME = CustomerFrame.from_customers(DATA.customers)
LOG = TransactionLog.from_purchases(DATA.purchases)
EVENTS = EventLog.from_interactions(DATA.interactions)
AS_OF = DATA.end
PURCHASES = {c.id: [p for p in DATA.purchases if p.customer_id == c.id] for c in DATA.customers}

DATES = ["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31", "2024-02-29", "1970-01-01"]
TIMES = [
    "0001-01-01T00:00:00-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999Z",
    "2024-01-01T00:00",
]
NUMBERS = [
    "9007199254740992",
    "9007199254740993",
    "-9007199254740993",
    "1" + "0" * 400,
    "1e308",
    "1.8e308",
    "1e-400",
    "123456789012345678901234567890.5",
]
DURATIONS = ["999999999 days", "3000000 days", "1000000 weeks", "100000 years", "0 days"]
STRINGS = ['"x\\u0000"', '"\\u0000"', '"\\ud800"', '"%_\\\\"', '"a"']
TIME_FIELDS = ["birth_date", "created_at", "last_purchase_at", "`attr.x`"]
NUMBER_FIELDS = ["total_spent", "age", "purchase_count", "days_since_last_purchase"]
TEXT_FIELDS = ["name", "country", "`attr.x`"]


def _time_rules(field: str) -> list[str]:
    out = []
    for value in [*DATES, *TIMES]:
        out += [f"{field} {op} {value}" for op in ("<", "<=", ">", ">=", "=", "!=")]
        out += [f"{field} before {value}", f"{field} after {value}"]
        out += [f"{field} between {value} and {value}", f"{field} in ({value}, {value})"]
    for duration in DURATIONS:
        out += [f"{field} within {duration}", f"{field} after {duration} ago"]
    return out


def _number_rules(field: str) -> list[str]:
    out = []
    for value in NUMBERS:
        out += [f"{field} {op} {value}" for op in ("<", ">=", "=")]
        out += [f"{field} between -{value} and {value}", f"{field} in ({value}, 1)"]
    return out


TABLE = [
    *(rule for field in TIME_FIELDS for rule in _time_rules(field)),
    *(rule for field in NUMBER_FIELDS for rule in _number_rules(field)),
    *(f"count(purchases in last {d}) >= 1" for d in DURATIONS),
    *(f"sum(amount in last {d}) > 1" for d in DURATIONS),
    *(f'did "web_visit" within {d}' for d in DURATIONS),
    *(
        f"{field} {test} {text}"
        for field in TEXT_FIELDS
        for text in STRINGS
        for test in ("contains", "starts with", "=", "ends with")
    ),
    *(f"{field} contains {text} ignoring case" for field in TEXT_FIELDS for text in STRINGS),
]


def run_everywhere(text: str) -> None:
    """Parse, then evaluate three ways and compile to every dialect; only CrmError may escape."""
    try:
        rule = parse_rule(text)
    except CrmError:
        return
    for customer in DATA.customers[:4]:
        try:
            matches(rule, customer, AS_OF, purchases=PURCHASES[customer.id], events=[])
        except CrmError:
            break
    with contextlib.suppress(CrmError):
        mask(rule, FRAME, AS_OF, transactions=LOG, events=EVENTS)
    for dialect in DIALECTS:
        with contextlib.suppress(CrmError):
            to_sql(rule, dialect, as_of=AS_OF)


def test_the_table_of_edge_cases_is_large() -> None:
    assert len(TABLE) > 600


@pytest.mark.parametrize("chunk", range(8))
def test_edge_cases_raise_only_rule_errors(chunk: int) -> None:
    for text in TABLE[chunk::8]:
        run_everywhere(text)


@st.composite
def mutated_edges(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TABLE))
    at = draw(st.integers(0, len(text)))
    cut = draw(st.integers(0, 4))
    insert = draw(
        st.sampled_from(["9", "-", "e9", " or ", " not ", "T", "Z", "+14:00", ")", "("])
        | st.text(max_size=3)
    )
    return text[:at] + insert + text[at + cut :]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_edges())
def test_mutated_edge_cases_raise_only_rule_errors(text: str) -> None:
    run_everywhere(text)


def test_as_of_at_the_ends_of_time_is_refused_or_evaluated() -> None:
    rule = parse_rule("last_purchase_at within 30 days and created_at after 1 years ago")
    for as_of in (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)):
        with contextlib.suppress(CrmError):
            mask(rule, FRAME, as_of, transactions=LOG, events=EVENTS)
        for dialect in DIALECTS:
            with contextlib.suppress(CrmError):
                to_sql(rule, dialect, as_of=as_of)
