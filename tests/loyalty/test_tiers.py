"""Tiers: qualification, upgrades at once, reviews after period end and grace, batch agreement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.columnar import TransactionLog
from crmcore.kernel.codec import decode, encode
from crmcore.kernel.errors import CurrencyMismatchError, NotFoundError, ValidationError
from crmcore.kernel.events import event_from_json
from crmcore.kernel.money import Money
from crmcore.loyalty.events import TierDowngraded, TierRetained, TierUpgraded
from crmcore.loyalty.tier_policy import DowngradePolicy, QualificationWindow, Tier, TierPolicy
from crmcore.loyalty.tiers import QualifyingFact, TierChangeReason, TierStatus
from crmcore.loyalty.tiers_batch import BatchTiers, evaluate_batch, evaluate_log


def at(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


TIERS = (
    Tier("Member"),
    Tier("Silver", min_points=1000, multiplier=Decimal("1.25")),
    Tier("Gold", min_points=5000, min_spend=Money("2000", "EUR"), multiplier=Decimal("1.5")),
    Tier("Platinum", min_points=10000, multiplier=Decimal("2")),
)


def policy(**changes: object) -> TierPolicy:
    fields: dict[str, object] = {"name": "club", "currency": "EUR", "tiers": TIERS}
    fields.update(changes)
    return TierPolicy(**fields)  # type: ignore[arg-type]


def run(
    p: TierPolicy, facts: list[QualifyingFact], as_of: datetime
) -> tuple[TierStatus, list[str]]:
    outcome = TierStatus.new("c-1", p).evaluate(facts, as_of, p)
    return outcome.value, [e.kind for e in outcome.events]


# -- policy ----------------------------------------------------------------------------------


def test_policy_round_trips_through_the_codec() -> None:
    p = policy(window="rolling_12_months", downgrade=DowngradePolicy.BALANCE_BASED, grace_days=30)
    assert decode(TierPolicy, encode(p, TierPolicy)) == p
    assert p.window is QualificationWindow.ROLLING_12_MONTHS
    assert p.multipliers() == {
        "Member": Decimal(1),
        "Silver": Decimal("1.25"),
        "Gold": Decimal("1.5"),
        "Platinum": Decimal(2),
    }


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ((Tier("Member"),), "policy.tiers"),
        ((Tier("Member", min_points=5), Tier("Gold", min_points=10)), "policy.tiers[0]"),
        ((Tier("Member"), Tier("Gold")), "policy.tiers[1]"),
        ((Tier("Member"), Tier("Member", min_points=5)), "policy.tiers[1].name"),
        (
            (Tier("Member"), Tier("A", min_points=50), Tier("B", min_points=50)),
            "policy.tiers[2].min_points",
        ),
    ],
)
def test_bad_policies_name_the_field(tiers: tuple[Tier, ...], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        policy(tiers=tiers)
    assert info.value.field == field


def test_policy_rejects_other_currency_thresholds_and_unknown_options() -> None:
    with pytest.raises(CurrencyMismatchError):
        policy(tiers=(Tier("Member"), Tier("Gold", min_spend=Money("10", "USD"))))
    with pytest.raises(ValidationError, match=r"policy.window"):
        policy(window="weekly")
    with pytest.raises(ValidationError, match=r"policy.grace_days"):
        policy(grace_days=-1)
    with pytest.raises(ValidationError, match=r"tier.multiplier"):
        Tier("Gold", min_points=5, multiplier=Decimal(0))
    with pytest.raises(ValidationError, match="min_spend"):
        Tier("Gold", min_spend=Money("10.001", "EUR"))
    with pytest.raises(NotFoundError):
        policy().multiplier("Diamond")


def test_supported_takes_the_highest_tier_either_threshold_reaches() -> None:
    p = policy()
    assert p.supported(999, Money("0", "EUR")) == "Member"
    assert p.supported(1000, Money("0", "EUR")) == "Silver"
    assert p.supported(0, Money("2000", "EUR")) == "Gold"  # spend alone suffices for Gold
    assert p.supported(10000, Money("0", "EUR")) == "Platinum"
    for call, field in (
        (lambda: p.supported(1000, 20), "spend"),  # type: ignore[arg-type]
        (lambda: p.supported("1000", Money("0", "EUR")), "points"),  # type: ignore[arg-type]
        (lambda: p.index(np.array(["Gold"])), "tier"),  # type: ignore[arg-type]
        (lambda: TierStatus.new("c-1", "policy"), "policy"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == field


# -- per customer -----------------------------------------------------------------------------


def test_upgrade_happens_at_once_and_can_skip_tiers() -> None:
    p = policy()
    facts = [
        QualifyingFact(at(2026, 2, 1), points=600),
        QualifyingFact(at(2026, 3, 1), points=4500),
    ]
    status, kinds = run(p, facts, at(2026, 3, 2))
    assert status.tier == "Gold"
    assert kinds == ["loyalty.tier_upgraded"]
    assert status.since == at(2026, 3, 1)
    assert status.period_end == at(2027, 1, 1)
    assert status.multiplier(p) == Decimal("1.5")
    assert status.history[0].reason is TierChangeReason.QUALIFIED
    assert (status.history[0].from_tier, status.history[0].to_tier) == ("Member", "Gold")


def test_calendar_downgrade_only_after_period_end_and_grace() -> None:
    p = policy(grace_days=31)
    facts = [QualifyingFact(at(2025, 6, 1), points=5200)]
    # still Gold throughout 2026 (2025 qualified it); 2026 earned nothing
    status, kinds = run(p, facts, at(2027, 1, 31, 23))
    assert status.tier == "Gold"
    assert kinds == ["loyalty.tier_upgraded", "loyalty.tier_retained"]
    outcome = status.evaluate(facts, at(2027, 2, 1), p)
    assert outcome.value.tier == "Silver"  # one_down: Gold -> Silver, not to Member
    (event,) = outcome.events
    assert isinstance(event, TierDowngraded)
    assert event.occurred_at == at(2027, 2, 1)
    assert event.period_end == at(2027, 1, 1)
    assert (event.points, event.spend) == (0, Money("0.00", "EUR"))
    assert outcome.value.period_end == at(2028, 1, 1)


def test_balance_based_drops_to_what_the_period_supports() -> None:
    facts = [
        QualifyingFact(at(2025, 6, 1), points=12000),
        QualifyingFact(at(2026, 5, 1), points=10),
    ]
    one_down, _ = run(policy(), facts, at(2027, 1, 1))
    balance, _ = run(policy(downgrade="balance_based"), facts, at(2027, 1, 1))
    assert one_down.tier == "Gold"
    assert balance.tier == "Member"
    assert balance.period_end is None
    assert balance.tier_at(at(2026, 12, 31)) == "Platinum"


def test_one_down_never_goes_below_what_the_period_supports() -> None:
    facts = [
        QualifyingFact(at(2025, 6, 1), points=12000),
        QualifyingFact(at(2026, 5, 1), points=10000),
    ]
    status, kinds = run(policy(), facts, at(2027, 6, 1))
    assert status.tier == "Platinum"
    assert kinds.count("loyalty.tier_retained") == 2  # 2025 and 2026 both supported it


def test_requalifying_during_the_grace_keeps_the_tier() -> None:
    p = policy(grace_days=60)
    facts = [
        QualifyingFact(at(2025, 6, 1), points=1500),
        QualifyingFact(at(2026, 1, 20), points=1200),
    ]
    status, kinds = run(p, facts, at(2026, 6, 1))
    assert status.tier == "Silver"
    assert kinds == ["loyalty.tier_upgraded", "loyalty.tier_retained"]


def test_rolling_review_on_the_tier_anniversary() -> None:
    p = policy(window=QualificationWindow.ROLLING_12_MONTHS)
    facts = [QualifyingFact(at(2024, 2, 29, 12), points=1000)]
    status, _ = run(p, facts, at(2024, 3, 1))
    assert status.period_end == at(2025, 2, 28, 12)  # 29 February clipped
    facts = [QualifyingFact(at(2024, 4, 10, 12), points=1000)]
    status, kinds = run(p, facts, at(2025, 4, 10, 11))
    assert (status.tier, status.period_end) == ("Silver", at(2025, 4, 10, 12))
    status, kinds = run(p, facts, at(2025, 4, 10, 12))
    assert status.tier == "Member"
    assert kinds == ["loyalty.tier_upgraded", "loyalty.tier_downgraded"]
    assert status.tier_at(at(2025, 4, 10, 11)) == "Silver"


def test_rolling_facts_that_earned_the_tier_do_not_keep_it() -> None:
    p = policy(window="rolling_12_months")
    facts = [
        QualifyingFact(at(2025, 3, 1), points=1000),
        QualifyingFact(at(2025, 9, 1), points=1000),
    ]
    status, kinds = run(p, facts, at(2026, 3, 1))
    assert status.tier == "Silver"  # the September points count for the anniversary period
    assert kinds[-1] == "loyalty.tier_retained"
    status, _ = run(p, facts, at(2027, 3, 1))
    assert status.tier == "Member"


def test_returns_lower_the_qualifying_total() -> None:
    p = policy()
    facts = [
        QualifyingFact(at(2026, 1, 5), points=1200),
        QualifyingFact(at(2026, 1, 5), points=-500),
    ]
    status, kinds = run(p, facts, at(2026, 12, 1))
    assert status.tier == "Member"  # same-time facts count together
    assert kinds == []


def test_tier_history_answers_for_any_past_time() -> None:
    p = policy()
    facts = [
        QualifyingFact(at(2025, 3, 1), points=1000),
        QualifyingFact(at(2025, 8, 1), points=4000),
    ]
    status, _ = run(p, facts, at(2027, 6, 1))
    assert status.tier_at(at(2025, 1, 1)) == "Member"
    assert status.tier_at(at(2025, 3, 1)) == "Silver"
    assert status.tier_at(at(2025, 12, 31)) == "Gold"
    assert status.tier_at(at(2026, 6, 1)) == "Gold"
    assert status.tier_at(at(2027, 1, 1)) == "Silver"
    assert status.tier == "Silver"  # 2026 earned nothing: one tier down on 1 January 2027
    assert status.history[-1].at == at(2027, 1, 1)
    assert [c.reason for c in status.history] == [
        TierChangeReason.QUALIFIED,
        TierChangeReason.QUALIFIED,
        TierChangeReason.NOT_REQUALIFIED,
    ]


def test_progress_shows_points_to_next_and_to_keep() -> None:
    p = policy()
    facts = [QualifyingFact(at(2026, 2, 1), points=1800, spend=Money("150", "EUR"))]
    progress = TierStatus.new("c-1", p).progress(facts, at(2026, 4, 1), p)
    assert progress.tier == "Silver"
    assert progress.next_tier == "Gold"
    assert progress.points_to_next == 3200
    assert progress.spend_to_next == Money("1850.00", "EUR")
    assert progress.points_to_keep == 0  # the year's points already keep Silver
    assert progress.period_end == at(2027, 1, 1)
    later = TierStatus.new("c-1", p).progress(facts, at(2027, 3, 1), p)
    assert later.tier == "Silver"
    assert later.points_to_keep == 1000  # 2027 has nothing yet
    assert later.spend_to_keep is None  # Silver has no spend threshold
    top = TierStatus.new("c-1", p).progress(
        [QualifyingFact(at(2026, 2, 1), points=20000)], at(2026, 3, 1), p
    )
    assert (top.next_tier, top.points_to_next) == (None, None)


def test_status_round_trips_and_events_decode() -> None:
    p = policy(grace_days=10)
    facts = [QualifyingFact(at(2025, 3, 1), points=6000, spend=Money("12.34", "EUR"))]
    outcome = TierStatus.new("c-1", p).evaluate(facts, at(2027, 6, 1), p)
    status = attrs_evolve_version(outcome.value)
    assert decode(TierStatus, encode(status, TierStatus)) == status
    assert [c.to_tier for c in status.history] == ["Gold", "Silver"]
    for event in outcome.events:
        assert event_from_json(event.kind, event.payload()) == event
    kinds = {type(e) for e in outcome.events}
    assert kinds == {TierUpgraded, TierRetained, TierDowngraded}


def attrs_evolve_version(status: TierStatus) -> TierStatus:
    import attrs

    return attrs.evolve(status, version=3)


def test_bad_inputs_raise_crm_errors() -> None:
    p = policy()
    status = TierStatus.new("c-1", p).evaluate([], at(2026, 6, 1), p).value
    with pytest.raises(ValidationError, match="as_of"):
        status.evaluate([], at(2026, 5, 1), p)
    with pytest.raises(CurrencyMismatchError):
        status.evaluate(
            [QualifyingFact(at(2026, 6, 2), spend=Money("5", "USD"))], at(2026, 7, 1), p
        )
    with pytest.raises(ValidationError, match="tier"):
        TierStatus(id="c-1", tier="Diamond").evaluate([], at(2026, 6, 1), p)
    with pytest.raises(ValidationError, match="facts"):
        status.evaluate(["nope"], at(2026, 7, 1), p)  # type: ignore[list-item]
    with pytest.raises(ValidationError, match=r"fact.at"):
        QualifyingFact(datetime(2026, 1, 1), points=1)
    with pytest.raises(ValidationError, match="since"):
        TierStatus(id="c-1", tier="Member", since=at(2026, 1, 1))


# -- properties ------------------------------------------------------------------------------

START = at(2024, 1, 1)
FACT = st.tuples(
    st.integers(0, 1200),  # day
    st.sampled_from([0, 6, 23]),  # hour
    st.integers(-300, 4000),  # points
    st.integers(0, 150_000),  # spend, minor units
)
POLICIES = st.builds(
    policy,
    window=st.sampled_from(list(QualificationWindow)),
    downgrade=st.sampled_from(list(DowngradePolicy)),
    grace_days=st.sampled_from([0, 1, 30, 90]),
)


def facts_of(rows: list[tuple[int, int, int, int]]) -> list[QualifyingFact]:
    return [
        QualifyingFact(START + timedelta(days=d, hours=h), points=p, spend=Money.of_minor(s, "EUR"))
        for d, h, p, s in rows
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    p=POLICIES, rows=st.lists(FACT, max_size=12), cuts=st.lists(st.integers(0, 1500), max_size=4)
)
def test_checkpoints_give_the_same_status_as_one_evaluation(
    p: TierPolicy, rows: list[tuple[int, int, int, int]], cuts: list[int]
) -> None:
    facts = facts_of(rows)
    end = START + timedelta(days=1500)
    once = TierStatus.new("c-1", p).evaluate(facts, end, p)
    status = TierStatus.new("c-1", p)
    events = []
    for cut in sorted(cuts):
        step = status.evaluate(facts, START + timedelta(days=cut), p)
        status, events = step.value, events + list(step.events)
    last = status.evaluate(facts, end, p)
    assert last.value == once.value
    assert events + list(last.events) == list(once.events)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    p=POLICIES,
    customers=st.lists(st.lists(FACT, max_size=10), min_size=1, max_size=6),
    as_of_day=st.integers(0, 1600),
)
def test_batch_agrees_with_the_per_customer_path(
    p: TierPolicy, customers: list[list[tuple[int, int, int, int]]], as_of_day: int
) -> None:
    as_of = START + timedelta(days=as_of_day, hours=5)
    codes, times, points, spend = [], [], [], []
    for code, rows in enumerate(customers):
        for d, h, pts, s in rows:
            codes.append(code)
            times.append(
                np.datetime64(START.replace(tzinfo=None) + timedelta(days=d, hours=h), "us")
            )
            points.append(pts)
            spend.append(s)
    order = np.random.default_rng(len(codes)).permutation(len(codes))  # row order must not matter
    batch = evaluate_batch(
        p,
        as_of,
        customer_codes=np.array(codes, dtype=np.int64)[order],
        at=np.array(times, dtype="datetime64[us]")[order],
        points=np.array(points, dtype=np.int64)[order],
        spend_minor=np.array(spend, dtype=np.int64)[order],
        customers=len(customers),
    )
    for code, rows in enumerate(customers):
        outcome = TierStatus.new(f"c-{code}", p).evaluate(facts_of(rows), as_of, p)
        status = outcome.value
        kinds = [e.kind for e in outcome.events]
        assert batch.tier_of(code) == status.tier
        assert _time(batch.since[code]) == status.since
        assert _time(batch.period_end[code]) == status.period_end
        assert int(batch.upgrades[code]) == kinds.count("loyalty.tier_upgraded")
        assert int(batch.downgrades[code]) == kinds.count("loyalty.tier_downgraded")
        assert int(batch.retentions[code]) == kinds.count("loyalty.tier_retained")


def _time(value: np.datetime64) -> datetime | None:
    if np.isnat(value):
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value.astype(np.int64)))


# -- batch ------------------------------------------------------------------------------------


def test_evaluate_log_counts_purchase_spend() -> None:
    p = TierPolicy(
        name="spend",
        currency="USD",
        tiers=(Tier("Basic"), Tier("Plus", min_spend=Money("100", "USD"))),
    )
    log = TransactionLog.from_records(
        [
            {"customer_id": "a", "at": at(2026, 1, 5), "amount": 60.0, "currency": "USD"},
            {"customer_id": "b", "at": at(2026, 1, 5), "amount": 30.0, "currency": "USD"},
            {"customer_id": "a", "at": at(2026, 2, 5), "amount": 40.0, "currency": "USD"},
        ]
    )
    batch = evaluate_log(log, p, at(2026, 12, 1))
    assert isinstance(batch, BatchTiers)
    assert batch.tier_names() == ["Plus", "Basic"]
    assert batch.tier_of("a") == "Plus"
    assert batch.counts() == {"Basic": 1, "Plus": 1}
    data = batch.to_dict()
    assert data["upgrades"] == 1 and data["customers"] == 2
    assert "Plus" in batch._repr_html_()
    with pytest.raises(NotFoundError):
        batch.tier_of("zed")
    eur = TransactionLog.from_records(
        [{"customer_id": "a", "at": at(2026, 1, 5), "amount": 1.0, "currency": "EUR"}]
    )
    with pytest.raises(CurrencyMismatchError):
        evaluate_log(eur, p, at(2026, 12, 1))


def test_batch_validates_its_arrays() -> None:
    p = policy()
    t = np.array(["2026-01-01T00:00"], dtype="datetime64[us]")
    with pytest.raises(ValidationError, match="customer_codes"):
        evaluate_batch(p, at(2026, 2, 1), customer_codes=np.array([3]), at=t, customers=2)
    with pytest.raises(ValidationError, match="at"):
        evaluate_batch(p, at(2026, 2, 1), customer_codes=np.array([0]), at=np.array([1.0]))
    with pytest.raises(ValidationError, match="points"):
        evaluate_batch(p, at(2026, 2, 1), customer_codes=np.array([0]), at=t, points=[1.5])
    empty = evaluate_batch(
        p,
        at(2026, 2, 1),
        customer_codes=np.array([], dtype=np.int64),
        at=np.array([], dtype="datetime64[us]"),
        customers=3,
    )
    assert empty.tier_names() == ["Member"] * 3


# -- the ledger adapter ----------------------------------------------------------------------


def test_facts_from_a_ledger_account_feed_the_tiers() -> None:
    from crmcore.customers.records import Purchase
    from crmcore.loyalty.ledger import LoyaltyAccount
    from crmcore.loyalty.program import EarnRule, LoyaltyProgram
    from crmcore.loyalty.tiers import facts_from_ledger

    p = policy()
    program = LoyaltyProgram(
        id="P",
        currency="EUR",
        point_value=Money("0.01", "EUR"),
        earn=EarnRule(points_per_unit=Decimal(10), tier_multipliers=p.multipliers()),
    )
    account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
    status = TierStatus.new("c-1", p)
    for n, (when, amount) in enumerate([(at(2026, 2, 1), "120"), (at(2026, 3, 1), "60")]):
        sale = Purchase(f"o-{n}", "c-1", when, Money(amount, "EUR"))
        account = account.earn(program, sale, key=f"earn-o-{n}", tier=status.tier).value
        status = status.evaluate(facts_from_ledger(account), when, p).value
    facts = facts_from_ledger(account)
    assert [(f.points, f.spend) for f in facts] == [
        (1200, Money("120", "EUR")),
        (750, Money("60", "EUR")),  # earned at Silver's 1.25
    ]
    assert status.tier == "Silver" and status.since == at(2026, 2, 1)
    with pytest.raises(ValidationError, match="account"):
        facts_from_ledger(object())  # type: ignore[arg-type]


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    p=POLICIES,
    customers=st.lists(st.lists(FACT, max_size=25), min_size=1, max_size=8),
    as_of_day=st.integers(0, 1600),
)
def test_batch_agrees_with_the_per_customer_path_at_length(
    p: TierPolicy, customers: list[list[tuple[int, int, int, int]]], as_of_day: int
) -> None:
    test_batch_agrees_with_the_per_customer_path.hypothesis.inner_test(p, customers, as_of_day)  # type: ignore[attr-defined]
