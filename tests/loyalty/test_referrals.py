"""Referrals: codes and claims as separate aggregates, claim guards, a reward exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from crmcore.customers.records import Purchase
from crmcore.kernel.codec import decode, encode
from crmcore.kernel.errors import (
    CurrencyMismatchError,
    DuplicateOperationError,
    ValidationError,
)
from crmcore.kernel.events import event_from_json
from crmcore.kernel.money import Money
from crmcore.loyalty.events import ReferralClaimed, ReferralCodeIssued, ReferralRewarded
from crmcore.loyalty.referrals import (
    CODE_ALPHABET,
    ReferralClaim,
    ReferralCode,
    ReferralProgram,
    RewardRole,
    claim_id,
    generate_code,
    referral_code,
    reward_key,
)

T0 = datetime(2026, 5, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def program(**changes: object) -> ReferralProgram:
    fields: dict[str, object] = {
        "id": "friends",
        "referrer_points": 500,
        "referee_points": 200,
        "minimum_purchase": Money("20", "EUR"),
        "valid_days": 30,
        "usage_limit": 2,
    }
    fields.update(changes)
    return ReferralProgram(**fields)  # type: ignore[arg-type]


def ann(**changes: object) -> tuple[ReferralProgram, ReferralCode]:
    """A program and ann's code ``ANN1`` in it."""
    p = program(**changes)
    return p, ReferralCode.issue(p, "ann", T0, code="ANN1").value


def buy(customer: str, at: datetime, amount: str, order: str = "o-1") -> Purchase:
    return Purchase(order, customer, at, Money(amount, "EUR"))


def claimed(referee: str = "bob", at: datetime = T0 + DAY, **changes: object) -> ReferralClaim:
    p, code = ann(**changes)
    return code.claim(p, referee, at).value[1]


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


def test_issue_gives_a_deterministic_code_aggregate() -> None:
    first = ReferralCode.issue(program(), "ann", T0, seed="s1")
    (event,) = first.events
    assert isinstance(event, ReferralCodeIssued)
    code = first.value
    assert code.id == code.code == event.code == event.aggregate_id == generate_code("s1", "ann")
    assert (code.program_id, event.program_id, code.referrer) == ("friends", "friends", "ann")
    assert (code.uses, code.version, code.usage_limit) == (0, 0, 2)
    assert event.expires_at == code.expires_at == T0 + 30 * DAY
    assert ReferralCode.issue(program(), "ann", T0 + DAY, seed="s1").value.id == code.id
    by_program = ReferralCode.issue(program(), "ann", T0).value
    assert by_program.id == generate_code("friends", "ann")  # the default seed is the program id
    supplied = ReferralCode.issue(program(valid_days=None), "ann", T0, code="ann-2026").value
    assert (supplied.id, supplied.expires_at) == ("ANN-2026", None)


def test_program_validation() -> None:
    with pytest.raises(ValidationError, match="one side"):
        program(referrer_points=0, referee_points=0)
    with pytest.raises(ValidationError, match=r"program\.minimum_purchase"):
        program(minimum_purchase=Money("-1", "EUR"))
    with pytest.raises(ValidationError, match=r"program\.valid_days"):
        program(valid_days=0)
    with pytest.raises(ValidationError, match="usage_limit"):
        program(usage_limit=-1)
    with pytest.raises(ValidationError, match=r"program\.id"):
        program(id="no spaces")


def test_code_and_claim_validation() -> None:
    _, code = ann()
    with pytest.raises(ValidationError, match="uses"):
        attrs.evolve(code, uses=3)  # over the usage limit of 2
    with pytest.raises(ValidationError, match="expires_at"):
        attrs.evolve(code, expires_at=T0)
    claim = claimed()
    with pytest.raises(ValidationError, match="claim_id"):
        attrs.evolve(claim, referee="cy")  # the id names the referee
    with pytest.raises(ValidationError, match="referrer"):
        ReferralClaim(
            id=claim_id("friends", "ann"),
            program_id="friends",
            code="ANN1",
            referrer="ann",
            referee="ann",
            claimed_at=T0,
        )
    with pytest.raises(ValidationError, match="order_id"):
        attrs.evolve(claim, rewarded_at=T0 + DAY)


