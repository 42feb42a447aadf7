"""Referrals: codes, claim guards, a reward for both sides exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from crmcore.codec import decode, encode
from crmcore.customers.records import Purchase
from crmcore.errors import (
    AlreadyExists,
    CrmError,
    CurrencyMismatch,
    DuplicateOperation,
    NotFound,
    ValidationError,
)
from crmcore.events import event_from_json
from crmcore.loyalty.referrals import (
    CODE_ALPHABET,
    ReferralProgram,
    Referrals,
    RewardRole,
    generate_code,
    referral_code,
    reward_key,
)
from crmcore.loyalty.tier_events import ReferralClaimed, ReferralCodeIssued, ReferralRewarded
from crmcore.money import Money

T0 = datetime(2026, 5, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def program(**changes: object) -> ReferralProgram:
    fields: dict[str, object] = {
        "referrer_points": 500,
        "referee_points": 200,
        "minimum_purchase": Money("20", "EUR"),
        "valid_days": 30,
        "usage_limit": 2,
    }
    fields.update(changes)
    return ReferralProgram(**fields)  # type: ignore[arg-type]


def book(**changes: object) -> Referrals:
    return Referrals(id="friends", program=program(**changes)).issue("ann", T0, code="ANN1").value


def buy(customer: str, at: datetime, amount: str, order: str = "o-1") -> Purchase:
    return Purchase(order, customer, at, Money(amount, "EUR"))


# -- codes -----------------------------------------------------------------------------------


def test_codes_are_validated_and_normalised() -> None:
    assert referral_code(" ann-2026 ") == "ANN-2026"
    for bad in ("abc", "A B C D", "-ABCD", "ABCD-", "AB--CD", "X" * 33, 1234):
        with pytest.raises(ValidationError) as info:
            referral_code(bad)
        assert info.value.field == "code"


def test_generated_codes_are_deterministic() -> None:
    code = generate_code("spring", "ann")
    assert code == generate_code("spring", "ann")
    assert code != generate_code("autumn", "ann")
    assert code != generate_code("spring", "bob")
    assert len(code) == 8 and set(code) <= set(CODE_ALPHABET)
    assert generate_code("spring", "ann", prefix="friend-").startswith("FRIEND-")
    with pytest.raises(ValidationError, match="length"):
        generate_code("spring", "ann", length=2)


def test_issue_is_idempotent_and_codes_are_unique() -> None:
    referrals = Referrals(id="friends", program=program())
    first = referrals.issue("ann", T0, seed="s1")
    (event,) = first.events
    assert isinstance(event, ReferralCodeIssued)
    assert event.code == generate_code("s1", "ann")
    assert event.expires_at == T0 + 30 * DAY
    again = first.value.issue("ann", T0 + DAY, seed="s1")
    assert again.value is first.value and again.events == ()
    with pytest.raises(AlreadyExists):
        first.value.issue("bob", T0, code=event.code.lower())


def test_program_validation() -> None:
    with pytest.raises(ValidationError, match="one side"):
        program(referrer_points=0, referee_points=0)
    with pytest.raises(ValidationError, match=r"program\.minimum_purchase"):
        program(minimum_purchase=Money("-1", "EUR"))
    with pytest.raises(ValidationError, match=r"program\.valid_days"):
        program(valid_days=0)
    with pytest.raises(ValidationError, match="usage_limit"):
        program(usage_limit=-1)


# -- claims ----------------------------------------------------------------------------------


def test_claim_records_and_replays_idempotently() -> None:
    referrals = book()
    outcome = referrals.claim("ann1", "bob", T0 + DAY)
    (event,) = outcome.events
    assert isinstance(event, ReferralClaimed)
    assert (event.code, event.referrer, event.referee) == ("ANN1", "ann", "bob")
    assert outcome.value.is_pending("bob")
    assert outcome.value.code("ANN1").uses == 1
    replay = outcome.value.claim("ANN1", "bob", T0 + 40 * DAY)  # even after expiry
    assert replay.value is outcome.value and replay.events == ()


def test_self_referral_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        book().claim("ANN1", "ann", T0 + DAY)
    assert info.value.field == "referee" and "self-referral" in info.value.reason


def test_existing_customers_are_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        book().claim("ANN1", "bob", T0 + DAY, first_purchase_at=T0 - DAY)
    assert info.value.field == "referee" and "existing customer" in info.value.reason
    # a first purchase after the claim is the point of the referral
    assert book().claim("ANN1", "bob", T0 + DAY, first_purchase_at=T0 + 2 * DAY).events


def test_a_referee_is_referred_once() -> None:
    referrals = book().issue("cat", T0, code="CAT1").value
    claimed = referrals.claim("ANN1", "bob", T0 + DAY).value
    with pytest.raises(DuplicateOperation) as info:
        claimed.claim("CAT1", "bob", T0 + 2 * DAY)
    assert info.value.key == "referral:bob" and "ANN1" in info.value.reason


def test_unknown_expired_early_and_used_up_codes_are_rejected() -> None:
    with pytest.raises(NotFound):
        book().claim("NOPE", "bob", T0)
    with pytest.raises(ValidationError, match="expired"):
        book().claim("ANN1", "bob", T0 + 30 * DAY)
    with pytest.raises(ValidationError, match="not valid before"):
        book().claim("ANN1", "bob", T0 - DAY)
    referrals = book().claim("ANN1", "bob", T0).value.claim("ANN1", "cy", T0).value
    with pytest.raises(ValidationError) as info:
        referrals.claim("ANN1", "dee", T0)
    assert info.value.field == "code" and "usage limit of 2" in info.value.reason
    unlimited = book(usage_limit=0, valid_days=None)
    for i in range(5):
        unlimited = unlimited.claim("ANN1", f"friend-{i}", T0 + 400 * DAY).value
    assert unlimited.code("ANN1").uses == 5


# -- rewards ---------------------------------------------------------------------------------


def test_first_qualifying_purchase_rewards_both_sides_once() -> None:
    referrals = book().claim("ANN1", "bob", T0 + DAY).value
    small = referrals.qualify("bob", buy("bob", T0 + 2 * DAY, "19.99", "o-1"), T0 + 2 * DAY)
    assert small.value.rewards == () and small.events == ()
    assert small.value.referrals.is_pending("bob")
    outcome = small.value.referrals.qualify(
        "bob", buy("bob", T0 + 3 * DAY, "20.00", "o-2"), T0 + 3 * DAY
    )
    rewards = outcome.value.rewards
    assert [(r.account, r.role, r.points, r.key) for r in rewards] == [
        ("ann", RewardRole.REFERRER, 500, "referral:ANN1:bob:referrer"),
        ("bob", RewardRole.REFEREE, 200, "referral:ANN1:bob:referee"),
    ]
    assert all(r.order_id == "o-2" for r in rewards)
    (event,) = outcome.events
    assert isinstance(event, ReferralRewarded)
    assert (event.referrer_key, event.referee_key) == tuple(r.key for r in rewards)
    after = outcome.value.referrals
    assert not after.is_pending("bob")
    for purchase in (buy("bob", T0 + 3 * DAY, "20", "o-2"), buy("bob", T0 + 9 * DAY, "99", "o-3")):
        again = after.qualify("bob", purchase, T0 + 10 * DAY)
        assert again.value.rewards == () and again.events == ()
        assert again.value.claim.rewards == rewards  # the first result stands
        assert again.value.referrals is after


def test_a_side_without_points_gets_no_instruction() -> None:
    referrals = book(referee_points=0).claim("ANN1", "bob", T0).value
    rewards = referrals.qualify("bob", buy("bob", T0, "50"), T0).value.rewards
    assert [r.role for r in rewards] == [RewardRole.REFERRER]
    assert reward_key("ann1", "bob", "referee") == "referral:ANN1:bob:referee"


def test_qualify_guards() -> None:
    referrals = book().claim("ANN1", "bob", T0 + DAY).value
    with pytest.raises(NotFound):
        referrals.qualify("cy", buy("cy", T0 + DAY, "50"), T0 + DAY)
    with pytest.raises(ValidationError, match="customer_id"):
        referrals.qualify("bob", buy("cy", T0 + DAY, "50"), T0 + DAY)
    with pytest.raises(ValidationError, match="before the claim"):
        referrals.qualify("bob", buy("bob", T0, "50"), T0 + DAY)
    with pytest.raises(ValidationError, match="before the purchase"):
        referrals.qualify("bob", buy("bob", T0 + 2 * DAY, "50"), T0 + DAY)
    with pytest.raises(CurrencyMismatch):
        usd = Purchase("o-9", "bob", T0 + DAY, Money("50", "USD"))
        referrals.qualify("bob", usd, T0 + DAY)


def test_referrals_round_trip_and_events_decode() -> None:
    events = []
    step = Referrals(id="friends", program=program()).issue("ann", T0, code="ANN1")
    events += step.events
    step = step.value.claim("ANN1", "bob", T0)
    events += step.events
    result = step.value.qualify("bob", buy("bob", T0, "25"), T0)
    events += result.events
    referrals = attrs.evolve(result.value.referrals, version=4)
    assert decode(Referrals, encode(referrals, Referrals)) == referrals
    for event in events:
        assert event_from_json(event.kind, event.payload()) == event
    assert [e.kind for e in events] == [
        "loyalty.referral_code_issued",
        "loyalty.referral_claimed",
        "loyalty.referral_rewarded",
    ]


def test_inconsistent_documents_are_refused() -> None:
    referrals = book().claim("ANN1", "bob", T0).value
    record = referrals.code("ANN1")
    with pytest.raises(ValidationError, match="uses"):
        attrs.evolve(referrals, codes=referrals.codes.set("ANN1", attrs.evolve(record, uses=0)))
    with pytest.raises(ValidationError, match="claims"):
        attrs.evolve(referrals, codes=referrals.codes.delete("ANN1"))


# -- stateful: never rewarded twice, never self-rewarded -------------------------------------

PEOPLE = [f"p{i}" for i in range(8)]


class ReferralMachine(RuleBasedStateMachine):
    """Random issues, claims (some by existing customers) and purchases against a plain model."""

    def __init__(self) -> None:
        super().__init__()
        self.referrals = Referrals(id="prog", program=program(usage_limit=3, valid_days=20))
        self.now = T0
        self.buyers: dict[str, datetime] = {}  # first purchase of each person
        self.referred: dict[str, str] = {}  # referee -> code
        self.rewarded: dict[str, int] = {}  # referee -> reward events
        self.keys: set[str] = set()
        self.orders = 0

    codes = Bundle("codes")

    @rule(target=codes, person=st.sampled_from(PEOPLE), seed=st.integers(0, 2))
    def issue(self, person: str, seed: int) -> tuple[str, str]:
        outcome = self.referrals.issue(person, self.now, seed=seed)
        self.referrals = outcome.value
        return generate_code(seed, person), person

    @rule(
        issued=codes,
        unknown=st.booleans(),
        referee=st.sampled_from(PEOPLE),
        hours=st.integers(0, 72),
    )
    def claim(self, issued: tuple[str, str], unknown: bool, referee: str, hours: int) -> None:
        self.now += timedelta(hours=hours)
        code, referrer = ("NO-SUCH-CODE", "nobody") if unknown else issued
        known = self.referrals.codes.get(code)
        refusal: type[CrmError] | None = None
        if referee in self.referred:
            refusal = None if self.referred[referee] == code else DuplicateOperation
        elif known is None:
            refusal = NotFound
        else:
            expired = known.expires_at is not None and self.now >= known.expires_at
            used_up = known.uses >= known.usage_limit
            own_or_existing = referee == referrer or referee in self.buyers
            refusal = ValidationError if (expired or used_up or own_or_existing) else None
        first = self.buyers.get(referee)
        if refusal is not None:
            with pytest.raises(refusal):
                self.referrals.claim(code, referee, self.now, first_purchase_at=first)
            return
        outcome = self.referrals.claim(code, referee, self.now, first_purchase_at=first)
        assert known is not None and referee != referrer
        if referee in self.referred:
            assert self.referred[referee] == code and outcome.events == ()
        else:
            assert referee not in self.buyers and len(outcome.events) == 1
            self.referred[referee] = code
        self.referrals = outcome.value

    @rule(person=st.sampled_from(PEOPLE), amount=st.sampled_from(["5", "20", "80"]))
    def purchase(self, person: str, amount: str) -> None:
        self.orders += 1
        self.now += timedelta(hours=1)
        self.buyers.setdefault(person, self.now)
        if not self.referrals.claim_of(person):
            return
        order = buy(person, self.now, amount, f"o-{self.orders}")
        result = self.referrals.qualify(person, order, self.now)
        for reward in result.value.rewards:
            assert reward.key not in self.keys
            self.keys.add(reward.key)
        if result.events:
            self.rewarded[person] = self.rewarded.get(person, 0) + 1
            assert Money(amount, "EUR") >= Money("20", "EUR")
        self.referrals = result.value.referrals

    @rule(index=st.integers(0, 7), amount=st.sampled_from(["5", "20", "80"]))
    def referee_purchase(self, index: int, amount: str) -> None:
        if self.referred:
            referees = sorted(self.referred)
            self.purchase(referees[index % len(referees)], amount)

    @invariant()
    def never_twice_never_self(self) -> None:
        assert all(n == 1 for n in self.rewarded.values())
        for referee, claim in self.referrals.claims.items():
            assert claim.referrer != referee
            assert all(
                r.account != claim.referrer or r.role is RewardRole.REFERRER for r in claim.rewards
            )
            assert claim.rewarded == (referee in self.rewarded)
        assert set(self.referrals.claims) == set(self.referred)


TestReferralMachine = ReferralMachine.TestCase
TestReferralMachine.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
