from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from crmcore import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    DuplicateOperationError,
    InsufficientPointsError,
    MemoryStore,
    Money,
    NotFoundError,
    Purchase,
    SqliteStore,
    Store,
    ValidationError,
)
from crmcore.loyalty.expiry import ExpiryPolicy
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.ledger_batch import liability_report
from crmcore.loyalty.program import EarnRule, LoyaltyProgram
from crmcore.loyalty.referrals import ReferralProgram, claim_id
from crmcore.loyalty.tier_policy import Tier, TierPolicy
from crmcore.services import (
    adjust_points,
    award_points,
    claim_referral,
    earn_for_purchase,
    expire_accounts,
    issue_referral_code,
    loyalty_liability,
    open_account,
    qualify_referral,
    redeem_points,
    refund_purchase,
    retry_on_conflict,
    reverse_entry,
)
from crmcore.storage.unit_of_work import BufferedUnitOfWork

T = datetime(2026, 3, 1, 10, tzinfo=UTC)
PROGRAM = LoyaltyProgram(
    id="P",
    currency="EUR",
    point_value=Money("0.01", "EUR"),
    actions={"referral": 100, "review": 25},
    expiry=ExpiryPolicy.months_after(6),
)
TIERS = TierPolicy(
    name="status",
    currency="EUR",
    tiers=(Tier("base"), Tier("gold", min_points=200, multiplier=Decimal(2))),
)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "l.db")
    yield made
    made.close()


def _sale(order: str, amount: str, days: float = 0, customer: str = "c-1") -> Purchase:
    return Purchase(order, customer, T + timedelta(days=days), Money(amount, "EUR"))


def _kinds(store: Store) -> list[str]:
    return [m.kind for m in store.outbox.pending(limit=1000)]


def _stored(store: Store, account_id: str) -> LoyaltyAccount:
    with store.unit_of_work() as uow:
        return uow.loyalty_accounts.get(account_id)


def test_open_account_stores_the_account_and_its_base_tier(store: Store) -> None:
    account = open_account(store, "A-1", "c-1", PROGRAM, tier_policy=TIERS)
    assert (account.version, account.customer_id, account.program_id) == (1, "c-1", "P")
    with pytest.raises(AlreadyExistsError):  # one account per customer and program
        open_account(store, "A-2", "c-1", PROGRAM)
    with pytest.raises(AlreadyExistsError):
        open_account(store, "A-1", "c-9", PROGRAM)
    with store.unit_of_work() as uow:
        assert uow.loyalty_accounts.get_for_customer("P", "c-1") == account
        assert uow.tier_statuses.get("A-1").tier == "base"
        assert uow.loyalty_accounts.count() == 1


def test_earn_redeem_refund_and_reverse_post_through_the_store(store: Store) -> None:
    open_account(store, "A-1", "c-1", PROGRAM)
    earned = earn_for_purchase(store, "A-1", PROGRAM, _sale("o-1", "150.00"), key="e-1")
    assert earned.tier is None
    assert earned.account.balance(T) == 150
    earn_for_purchase(store, "A-1", PROGRAM, _sale("o-2", "50.00", 1), key="e-2")
    redeemed = redeem_points(store, "A-1", PROGRAM, 120, at=T + timedelta(days=2), key="r-1")
    assert redeemed.balance(T + timedelta(days=2)) == 80
    refunded = refund_purchase(
        store, "A-1", PROGRAM, "o-2", at=T + timedelta(days=3), key="refund-o-2"
    )
    assert refunded.balance(T + timedelta(days=3)) == 30
    restored = reverse_entry(store, "A-1", PROGRAM, "r-1", at=T + timedelta(days=4), key="x-r-1")
    assert restored.balance(T + timedelta(days=4)) == 150
    awarded = award_points(store, "A-1", PROGRAM, "review", at=T + timedelta(days=4), key="rv")
    adjusted = adjust_points(
        store, "A-1", PROGRAM, -5, reason="goodwill fix", at=T + timedelta(days=4), key="adj"
    )
    assert (awarded.balance(T + timedelta(days=4)), adjusted.balance(T + timedelta(days=4))) == (
        175,
        170,
    )
    stored = _stored(store, "A-1")
    assert stored == adjusted
    assert stored.version == 8
    assert [e.key for e in stored.entries] == [
        "e-1",
        "e-2",
        "r-1",
        "refund-o-2",
        "x-r-1",
        "rv",
        "adj",
    ]
    assert _kinds(store) == [
        "loyalty.points_earned",
        "loyalty.points_earned",
        "loyalty.points_redeemed",
        "loyalty.points_reversed",
        "loyalty.points_reversed",
        "loyalty.points_awarded",
        "loyalty.points_adjusted",
    ]