def test_claim_ids_are_one_per_referee_and_program() -> None:
    assert claim_id("friends", "bob") == claim_id("friends", "bob")
    ids = {claim_id(p, r) for p in ("a:b", "a", "friends") for r in ("c", "b:c", "bob")}
    assert len(ids) == 9  # no separator ambiguity
    assert len(claim_id("p" * 128, "r" * 128)) <= 128
    with pytest.raises(ValidationError) as info:
        claim_id("friends", "no spaces")
    assert info.value.field == "referee"


# -- claims ----------------------------------------------------------------------------------


def test_claim_uses_the_code_once_and_creates_the_claim() -> None:
    p, code = ann()
    outcome = code.claim(p, "bob", T0 + DAY)
    used, claim = outcome.value
    (event,) = outcome.events
    assert isinstance(event, ReferralClaimed)
    assert (event.code, event.referrer, event.referee) == ("ANN1", "ann", "bob")
    assert (event.aggregate_id, event.program_id) == (claim.id, "friends")
    assert used == attrs.evolve(code, uses=1) and code.uses == 0  # the argument is unchanged
    assert claim.id == claim_id("friends", "bob") and claim.version == 0
    assert (claim.code, claim.referrer, claim.referee) == ("ANN1", "ann", "bob")
    assert claim.pending and not claim.rewarded


def test_the_same_claim_again_is_idempotent_and_another_code_is_refused() -> None:
    claim = claimed()
    assert claim.reclaim("ann1") is claim  # the same code, any case: the first result stands
    with pytest.raises(DuplicateOperationError) as info:
        claim.reclaim("CAT1")
    assert info.value.key == "referral:bob" and "ANN1" in info.value.reason


def test_self_referral_is_rejected() -> None:
    p, code = ann()
    with pytest.raises(ValidationError) as info:
        code.claim(p, "ann", T0 + DAY)
    assert info.value.field == "referee" and "self-referral" in info.value.reason


def test_existing_customers_are_rejected() -> None:
    p, code = ann()
    with pytest.raises(ValidationError) as info:
        code.claim(p, "bob", T0 + DAY, first_purchase_at=T0 - DAY)
    assert info.value.field == "referee" and "existing customer" in info.value.reason
    # a first purchase after the claim is the point of the referral
    assert code.claim(p, "bob", T0 + DAY, first_purchase_at=T0 + 2 * DAY).events


def test_expired_early_used_up_and_foreign_codes_are_rejected() -> None:
    p, code = ann()
    with pytest.raises(ValidationError, match="expired"):
        code.claim(p, "bob", T0 + 30 * DAY)
    with pytest.raises(ValidationError, match="not valid before"):
        code.claim(p, "bob", T0 - DAY)
    used = code.claim(p, "bob", T0).value[0].claim(p, "cy", T0).value[0]
    with pytest.raises(ValidationError) as info:
        used.claim(p, "dee", T0)
    assert info.value.field == "code" and "usage limit of 2" in info.value.reason
    with pytest.raises(ValidationError) as info:
        code.claim(program(id="other"), "bob", T0)
    assert info.value.field == "program"
    unlimited_program, unlimited = ann(usage_limit=0, valid_days=None)
    for i in range(5):
        unlimited = unlimited.claim(unlimited_program, f"friend-{i}", T0 + 400 * DAY).value[0]
    assert unlimited.uses == 5


# -- rewards ---------------------------------------------------------------------------------


def test_first_qualifying_purchase_rewards_both_sides_once() -> None:
    p = program()
    claim = claimed()
    small = claim.qualify(p, buy("bob", T0 + 2 * DAY, "19.99", "o-1"), T0 + 2 * DAY)
    assert small.value.rewards == () and small.events == ()
    assert small.value.claim is claim and claim.pending
    outcome = claim.qualify(p, buy("bob", T0 + 3 * DAY, "20.00", "o-2"), T0 + 3 * DAY)
    rewards = outcome.value.rewards
    assert [(r.account, r.role, r.points, r.key) for r in rewards] == [
        ("ann", RewardRole.REFERRER, 500, "referral:ANN1:bob:referrer"),
        ("bob", RewardRole.REFEREE, 200, "referral:ANN1:bob:referee"),
    ]
    assert all(r.order_id == "o-2" for r in rewards)
    (event,) = outcome.events
    assert isinstance(event, ReferralRewarded)
    assert (event.aggregate_id, event.program_id) == (claim.id, "friends")
    assert (event.referrer_key, event.referee_key) == tuple(r.key for r in rewards)
    after = outcome.value.claim
    assert after.rewarded and after.rewards == rewards and after.order_id == "o-2"
    for purchase in (buy("bob", T0 + 3 * DAY, "20", "o-2"), buy("bob", T0 + 9 * DAY, "99", "o-3")):
        again = after.qualify(p, purchase, T0 + 10 * DAY)
        assert again.value.rewards == () and again.events == ()
        assert again.value.claim is after  # the first result stands


