"""Differential property tests: the batch path and the per-customer path agree exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import TransactionLog
from crmcore.customers.records import Purchase
from crmcore.kernel.money import Money
from crmcore.lifecycle import (
    EVENT_FOR_KIND,
    Lifecycle,
    LifecyclePolicy,
    LifecycleState,
    TransitionKind,
    classify,
    classify_log,
    reclassify,
    transition_for,
    transitions,
)

AS_OF = datetime(2026, 3, 31, 12, tzinfo=UTC)
DAY_US = 86_400_000_000
CUSTOMERS = [f"c{i}" for i in range(5)]
EXTRA = ["p0", "p1"]  # in the customer list, never in the log: prospects
ZONES = [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30))]

# Offsets before AS_OF that sit on or next to every boundary of the default and small policies.
BOUNDARY_DAYS = [0, 1, 6, 7, 8, 14, 29, 30, 31, 59, 60, 61, 89, 90, 91, 179, 180, 181, 364, 365,
                 366, 729, 730, 731]  # fmt: skip
BOUNDARY = st.builds(
    lambda d, nudge: d * DAY_US + nudge,
    st.sampled_from(BOUNDARY_DAYS),
    st.sampled_from([0, 0, 0, -1, 1]),
)
OFFSETS = st.one_of(
    BOUNDARY,
    BOUNDARY,
    st.builds(
        lambda d, nudge: d * DAY_US + nudge,
        st.sampled_from(BOUNDARY_DAYS),
        st.sampled_from([0, 0, 0, -1, 1]),
    ),
    st.integers(min_value=-20 * DAY_US, max_value=800 * DAY_US),  # negative: after as_of
)
AMOUNTS = st.one_of(
    st.sampled_from([0.0, 0.1, 0.2, 0.3, 1.0, 19.99, 100.0, 0.00005, 0.00015, 12345.6789]),
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
)
ROWS = st.lists(
    st.tuples(st.sampled_from(CUSTOMERS), OFFSETS, AMOUNTS, st.sampled_from(ZONES)),
    max_size=60,
)
POLICIES = st.one_of(
    st.just(LifecyclePolicy()),
    st.sampled_from([30, 180, 365]).flatmap(
        lambda churn: st.builds(
            LifecyclePolicy,
            name=st.just("random"),
            window_days=st.sampled_from([1, 7, 30, 90]),
            new_days=st.sampled_from([d for d in (1, 30, 90) if d <= churn]),
            churn_days=st.just(churn),
            gap_multiple=st.sampled_from([1.0, 1.5, 2.0, 3.0]),
            min_silence_days=st.sampled_from([0, 7, 30]),
            decline_ratio=st.sampled_from([0.25, 0.5, 0.75]),
            growth_ratio=st.sampled_from([1.25, 2.0, 3.0]),
            min_trend_purchases=st.sampled_from([1, 2, 3]),
            mature_min_purchases=st.sampled_from([1, 2, 4, 6]),
        )
    ),
)
GRID_POLICIES = [
    LifecyclePolicy(),
    LifecyclePolicy(name="tight", window_days=30, new_days=30, churn_days=180, gap_multiple=1.5,
                    min_silence_days=0, decline_ratio=0.75, growth_ratio=1.25,
                    min_trend_purchases=1, mature_min_purchases=2),
    LifecyclePolicy(name="short", window_days=7, new_days=1, churn_days=60, gap_multiple=1.0,
                    min_silence_days=7, min_trend_purchases=1),
]  # fmt: skip
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Row = tuple[str, int, float, timezone]


def at_of(offset_us: int, zone: timezone) -> datetime:
    return (AS_OF - timedelta(microseconds=offset_us)).astimezone(zone)


def log_of(rows: list[Row]) -> TransactionLog:
    return TransactionLog.from_records(
        {"customer_id": c, "at": at_of(o, z), "amount": a, "currency": "EUR"} for c, o, a, z in rows
    )


@SETTINGS
@given(rows=ROWS, policy=POLICIES, as_purchases=st.booleans(), data=st.data())
def test_batch_equals_per_customer(
    rows: list[Row], policy: LifecyclePolicy, as_purchases: bool, data: st.DataObject
) -> None:
    if as_purchases:  # a Purchase is paid in whole cents
        rows = [(c, o, round(a, 2), z) for c, o, a, z in rows]
    population = data.draw(st.permutations([*CUSTOMERS, *EXTRA]))
    batch = classify_log(log_of(rows), AS_OF, policy=policy, customers=population)
    assert batch.customer_ids.tolist() == population
    for customer in population:
        mine = [(o, a, z) for c, o, a, z in rows if c == customer]
        order = data.draw(st.permutations(range(len(mine))))
        if as_purchases:
            given_ = [
                Purchase(f"o{i}", customer, at_of(mine[i][0], mine[i][2]),
                         Money(Decimal(repr(mine[i][1])), "EUR"))
                for i in order
            ]  # fmt: skip
            one = classify(customer, given_, AS_OF, policy=policy)
        else:
            one = classify(
                customer, [(at_of(mine[i][0], mine[i][2]), mine[i][1]) for i in order], AS_OF,
                policy=policy,
            )  # fmt: skip
        assert batch.classification(customer) == one


@SETTINGS
@given(rows=ROWS, policy=POLICIES, seed=st.integers(0, 2**32 - 1))
def test_batch_ignores_row_order_and_lists_log_customers_first_seen(
    rows: list[Row], policy: LifecyclePolicy, seed: int
) -> None:
    log = log_of(rows)
    shuffled = log.take(np.random.default_rng(seed).permutation(len(log)))
    a = classify_log(log, AS_OF, policy=policy)
    b = classify_log(shuffled, AS_OF, policy=policy, customers=a.customer_ids)
    assert a.customer_ids.tolist() == list(dict.fromkeys(c for c, *_ in rows))
    for i in range(len(a)):
        assert a.classification(i) == b.classification(i)


STATES = st.lists(st.sampled_from(list(LifecycleState)), min_size=0, max_size=40)


@settings(max_examples=100, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(list(LifecycleState)),
                                st.sampled_from(list(LifecycleState))), max_size=40))  # fmt: skip
def test_batch_transitions_equal_the_record_moves(
    pairs: list[tuple[LifecycleState, LifecycleState]],
) -> None:
    legal = [(a, b) for a, b in pairs if a is b or transition_for(a, b) is not None]
    before = np.array([a.code for a, _ in legal], dtype=np.int8)
    after = np.array([b.code for _, b in legal], dtype=np.int8)
    diff = transitions(before, after)
    kinds = list(TransitionKind)
    changed = dict(zip(diff.positions.tolist(), diff.kinds.tolist(), strict=True))
    for i, (a, b) in enumerate(legal):
        if a is b:
            assert i not in changed
            continue
        row = transition_for(a, b)
        assert row is not None and kinds[changed[i]] is row.kind
        assert EVENT_FOR_KIND[row.kind] is EVENT_FOR_KIND[kinds[changed[i]]]
    if len(legal) < len(pairs):
        with pytest.raises(Exception, match="cannot go from"):
            transitions([a.code for a, _ in pairs], [b.code for _, b in pairs])


@SETTINGS
@given(rows=ROWS, policy=POLICIES)
def test_reclassify_over_time_changes_exactly_where_the_batch_diff_does(
    rows: list[Row], policy: LifecyclePolicy
) -> None:
    log = log_of(rows)
    nights = [AS_OF - timedelta(days=d) for d in (400, 120, 45, 0)]
    batches = [classify_log(log, n, policy=policy, customers=CUSTOMERS) for n in nights]
    records = {c: Lifecycle(c) for c in CUSTOMERS}
    for k, night in enumerate(nights):
        previous = batches[k - 1].states if k else np.zeros(len(CUSTOMERS), dtype=np.int8)
        diff = transitions(previous, batches[k])
        moved = set(diff.positions.tolist())
        for i, customer in enumerate(CUSTOMERS):
            outcome = reclassify(records[customer], batches[k].classification(i), night)
            assert (len(outcome.events) == 1) == (i in moved)
            records[customer] = outcome.value
    for i, customer in enumerate(CUSTOMERS):
        for k, night in enumerate(nights):
            assert records[customer].state_at(night) is batches[k].state_of(i)


@pytest.mark.parametrize("policy", GRID_POLICIES, ids=lambda p: p.name)
def test_every_pair_and_triple_of_boundary_days_agrees(policy: LifecyclePolicy) -> None:
    """Exhaustive over boundaries: ties with every window edge and with the usual-gap rule."""
    days = [
        0,
        1,
        7,
        10,
        14,
        15,
        29,
        30,
        31,
        45,
        59,
        60,
        61,
        89,
        90,
        91,
        120,
        179,
        180,
        181,
        364,
        365,
        366,
    ]
    histories: dict[str, list[tuple[datetime, float]]] = {}
    for i, a in enumerate(days):
        for b in days[i:]:
            histories[f"p{a}-{b}"] = [
                (AS_OF - timedelta(days=a), 10.0),
                (AS_OF - timedelta(days=b), 20.0),
            ]
            for c in (b + 30, 2 * b - a + 1, 2 * b):
                histories[f"t{a}-{b}-{c}"] = [
                    (AS_OF - timedelta(days=d), amount)
                    for d, amount in ((a, 5.0), (b, 5.0), (c, 10.0))
                ]
    log = TransactionLog.from_records(
        {"customer_id": cid, "at": at, "amount": amount}
        for cid, rows in histories.items()
        for at, amount in rows
    )
    batch = classify_log(log, AS_OF, policy=policy)
    for i, (cid, rows) in enumerate(histories.items()):
        assert batch.classification(i) == classify(cid, rows, AS_OF, policy=policy), cid


@pytest.mark.slow
def test_a_large_random_log_agrees_customer_by_customer() -> None:
    """Scale check: 20,000 customers, 300,000 rows in random order, every customer compared."""
    rng = np.random.default_rng(2026)
    customers, rows = 20_000, 300_000
    codes = rng.integers(0, customers, rows)
    offsets = np.where(
        rng.random(rows) < 0.3,
        rng.choice(np.array(BOUNDARY_DAYS), rows) * DAY_US,
        rng.integers(-10 * DAY_US, 900 * DAY_US, rows),
    )
    amounts = np.round(rng.gamma(2.0, 30.0, rows), 2)
    at = np.datetime64(AS_OF.replace(tzinfo=None), "us") - offsets.astype("timedelta64[us]")
    ids = [f"k{i}" for i in range(customers)]
    log = TransactionLog.from_records(
        {"customer_id": ids[c], "at": t.item().replace(tzinfo=UTC), "amount": a}
        for c, t, a in zip(codes.tolist(), at, amounts.tolist(), strict=True)
    )
    population = [*ids, "nobody"]
    batch = classify_log(log, AS_OF, customers=population)
    per: dict[int, list[tuple[datetime, float]]] = {}
    for c, t, a in zip(codes.tolist(), at.tolist(), amounts.tolist(), strict=True):
        per.setdefault(c, []).append((t.replace(tzinfo=UTC), a))
    for i, customer in enumerate(population):
        assert batch.classification(i) == classify(customer, per.get(i, []), AS_OF)