def test_replaying_a_key_through_the_services_posts_nothing_twice(store: Store) -> None:
    open_account(store, "A-1", "c-1", PROGRAM, tier_policy=TIERS)
    first = earn_for_purchase(
        store, "A-1", PROGRAM, _sale("o-1", "80.00"), key="e-1", tier_policy=TIERS
    )
    redeemed = redeem_points(store, "A-1", PROGRAM, 30, at=T, key="r-1")
    events = _kinds(store)
    again = earn_for_purchase(
        store, "A-1", PROGRAM, _sale("o-1", "80.00"), key="e-1", tier_policy=TIERS
    )
    assert again.account == redeemed  # the stored account, unchanged
    assert again.tier == first.tier
    assert redeem_points(store, "A-1", PROGRAM, 30, at=T, key="r-1") == redeemed
    assert refund_purchase(store, "A-1", PROGRAM, "o-1", at=T, key="f-1").version == 4
    assert refund_purchase(store, "A-1", PROGRAM, "o-1", at=T, key="f-1").version == 4
    with pytest.raises(DuplicateOperationError):  # same key, another request
        redeem_points(store, "A-1", PROGRAM, 31, at=T, key="r-1")
    with pytest.raises(DuplicateOperationError):  # the same order cannot earn twice
        earn_for_purchase(store, "A-1", PROGRAM, _sale("o-1", "80.00"), key="e-other")
    with store.unit_of_work() as uow:
        account = uow.loyalty_accounts.get("A-1")
        assert account.version == 4
        assert len(account.entries) == 3
        assert uow.tier_statuses.get("A-1").version == first.tier.version  # type: ignore[union-attr]
    assert _kinds(store) == [*events, "loyalty.points_reversed"]


def test_insufficient_points_change_nothing(store: Store) -> None:
    open_account(store, "A-1", "c-1", PROGRAM)
    earn_for_purchase(store, "A-1", PROGRAM, _sale("o-1", "10.00"), key="e-1")
    before = (_stored(store, "A-1"), _kinds(store))
    with pytest.raises(InsufficientPointsError) as info:
        redeem_points(store, "A-1", PROGRAM, 11, at=T, key="r-1")
    assert (info.value.balance, info.value.requested) == (10, 11)
    with pytest.raises(NotFoundError):
        redeem_points(store, "A-9", PROGRAM, 1, at=T, key="r-2")
    with pytest.raises(ValidationError):
        redeem_points(store, "A-1", "P", 1, at=T, key="r-3")  # type: ignore[arg-type]
    assert (_stored(store, "A-1"), _kinds(store)) == before


def test_earning_uses_the_stored_tier_and_re_evaluates_it(store: Store) -> None:
    open_account(store, "A-1", "c-1", PROGRAM, tier_policy=TIERS)
    first = earn_for_purchase(
        store, "A-1", PROGRAM, _sale("o-1", "250.00"), key="e-1", tier_policy=TIERS
    )
    assert first.account.entry("e-1").points == 250  # earned in the base tier
    assert first.tier is not None
    assert (first.tier.tier, first.tier.version) == ("gold", 2)  # upgraded at once
    second = earn_for_purchase(
        store, "A-1", PROGRAM, _sale("o-2", "10.00", 1), key="e-2", tier_policy=TIERS
    )
    assert second.account.entry("e-2").points == 20  # gold earns double
    assert second.tier is not None
    assert second.tier.version == 3
    with store.unit_of_work() as uow:
        assert uow.tier_statuses.get("A-1") == second.tier
    assert _kinds(store).count("loyalty.tier_upgraded") == 1