def test_a_side_without_points_gets_no_instruction() -> None:
    claim = claimed(at=T0, referee_points=0)
    rewards = claim.qualify(program(referee_points=0), buy("bob", T0, "50"), T0).value.rewards
    assert [r.role for r in rewards] == [RewardRole.REFERRER]
    assert reward_key("ann1", "bob", "referee") == "referral:ANN1:bob:referee"
    with pytest.raises(ValidationError) as info:
        reward_key("ann1", "bob", "friend")
    assert info.value.field == "role"
    with pytest.raises(ValidationError) as info:
        reward_key("ann1", ["bob"], RewardRole.REFEREE)  # type: ignore[arg-type]
    assert info.value.field == "referee"
    with pytest.raises(ValidationError) as info:
        generate_code("a\ud800", "ann")  # a lone surrogate cannot be hashed as UTF-8
    assert info.value.field == "seed"


def test_qualify_guards() -> None:
    p = program()
    claim = claimed()
    with pytest.raises(ValidationError, match="customer_id"):
        claim.qualify(p, buy("cy", T0 + DAY, "50"), T0 + DAY)
    with pytest.raises(ValidationError, match="before the claim"):
        claim.qualify(p, buy("bob", T0, "50"), T0 + DAY)
    with pytest.raises(ValidationError, match="before the purchase"):
        claim.qualify(p, buy("bob", T0 + 2 * DAY, "50"), T0 + DAY)
    with pytest.raises(ValidationError) as info:
        claim.qualify(program(id="other"), buy("bob", T0 + DAY, "50"), T0 + DAY)
    assert info.value.field == "program"
    with pytest.raises(CurrencyMismatchError):
        usd = Purchase("o-9", "bob", T0 + DAY, Money("50", "USD"))
        claim.qualify(p, usd, T0 + DAY)


def test_codes_and_claims_round_trip_and_events_decode() -> None:
    p = program()
    step = ReferralCode.issue(p, "ann", T0, code="ANN1")
    events = list(step.events)
    claim_step = step.value.claim(p, "bob", T0)
    events += claim_step.events
    code, claim = claim_step.value
    result = claim.qualify(p, buy("bob", T0, "25"), T0)
    events += result.events
    for cls, value in (
        (ReferralProgram, p),
        (ReferralCode, attrs.evolve(code, version=3)),
        (ReferralClaim, attrs.evolve(claim, version=1)),
        (ReferralClaim, attrs.evolve(result.value.claim, version=4)),
    ):
        assert decode(cls, encode(value, cls)) == value
    for event in events:
        assert event_from_json(event.kind, event.payload()) == event
    assert [e.kind for e in events] == [
        "loyalty.referral_code_issued",
        "loyalty.referral_claimed",
        "loyalty.referral_rewarded",
    ]


# -- stateful: never rewarded twice, never self-rewarded -------------------------------------

PEOPLE = [f"p{i}" for i in range(8)]


