"""The batch posting path against the per-account path: same statuses, balances, entries, events.

The reference below posts each operation with ``earn``/``award``/``redeem`` one at a time and turns
their exceptions into statuses, written independently of ``crmcore.loyalty._batch_route``. The
differential test draws a program (every expiry rule, pending days, campaigns, multipliers, every
rounding mode, caps, both return policies, several time zones), accounts with a random history
(refunds included, so some owe debt), and a batch mixing earns, awards and redemptions (fresh and
replayed keys, reused orders, late and too-late arrivals, expiry and pending boundaries); then it
compares every result, the materialised accounts and events, and the returned columns.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any
from unittest import mock

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from crmcore.customers import Purchase
from crmcore.kernel.clock import to_micros
from crmcore.kernel.errors import (
    CrmError,
    DuplicateOperationError,
    InsufficientPointsError,
    ValidationError,
)
from crmcore.kernel.events import DomainEvent
from crmcore.kernel.money import Money
from crmcore.loyalty import _batch_engine, _batch_route, _batch_rules
from crmcore.loyalty.entries import MAX_POINTS
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import LedgerColumns, ledger_columns, liability_report
from crmcore.loyalty.posting_batch import (
    BatchPosting,
    PostingKind,
    Postings,
    PostingStatus,
    post_batch,
)
from crmcore.loyalty.program import (
    Campaign,
    EarnRule,
    LoyaltyProgram,
    RedemptionRule,
    ReturnPolicy,
)

T0 = datetime(2026, 1, 10, 9, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

POLICIES = [
    ExpiryPolicy.never(),
    ExpiryPolicy.months_after(1),
    ExpiryPolicy.end_of_month(0),
    ExpiryPolicy.fixed_date(3, 31),
    ExpiryPolicy.inactivity(1),
]


@st.composite
def programs(draw: st.DrawFn) -> LoyaltyProgram:
    campaigns = draw(
        st.lists(
            st.builds(
                lambda start, days, mult, bonus, app: Campaign(
                    name=f"c{start}-{days}",
                    starts_at=T0 + timedelta(hours=start),
                    ends_at=T0 + timedelta(hours=start, days=days),
                    multiplier=mult,
                    bonus_points=bonus,
                    channels={"app"} if app else set(),
                ),
                st.integers(-48, 24 * 40),
                st.integers(1, 30),
                st.sampled_from([Decimal(1), Decimal(2), Decimal("1.5"), Decimal("0.5")]),
                st.sampled_from([0, 0, 5]),
                st.booleans(),
            ),
            max_size=2,
        )
    )
    return LoyaltyProgram(
        id="P",
        currency="EUR",
        point_value=Money("0.01", "EUR"),
        earn=EarnRule(
            points_per_unit=draw(st.sampled_from([Decimal(1), Decimal("1.5"), Decimal("0.1")])),
            rounding=draw(
                st.sampled_from([ROUND_FLOOR, ROUND_CEILING, ROUND_HALF_UP, ROUND_HALF_EVEN])
            ),
            channel_multipliers={"app": Decimal(2)},
            category_multipliers={"shoes": Decimal("1.25")},
            tier_multipliers={"gold": Decimal("1.5")},
            max_points_per_order=draw(st.sampled_from([None, None, 150])),
            max_points_per_day=draw(st.sampled_from([None, None, 200])),
        ),
        campaigns=campaigns,
        actions={"review": 10, "sign_up": 40},
        redemption=draw(
            st.sampled_from([RedemptionRule(), RedemptionRule(minimum=5, increment=5)])
        ),
        expiry=draw(st.sampled_from(POLICIES)),
        pending_days=draw(st.sampled_from([0, 0, 3])),
        return_policy=draw(st.sampled_from(list(ReturnPolicy))),
        timezone=draw(st.sampled_from(["UTC", "UTC", "Europe/Paris", "America/New_York"])),
    )


def _purchase(order: str, customer: str, at: datetime, cents: int, code: int) -> Purchase:
    channel = "app" if code % 2 else "web"
    category = "shoes" if code % 3 == 0 else None
    return Purchase(
        order, customer, at, Money.of_minor(cents, "EUR"), channel=channel, category=category
    )


def history(program: LoyaltyProgram, i: int, plan: list[tuple[int, int, int]]) -> LoyaltyAccount:
    """An account after a random history: earns, redemptions, awards, and refunds of spent
    purchases (which leave a debt under ``allow_negative``)."""
    acc = LoyaltyAccount(id=f"A{i}", customer_id=f"c{i}", program_id="P")
    at = T0 - timedelta(days=40)
    for j, (kind, gap, size) in enumerate(plan):
        at += timedelta(hours=gap)
        try:
            if kind == 0:
                purchase = _purchase(f"h{i}-{j}", f"c{i}", at, size * 100 + 7, j)
                acc = acc.earn(program, purchase, key=f"h{j}").value
            elif kind == 1:
                acc = acc.redeem(program, 5 * (size % 10 + 1), at=at, key=f"h{j}").value
            elif kind == 2:  # buy, spend everything, return the purchase
                purchase = _purchase(f"h{i}-{j}", f"c{i}", at, size * 100, j)
                acc = acc.earn(program, purchase, key=f"h{j}").value
                later = at + timedelta(days=program.pending_days, minutes=1)
                spendable = acc.balance(later, program) // 5 * 5
                if spendable > 0:
                    acc = acc.redeem(program, spendable, at=later, key=f"h{j}r").value
                acc = acc.refund(program, f"h{i}-{j}", at=later, key=f"h{j}f").value
                at = later
            else:
                acc = acc.award(program, "review", at=at, key=f"h{j}").value
        except CrmError:
            continue
    return acc


FORWARD = [0, 1, 5, 60, 60 * 24, 60 * 24 * 3, 60 * 24 * 10, 60 * 24 * 35, 60 * 24 * 70]
OP = st.tuples(
    st.integers(0, 3),  # account (modulo the number of accounts)
    st.sampled_from(["earn", "earn", "earn", "award", "redeem", "redeem"]),
    st.sampled_from(FORWARD * 4 + [-2, -60 * 8]),  # minutes after the account's previous one
    st.integers(1, 400),  # euros for an earn, points for a redemption or an award
    st.sampled_from(["fresh"] * 20 + ["history", "batch", "order"]),  # which key/order
    st.integers(0, 11),  # channel/category/tier code
)
"""One operation of a batch; ``build`` turns a list of them into Postings."""


def in_order(ops: list[Any]) -> list[Any]:
    """The operations with fresh keys, in time order: what the engine posts."""
    return [(a, kind, abs(gap), size, "fresh", code) for a, kind, gap, size, _, code in ops]


def build(program: LoyaltyProgram, accounts: list[LoyaltyAccount], ops: list[Any]) -> Postings:
    clock = [acc.last_at or T0 for acc in accounts]
    rows: list[dict[str, object]] = []
    for j, (a, kind, gap, size, key_kind, code) in enumerate(ops):
        a %= len(accounts)
        clock[a] = clock[a] + gap * MINUTE
        at = clock[a]
        key = f"b{j}"
        if key_kind == "history" and len(accounts[a]):
            key = accounts[a].entries[0].key.split("#")[0]
        elif key_kind == "batch" and rows:
            key = str(rows[-1]["key"])
        order = f"o{j}"
        if key_kind == "order" and accounts[a].qualifying_earns():
            order = accounts[a].qualifying_earns()[0].order_id
        if kind == "earn":
            cents = size * 100 + code * 7
            tier = "gold" if code % 4 == 0 else None
            purchase = _purchase(order, accounts[a].customer_id, at, cents, code)
            rows.append(
                {"account": a, "kind": "earn", "key": key, "purchase": purchase, "tier": tier}
            )
        elif kind == "award":
            points = None if code % 2 else size
            rows.append(
                {
                    "account": a,
                    "kind": "award",
                    "key": key,
                    "action": "review",
                    "at": at,
                    "points": points,
                }
            )
        else:
            points = 5 * (size // 5 + 1)
            rows.append(
                {
                    "account": a,
                    "kind": "redeem",
                    "key": key,
                    "points": points,
                    "at": at,
                    "redemption_id": None if code % 3 else f"rd{j}",
                }
            )
    return Postings.from_rows(rows)


def reference(
    program: LoyaltyProgram, accounts: list[LoyaltyAccount], postings: Postings
) -> tuple[list[LoyaltyAccount], list[tuple[int, int, int, int]], list[DomainEvent]]:
    """The per-account path, one operation at a time: accounts, (status, points, balance,
    expired) per operation, and the events in input order."""
    accs = list(accounts)
    results: list[tuple[int, int, int, int]] = []
    events: list[DomainEvent] = []
    for i in range(len(postings)):
        a = int(postings.account[i])
        acc = accs[a]
        at = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=int(postings.at_us[i]))
        key = postings.keys[i]
        kind = PostingKind(int(postings.kind[i]))
        try:
            if kind is PostingKind.EARN:
                k = int(postings.category[i])
                purchase = Purchase(
                    postings.refs[i],
                    acc.customer_id,
                    at,
                    postings.money(i),
                    channel=postings.channels[int(postings.channel[i])],
                    category=None if k < 0 else postings.categories[k],
                )
                t = int(postings.tier[i])
                tier = None if t < 0 else postings.tiers[t]
                outcome = acc.earn(program, purchase, key=key, tier=tier)
            elif kind is PostingKind.AWARD:
                points = int(postings.points[i]) or None
                outcome = acc.award(program, postings.refs[i], at=at, key=key, points=points)
            else:
                ref = postings.refs[i] or None
                points = int(postings.points[i])
                outcome = acc.redeem(program, points, at=at, key=key, redemption_id=ref)
        except InsufficientPointsError as error:
            results.append((PostingStatus.INSUFFICIENT, 0, 0, error.balance))
            continue
        except DuplicateOperationError:
            results.append((PostingStatus.DUPLICATE, 0, 0, 0))
            continue
        except ValidationError as error:
            if error.field != "at" or "tolerance" not in error.reason:
                raise
            results.append((PostingStatus.TOO_LATE, 0, 0, 0))
            continue
        if outcome.value is acc:
            results.append((PostingStatus.REPLAYED, 0, 0, 0))
            continue
        own = outcome.events[-1]
        expired = -sum(e.points for e in outcome.events[:-1])  # type: ignore[attr-defined]
        results.append((PostingStatus.POSTED, own.points, expired, own.balance))  # type: ignore[attr-defined]
        events.extend(outcome.events)
        accs[a] = outcome.value
    return accs, results, events


def same_columns(left: LedgerColumns, right: LedgerColumns) -> None:
    assert left.account_ids == right.account_ids
    for name in (
        "lot_start",
        "available",
        "earned_us",
        "expires_us",
        "pending_us",
        "debt",
        "last_us",
        "deadline_us",
        "entries",
        "cap_day",
        "cap_points",
        "key_index",
    ):
        assert np.array_equal(getattr(left, name), getattr(right, name)), name


def check(
    program: LoyaltyProgram, accounts: list[LoyaltyAccount], postings: Postings
) -> BatchPosting:
    expected, results, events = reference(program, accounts, postings)
    done = post_batch(program, accounts, postings)
    got = [
        (int(s), int(p), int(x), int(b))
        for s, p, x, b in zip(done.status, done.points, done.expired, done.balance, strict=True)
    ]
    assert got == results
    assert list(done.accounts) == expected
    for mine, theirs in zip(done.accounts, expected, strict=True):
        assert mine.entries == theirs.entries
        assert (mine.lots, mine.debt, len(mine)) == (theirs.lots, theirs.debt, len(theirs))
    assert list(done.events) == events
    same_columns(done.columns, ledger_columns(program, expected))
    return done


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    programs(),
    st.lists(
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(1, 24 * 9), st.integers(1, 90)), max_size=6
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(OP, min_size=1, max_size=30),
    st.booleans(),
)
def test_a_batch_posts_what_the_per_account_path_posts(
    program: LoyaltyProgram, plans: list[list[tuple[int, int, int]]], ops: list[Any], fresh: bool
) -> None:
    accounts = [history(program, i, plan) for i, plan in enumerate(plans)]
    done = check(program, accounts, build(program, accounts, in_order(ops) if fresh else ops))
    routed = done.materialized._routed
    event(f"engine posted {'some' if routed.engine_ops.size else 'no'} operations")
    event(f"fallback for {'some' if routed.fallback else 'no'} accounts")
    for status, count in done.counts().items():
        if count:
            event(f"some {status}")
    if done.expired.any():
        event("some expired")
    if any(acc.debt for acc in accounts):
        event("an account owed debt")


def _program(**kwargs: object) -> LoyaltyProgram:
    base: dict[str, object] = {
        "id": "P",
        "currency": "EUR",
        "point_value": Money("0.01", "EUR"),
        "actions": {"review": 10},
    }
    base.update(kwargs)
    return LoyaltyProgram(**base)  # type: ignore[arg-type]


def _accounts(n: int) -> list[LoyaltyAccount]:
    return [LoyaltyAccount(id=f"A{i}", customer_id=f"c{i}", program_id="P") for i in range(n)]


def test_an_ordinary_batch_is_posted_by_the_engine_and_matches() -> None:
    program = _program(expiry=ExpiryPolicy.end_of_month(0), pending_days=2)
    accounts = _accounts(3)
    rows: list[dict[str, object]] = []
    for j in range(12):
        at = T0 + j * timedelta(days=9)
        a = j % 3
        purchase = Purchase(f"o{j}", f"c{a}", at, Money(f"{20 + j}.50", "EUR"))
        rows.append({"account": a, "kind": "earn", "key": f"e{j}", "purchase": purchase})
        rows.append(
            {
                "account": a,
                "kind": "redeem",
                "key": f"r{j}",
                "points": 25,
                "at": at + timedelta(days=3),
            }
        )
    postings = Postings.from_rows(rows)
    done = check(program, accounts, postings)
    routed = done.materialized._routed  # the engine posted every account, no fallback
    assert routed.fallback == {} and routed.engine_ops.size == len(postings)
    counts = done.counts()
    assert counts["POSTED"] + counts["INSUFFICIENT"] == len(postings) and counts["INSUFFICIENT"]
    assert done.expired.sum() > 0  # end-of-month expiry happened inside the batch


def test_replays_duplicates_and_late_arrivals_get_their_statuses() -> None:
    program = _program()
    acc = _accounts(1)[0]
    acc = acc.earn(program, Purchase("o1", "c0", T0, Money("50", "EUR")), key="e1").value
    postings = Postings.from_rows(
        [
            {
                "account": 0,
                "kind": "earn",
                "key": "e1",
                "purchase": Purchase("o1", "c0", T0, Money("50", "EUR")),
            },  # the same request again
            {
                "account": 0,
                "kind": "earn",
                "key": "e2",
                "purchase": Purchase("o1", "c0", T0 + MINUTE, Money("50", "EUR")),
            },  # order earned
            {"account": 0, "kind": "redeem", "key": "e1", "points": 5, "at": T0 + MINUTE},
            {
                "account": 0,
                "kind": "redeem",
                "key": "r1",
                "points": 5,
                "at": T0 - timedelta(hours=1),
            },
            {"account": 0, "kind": "redeem", "key": "r2", "points": 500, "at": T0 + MINUTE},
            {"account": 0, "kind": "redeem", "key": "r3", "points": 45, "at": T0 + 2 * MINUTE},
        ]
    )
    done = check(program, [acc], postings)
    assert [PostingStatus(s).name for s in done.status] == [
        "REPLAYED",
        "DUPLICATE",
        "DUPLICATE",
        "TOO_LATE",
        "INSUFFICIENT",
        "POSTED",
    ]
    assert done.balance.tolist() == [0, 0, 0, 0, 50, 5]


def test_malformed_postings_raise_naming_the_row_and_post_nothing() -> None:
    program = _program(redemption=RedemptionRule(minimum=10, increment=10))
    accounts = _accounts(2)
    base = {"account": 0, "kind": "redeem", "key": "r1", "points": 10, "at": T0}
    cases: list[tuple[dict[str, object], str]] = [
        ({**base, "points": 15}, "postings.points[0]"),
        ({**base, "points": MAX_POINTS}, "postings.points[0]"),
        ({**base, "account": 2}, "postings.account[0]"),
        ({**base, "key": "bad key"}, "postings.keys[0]"),
        (
            {"account": 0, "kind": "award", "key": "a", "action": "nope", "at": T0},
            "postings.refs[0]",
        ),
    ]
    for row, field in cases:
        with pytest.raises(ValidationError) as info:
            post_batch(program, accounts, Postings.from_rows([row]))
        assert info.value.field == field
    for rows, field in [
        (5, "rows"),
        ([{**base, "points": 10**30}], "rows[0].points"),
        ([{**base, "at": T0.replace(tzinfo=None)}], "rows[0].at"),
        ([{**base, "kind": "refund"}], "rows[0].kind"),
    ]:
        with pytest.raises(ValidationError) as info:
            Postings.from_rows(rows)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(ValidationError, match="accounts"):
        post_batch(program, "A0", Postings.from_rows([base]))  # type: ignore[arg-type]
    usd = Purchase("o1", "c0", T0, Money("10", "USD"))
    with pytest.raises(ValidationError, match="currency"):
        post_batch(
            program,
            accounts,
            Postings.from_rows([{"account": 0, "kind": "earn", "key": "e", "purchase": usd}]),
        )
    with pytest.raises(ValidationError) as info:
        Postings(
            account=[0],
            kind=[7],
            at_us=[0],
            keys=["k"],
            refs=[""],
            points=[1],
            amount_minor=[0],
            channel=[0],
            category=[-1],
            tier=[-1],
        )
    assert info.value.field == "postings.kind[0]"
    with pytest.raises(ValidationError) as info:
        Postings(
            account=[0, 1],
            kind=[2],
            at_us=[0],
            keys=["k"],
            refs=[""],
            points=[1],
            amount_minor=[0],
            channel=[0],
            category=[-1],
            tier=[-1],
        )
    assert info.value.field == "postings.kind"


def test_columns_carry_from_batch_to_batch_and_answer_balances() -> None:
    program = _program(expiry=ExpiryPolicy.months_after(1))
    accounts = _accounts(2)
    columns = ledger_columns(program, accounts)
    first = Postings.from_rows(
        [
            {
                "account": i,
                "kind": "earn",
                "key": "e1",
                "purchase": Purchase("o1", f"c{i}", T0, Money(f"{10 * (i + 1)}", "EUR")),
            }
            for i in range(2)
        ]
    )
    one = post_batch(program, accounts, first, columns=columns)
    second = Postings.from_rows(
        [{"account": 1, "kind": "redeem", "key": "r1", "points": 5, "at": T0 + MINUTE}]
    )
    two = post_batch(program, one.accounts, second, columns=one.columns)
    assert two.columns.balances(T0 + MINUTE).tolist() == [10, 15]
    assert two.columns.balances(T0 + timedelta(days=40)).tolist() == [0, 0]  # expired by then
    same_columns(two.columns, ledger_columns(program, two.accounts))
    report = liability_report(program, two.columns.lots(), T0 + MINUTE)
    assert report.total_points == 25
    with pytest.raises(ValidationError, match="columns"):
        post_batch(program, accounts, second, columns=attrs.evolve(two.columns, program_id="Q"))
    with pytest.raises(ValidationError, match="columns"):
        post_batch(program, accounts[:1], second, columns=two.columns)
    with pytest.raises(ValidationError, match="before the latest entry"):
        two.columns.balances(T0)


def test_a_day_of_purchases_in_another_time_zone_caps_by_the_local_day() -> None:
    program = _program(timezone="America/New_York", earn=EarnRule(max_points_per_day=30))
    accounts = _accounts(1)
    late_evening = datetime(2026, 3, 8, 3, 30, tzinfo=UTC)  # 22:30 on the 7th in New York
    rows = [
        {
            "account": 0,
            "kind": "earn",
            "key": f"e{j}",
            "purchase": Purchase(
                f"o{j}", "c0", late_evening + j * timedelta(hours=2), Money("20", "EUR")
            ),
        }
        for j in range(4)
    ]
    done = check(program, accounts, Postings.from_rows(rows))
    # 22:30 on the 7th, then 00:30, 03:30 (daylight saving began at 02:00) and 05:30 on the 8th
    assert done.points.tolist() == [20, 20, 10, 0]


class ChainedBatches(RuleBasedStateMachine):
    """Batches posted one after another on the columns each returns, against the per-account
    model, with per-account operations between them (the columns are then rebuilt)."""

    def __init__(self) -> None:
        super().__init__()
        self.program = _program(
            expiry=ExpiryPolicy.months_after(2),
            pending_days=1,
            return_policy=ReturnPolicy.ALLOW_NEGATIVE,
        )
        self.accounts = _accounts(3)
        self.columns = ledger_columns(self.program, self.accounts)
        self.clock = T0
        self.n = 0

    @rule(ops=st.lists(OP, min_size=1, max_size=12))
    def batch(self, ops: list[Any]) -> None:
        postings = build(self.program, self.accounts, ops)
        expected, results, _ = reference(self.program, self.accounts, postings)
        done = post_batch(self.program, self.accounts, postings, columns=self.columns)
        got = [
            (int(s), int(p), int(x), int(b))
            for s, p, x, b in zip(done.status, done.points, done.expired, done.balance, strict=True)
        ]
        assert got == results
        assert list(done.accounts) == expected
        self.accounts, self.columns = list(done.accounts), done.columns

    @rule(a=st.integers(0, 2), days=st.integers(0, 20))
    def refund_outside(self, a: int, days: int) -> None:
        acc = self.accounts[a]
        earns = acc.qualifying_earns()
        if not earns or acc.last_at is None:
            return
        at = acc.last_at + timedelta(days=days)
        self.n += 1
        try:
            acc = acc.refund(self.program, earns[-1].order_id, at=at, key=f"x{self.n}").value
        except CrmError:
            return
        self.accounts[a] = acc
        self.columns = ledger_columns(self.program, self.accounts)

    @invariant()
    def columns_are_the_accounts(self) -> None:
        same_columns(self.columns, ledger_columns(self.program, self.accounts))
        latest = max((acc.last_at or T0 for acc in self.accounts), default=T0)
        balances = self.columns.balances(latest)
        assert balances.tolist() == [acc.balance(latest, self.program) for acc in self.accounts]


def test_chained_batches_machine() -> None:
    run_state_machine_as_test(
        ChainedBatches,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_postings_from_rows_keep_the_money_as_given() -> None:
    at = T0
    postings = Postings.from_rows(
        [
            {
                "account": 0,
                "kind": "earn",
                "key": "e1",
                "purchase": Purchase("o1", "c0", at, Money("12.3", "EUR"), channel="app"),
            },
        ]
    )
    assert postings.money(0) == Money("12.3", "EUR") and str(postings.money(0).amount) == "12.3"
    assert int(postings.amount_minor[0]) == 1230 and postings.channels == ("app",)
    assert to_micros(at) == int(postings.at_us[0])


SMALL_LOTS = st.tuples(
    st.integers(0, 1),  # account
    st.sampled_from(["award", "award", "award", "earn", "redeem", "redeem"]),
    st.sampled_from([1, 60, 60 * 24, 60 * 24 * 4]),  # minutes after the account's previous one
    st.integers(1, 12),  # points for an award, euros for an earn; a redemption: 5 to 150 points
    st.just("fresh"),
    st.integers(0, 11),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.lists(SMALL_LOTS, min_size=10, max_size=80), st.sampled_from([1, 2, 4, 64]))
def test_redemptions_across_many_small_lots_match_the_per_account_path(
    program: LoyaltyProgram, ops: list[Any], window: int
) -> None:
    """Many small lots, redemptions from one lot to dozens (pending lots among them): the
    engine's first look at a few lots from the row's head, and the whole-row way for the
    rest, with the look cut to 1, 2, 4 or 64 lots, give the per-account results."""
    ops = [(a, k, gap, size if k == "earn" else size * size, key, code)
           for a, k, gap, size, key, code in ops]  # fmt: skip
    accounts = _accounts(2)
    with mock.patch.object(_batch_engine, "_WINDOW", window):
        done = check(program, accounts, build(program, accounts, ops))
    assert done.materialized._routed.engine_ops.size  # the engine posted them


def test_a_redemption_takes_from_the_head_then_from_the_whole_row() -> None:
    """Ten lots of 10 points: 15 points come from the first two lots (inside the first look),
    then 70 from the next seven (past it), then 10 from the last two; 5 are left."""
    program = _program()
    accounts = _accounts(1)
    rows: list[dict[str, object]] = [
        {"account": 0, "kind": "award", "key": f"a{j}", "action": "review",
         "at": T0 + j * MINUTE}
        for j in range(10)
    ]  # fmt: skip
    for j, points in enumerate([15, 70, 10, 10]):
        rows.append({"account": 0, "kind": "redeem", "key": f"r{j}", "points": points,
                     "at": T0 + (20 + j) * MINUTE})  # fmt: skip
    done = check(program, accounts, Postings.from_rows(rows))
    assert [PostingStatus(s).name for s in done.status[10:]] == [
        "POSTED", "POSTED", "POSTED", "INSUFFICIENT",
    ]  # fmt: skip
    assert done.materialized._routed.engine_ops.size == len(rows)
    assert int(done.balance[-1]) == 5 and len(done.accounts[0].lots) == 1


@given(st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=200), st.booleans())
def test_distinct_days_agree_with_numpy_unique(values: list[int], spread: bool) -> None:
    """The batch's table of distinct days (dense span or sort) against ``np.unique``."""
    days = np.array(values if spread else [v % 50 for v in values], dtype=np.int64)
    first, inverse = _batch_rules._distinct(days)
    unique = np.unique(days)
    assert days[first].tolist() == unique.tolist()
    assert unique[inverse].tolist() == days.tolist()


@given(st.lists(st.tuples(st.integers(-3, 3), st.booleans(), st.booleans()), max_size=40))
def test_posted_fingerprints_are_the_sorted_ones_less_the_unposted(
    ops: list[tuple[int, bool, bool]],
) -> None:
    """Each operation's key print, then each earn's order print (few values: many repeats);
    the posted ones, sorted, from the sorted whole less one copy per unposted print."""
    keys = np.array([v for v, _, _ in ops], dtype=np.int64)
    earn = np.array([e for _, e, _ in ops], dtype=bool)
    posted = np.array([p for _, _, p in ops], dtype=bool)
    postings = mock.Mock(kind=np.where(earn, PostingKind.EARN, PostingKind.REDEEM))
    prints = np.concatenate([keys, keys[earn] * 7 + 1])
    status = np.where(posted, PostingStatus.POSTED, PostingStatus.INSUFFICIENT).astype(np.int8)
    got = _batch_route._posted_prints(postings, status, prints, np.sort(prints))
    keep = np.concatenate([posted, posted[earn]])
    assert got.tolist() == sorted(prints[keep].tolist())