def test_a_missing_tier_status_is_created_on_first_earn(store: Store) -> None:
    open_account(store, "A-1", "c-1", PROGRAM)
    result = earn_for_purchase(
        store, "A-1", PROGRAM, _sale("o-1", "20.00"), key="e-1", tier_policy=TIERS
    )
    assert result.tier is not None
    assert (result.tier.tier, result.tier.version) == ("base", 1)


def test_a_program_contradicting_the_tier_policy_is_refused(store: Store) -> None:
    open_account(store, "A-1", "c-1", PROGRAM, tier_policy=TIERS)
    other = attrs.evolve(PROGRAM, earn=EarnRule(tier_multipliers={"gold": Decimal(3)}))
    with pytest.raises(ValidationError):
        earn_for_purchase(store, "A-1", other, _sale("o-1", "20.00"), key="e", tier_policy=TIERS)
    agreeing = attrs.evolve(PROGRAM, earn=EarnRule(tier_multipliers={"gold": Decimal(2)}))
    result = earn_for_purchase(
        store, "A-1", agreeing, _sale("o-1", "20.00"), key="e", tier_policy=TIERS
    )
    assert result.account.balance(T) == 20


class _RacingStore(MemoryStore):
    """A store where another writer changes account A-1 just before the first commit."""

    def __init__(self) -> None:
        super().__init__()
        self.races = 0

    def unit_of_work(self) -> BufferedUnitOfWork:
        store = self
        inner = super().unit_of_work()

        class Racing(BufferedUnitOfWork):
            def commit(self) -> None:
                if store.races == 1:
                    store.races += 1
                    award_points(store, "A-1", PROGRAM, "review", at=T, key="race")
                super().commit()

        return Racing(inner._backend)


def test_a_concurrent_change_is_detected_and_the_retry_applies_once() -> None:
    store = _RacingStore()
    open_account(store, "A-1", "c-1", PROGRAM)
    earn_for_purchase(store, "A-1", PROGRAM, _sale("o-1", "100.00"), key="e-1")
    store.races = 1
    with pytest.raises(ConcurrencyConflictError):
        redeem_points(store, "A-1", PROGRAM, 40, at=T, key="r-1", retry=None)
    assert _stored(store, "A-1").balance(T) == 125  # the racer's award only
    store.races = 1
    account = retry_on_conflict(
        lambda: redeem_points(store, "A-1", PROGRAM, 40, at=T, key="r-2", retry=None), attempts=2
    )
    assert account.balance(T) == 85
    assert [e.key for e in account.entries] == ["e-1", "race", "r-2"]


def test_expire_accounts_works_in_batches_and_is_idempotent(store: Store) -> None:
    for n in range(5):
        open_account(store, f"A-{n}", f"c-{n}", PROGRAM)
        earn_for_purchase(
            store, f"A-{n}", PROGRAM, _sale(f"o-{n}", "10.00", n * 40, f"c-{n}"), key=f"e-{n}"
        )
    other = attrs.evolve(PROGRAM, id="Q")
    open_account(store, "B-0", "c-0", other)
    earn_for_purchase(store, "B-0", other, _sale("q-0", "10.00", 0, "c-0"), key="e-q")
    as_of = T + timedelta(days=270)  # over six months after the first three purchases
    summary = expire_accounts(store, PROGRAM, as_of, batch_size=2)
    assert (summary.accounts_scanned, summary.accounts_expired) == (5, 3)
    assert (summary.expired_points, summary.batches) == (30, 4)  # 3 full pages + 1 empty
    events = _kinds(store)
    assert events.count("loyalty.points_expired") == 3
    with store.unit_of_work() as uow:
        accounts = {a.id: a for a in uow.loyalty_accounts.list().items}
    posted = {aid: [e.type.value for e in a.entries] for aid, a in accounts.items()}
    assert posted == {
        **{f"A-{n}": ["earn", "expire"] for n in range(3)},
        **{f"A-{n}": ["earn"] for n in (3, 4)},
        "B-0": ["earn"],  # another program: not touched
    }
    again = expire_accounts(store, PROGRAM, as_of, batch_size=2)
    assert (again.accounts_expired, again.expired_points) == (0, 0)
    assert _kinds(store) == events
    with pytest.raises(ValidationError):
        expire_accounts(store, PROGRAM, as_of, batch_size=0)