class ReferralMachine(RuleBasedStateMachine):
    """Random issues, claims (some by existing customers) and purchases against a plain model.

    The storage is modelled by two dicts keyed by id, as the services use it:
    a claim looks its id up first and saves the code and the claim together.
    """

    def __init__(self) -> None:
        super().__init__()
        self.program = program(id="prog", usage_limit=3, valid_days=20)
        self.codes: dict[str, ReferralCode] = {}  # stored codes by id
        self.claims: dict[str, ReferralClaim] = {}  # stored claims by id
        self.now = T0
        self.buyers: dict[str, datetime] = {}  # first purchase of each person
        self.referred: dict[str, str] = {}  # referee -> code
        self.rewarded: dict[str, int] = {}  # referee -> reward events
        self.keys: set[str] = set()
        self.orders = 0

    issued = Bundle("issued")

    @rule(target=issued, person=st.sampled_from(PEOPLE), seed=st.integers(0, 2))
    def issue(self, person: str, seed: int) -> tuple[str, str]:
        outcome = ReferralCode.issue(self.program, person, self.now, seed=seed)
        code = outcome.value
        assert code.id == generate_code(seed, person) and len(outcome.events) == 1
        stored = self.codes.get(code.id)
        if stored is None:
            self.codes[code.id] = code
        else:
            assert stored.referrer == person  # seeds and referrers give distinct codes
        return code.id, person

    @rule(
        issued=issued,
        unknown=st.booleans(),
        referee=st.sampled_from(PEOPLE),
        hours=st.integers(0, 72),
    )
    def claim(self, issued: tuple[str, str], unknown: bool, referee: str, hours: int) -> None:
        self.now += timedelta(hours=hours)
        code, referrer = ("NO-SUCH-CODE", "nobody") if unknown else issued
        first = self.buyers.get(referee)
        existing = self.claims.get(claim_id(self.program.id, referee))
        assert (existing is not None) == (referee in self.referred)
        if existing is not None:
            if self.referred[referee] == code:
                assert existing.reclaim(code) is existing
            else:
                with pytest.raises(DuplicateOperationError):
                    existing.reclaim(code)
            return
        known = self.codes.get(code)
        if known is None:
            assert unknown
            return
        expired = known.expires_at is not None and self.now >= known.expires_at
        used_up = known.uses >= known.usage_limit
        own_or_existing = referee == referrer or referee in self.buyers
        if expired or used_up or own_or_existing:
            with pytest.raises(ValidationError):
                known.claim(self.program, referee, self.now, first_purchase_at=first)
            return
        outcome = known.claim(self.program, referee, self.now, first_purchase_at=first)
        used, new = outcome.value
        assert referee != referrer and len(outcome.events) == 1
        assert used.uses == known.uses + 1 and new.id == claim_id(self.program.id, referee)
        self.codes[used.id] = used
        self.claims[new.id] = new
        self.referred[referee] = code

    @rule(person=st.sampled_from(PEOPLE), amount=st.sampled_from(["5", "20", "80"]))
    def purchase(self, person: str, amount: str) -> None:
        self.orders += 1
        self.now += timedelta(hours=1)
        self.buyers.setdefault(person, self.now)
        stored = self.claims.get(claim_id(self.program.id, person))
        if stored is None:
            return
        order = buy(person, self.now, amount, f"o-{self.orders}")
        result = stored.qualify(self.program, order, self.now)
        for reward in result.value.rewards:
            assert reward.key not in self.keys
            self.keys.add(reward.key)
        if result.events:
            self.rewarded[person] = self.rewarded.get(person, 0) + 1
            assert Money(amount, "EUR") >= Money("20", "EUR")
        self.claims[stored.id] = result.value.claim

    @rule(index=st.integers(0, 7), amount=st.sampled_from(["5", "20", "80"]))
    def referee_purchase(self, index: int, amount: str) -> None:
        if self.referred:
            referees = sorted(self.referred)
            self.purchase(referees[index % len(referees)], amount)

    @invariant()
    def never_twice_never_self(self) -> None:
        assert all(n == 1 for n in self.rewarded.values())
        for key, claim in self.claims.items():
            assert key == claim.id == claim_id(self.program.id, claim.referee)
            assert claim.referrer != claim.referee
            assert all(
                r.account != claim.referrer or r.role is RewardRole.REFERRER for r in claim.rewards
            )
            assert claim.rewarded == (claim.referee in self.rewarded)
        assert {c.referee for c in self.claims.values()} == set(self.referred)

    @invariant()
    def uses_count_the_claims(self) -> None:
        for code in self.codes.values():
            assert code.uses == sum(c.code == code.id for c in self.claims.values())
            assert code.uses <= code.usage_limit


TestReferralMachine = ReferralMachine.TestCase
TestReferralMachine.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