FRIENDS = ReferralProgram(
    id="friends", referrer_points=100, referee_points=50, minimum_purchase=Money("20", "EUR")
)


def test_referral_codes_are_issued_once(store: Store) -> None:
    code = issue_referral_code(store, FRIENDS, "ann", T, code="ann-2026")
    assert (code.id, code.program_id, code.referrer, code.version) == (
        "ANN-2026",
        "friends",
        "ann",
        1,
    )
    assert (
        issue_referral_code(store, FRIENDS, "ann", T + timedelta(days=1), code="ANN-2026") == code
    )
    with pytest.raises(AlreadyExistsError):
        issue_referral_code(store, FRIENDS, "bob", T, code="ANN-2026")
    with pytest.raises(AlreadyExistsError):  # codes are unique across programs
        issue_referral_code(store, attrs.evolve(FRIENDS, id="other"), "ann", T, code="ANN-2026")
    generated = issue_referral_code(store, FRIENDS, "bob", T, seed=7)
    assert issue_referral_code(store, FRIENDS, "bob", T, seed=7) == generated
    assert _kinds(store).count("loyalty.referral_code_issued") == 2


def test_claims_save_the_code_and_the_claim_together(store: Store) -> None:
    limited = attrs.evolve(FRIENDS, usage_limit=1)
    issue_referral_code(store, limited, "ann", T, code="ANN-2026")
    issue_referral_code(store, limited, "cat", T, code="CAT-2026")
    claim = claim_referral(store, limited, "ann-2026", "bob", T + timedelta(hours=1))
    assert (claim.id, claim.version, claim.pending) == (claim_id("friends", "bob"), 1, True)
    events = _kinds(store)
    assert claim_referral(store, limited, "ANN-2026", "bob", T + timedelta(days=2)) == claim
    assert _kinds(store) == events  # the same claim again writes nothing
    with pytest.raises(DuplicateOperationError):
        claim_referral(store, limited, "CAT-2026", "bob", T + timedelta(days=2))
    with pytest.raises(ValidationError, match="usage limit"):
        claim_referral(store, limited, "ANN-2026", "cy", T + timedelta(days=2))
    with pytest.raises(ValidationError, match="self-referral"):
        claim_referral(store, limited, "CAT-2026", "cat", T)
    with pytest.raises(NotFoundError):
        claim_referral(store, limited, "NOPE-1", "cy", T)
    with pytest.raises(NotFoundError):  # a code of another program
        claim_referral(store, attrs.evolve(limited, id="other"), "CAT-2026", "cy", T)
    with store.unit_of_work() as uow:
        used = uow.referral_codes.get("ANN-2026")
        assert (used.uses, used.version) == (1, 2)
        assert uow.referral_codes.get("CAT-2026").uses == 0
        assert uow.referral_claims.count() == 1
    assert _kinds(store) == events


def test_referral_rewards_reach_both_ledgers_once(store: Store) -> None:
    open_account(store, "A-ann", "ann", PROGRAM)
    open_account(store, "A-bob", "bob", PROGRAM)
    code = issue_referral_code(store, FRIENDS, "ann", T, code="ann-2026")
    claimed = claim_referral(store, FRIENDS, code.id, "bob", T + timedelta(hours=1))
    assert claimed.pending
    small = qualify_referral(
        store, FRIENDS, PROGRAM, _sale("o-1", "5.00", 1, "bob"), T + timedelta(days=1)
    )
    assert small.rewards == () and small.claim == claimed
    result = qualify_referral(
        store, FRIENDS, PROGRAM, _sale("o-2", "25.00", 2, "bob"), T + timedelta(days=2)
    )
    assert [(r.account, r.points) for r in result.rewards] == [("ann", 100), ("bob", 50)]
    assert (result.claim.version, result.claim.rewarded) == (2, True)
    later = T + timedelta(days=3)
    assert (_stored(store, "A-ann").balance(later), _stored(store, "A-bob").balance(later)) == (
        100,
        50,
    )
    events = _kinds(store)
    replay = qualify_referral(
        store, FRIENDS, PROGRAM, _sale("o-3", "90.00", 3, "bob"), T + timedelta(days=3)
    )
    assert replay.rewards == () and replay.claim == result.claim
    assert _kinds(store) == events
    assert events.count("loyalty.points_awarded") == 2
    assert events.count("loyalty.referral_rewarded") == 1
    with pytest.raises(NotFoundError):  # cy was never referred
        qualify_referral(store, FRIENDS, PROGRAM, _sale("o-4", "90.00", 3, "cy"), later)


def test_a_referral_reward_without_an_account_writes_nothing(store: Store) -> None:
    open_account(store, "A-ann", "ann", PROGRAM)  # bob has no account yet
    issue_referral_code(store, FRIENDS, "ann", T, code="ANN-2026")
    claim_referral(store, FRIENDS, "ANN-2026", "bob", T)
    before = _kinds(store)
    with pytest.raises(NotFoundError):
        qualify_referral(
            store, FRIENDS, PROGRAM, _sale("o-1", "30.00", 1, "bob"), T + timedelta(days=1)
        )
    assert _stored(store, "A-ann").version == 1  # the referrer's award was rolled back
    with store.unit_of_work() as uow:
        assert uow.referral_claims.get(claim_id("friends", "bob")).pending
    assert _kinds(store) == before
    open_account(store, "A-bob", "bob", PROGRAM)
    result = qualify_referral(
        store, FRIENDS, PROGRAM, _sale("o-1", "30.00", 1, "bob"), T + timedelta(days=1)
    )
    assert len(result.rewards) == 2


def test_a_stale_code_conflicts_and_a_retry_sees_the_limit(store: Store) -> None:
    limited = attrs.evolve(FRIENDS, usage_limit=1)
    stale = issue_referral_code(store, limited, "ann", T, code="ANN-2026")
    claim_referral(store, limited, "ANN-2026", "bob", T)  # another request took the last use
    used, late = stale.claim(limited, "cy", T).value
    with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
        uow.referral_claims.add(late)
        uow.referral_codes.save(used)
    with pytest.raises(ValidationError, match="usage limit"):
        retry_on_conflict(lambda: claim_referral(store, limited, "ANN-2026", "cy", T))
    with store.unit_of_work() as uow:
        assert uow.referral_claims.find(claim_id("friends", "cy")) is None
        assert uow.referral_codes.get("ANN-2026").uses == 1


def test_the_liability_of_the_stored_accounts_is_the_batch_report(store: Store) -> None:
    for n in range(3):
        open_account(store, f"A-{n}", f"c-{n}", PROGRAM)
        earn_for_purchase(
            store,
            f"A-{n}",
            PROGRAM,
            _sale(f"o-{n}", f"{10 * (n + 1)}.00", n * 40, f"c-{n}"),
            key=f"e-{n}",
        )
    open_account(store, "B-0", "c-0", attrs.evolve(PROGRAM, id="Q"))
    as_of = T + timedelta(days=100)
    report = loyalty_liability(store, PROGRAM, as_of, page_size=2)
    with store.unit_of_work() as uow:
        accounts = [a for a in uow.loyalty_accounts.list().items if a.program_id == "P"]
    assert report.to_dict() == liability_report(PROGRAM, accounts, as_of).to_dict()
    assert (report.accounts, report.total_points) == (3, 60)
