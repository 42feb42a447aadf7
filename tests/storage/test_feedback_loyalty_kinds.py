"""The feedback and loyalty aggregate kinds: codec round trips and the unit of work's read cache."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from crmcore.customers.records import Purchase
from crmcore.feedback.feedback import Feedback
from crmcore.feedback.improvement import ImprovementAction
from crmcore.feedback.rules import open_case_for
from crmcore.kernel import codec
from crmcore.kernel.errors import ConcurrencyConflictError, ValidationError
from crmcore.kernel.money import Money
from crmcore.loyalty.ledger import LoyaltyAccount
from crmcore.loyalty.program import LoyaltyProgram
from crmcore.loyalty.referrals import ReferralCode, ReferralProgram
from crmcore.loyalty.tier_policy import Tier, TierPolicy
from crmcore.loyalty.tiers import TierStatus, facts_from_ledger
from crmcore.storage.kinds import (
    CASES,
    FEEDBACK,
    IMPROVEMENT_ACTIONS,
    LOYALTY_ACCOUNTS,
    REFERRAL_CLAIMS,
    REFERRAL_CODES,
    TIER_STATUSES,
    AggregateKind,
    account_key,
    redact_feedback,
)
from crmcore.storage.memory import MemoryStore
from crmcore.storage.unit_of_work import BufferedUnitOfWork

T = datetime(2026, 4, 1, 12, tzinfo=UTC)
PROGRAM = LoyaltyProgram(id="P", currency="EUR", point_value=Money("0.01", "EUR"))


def _account() -> LoyaltyAccount:
    account = LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P")
    sale = Purchase("o-1", "c-1", T, Money("42.50", "EUR"))
    account = account.earn(PROGRAM, sale, key="e-1").value
    return account.redeem(PROGRAM, 12, at=T + timedelta(hours=1), key="r-1").value


def _feedback() -> Feedback:
    return Feedback(
        id="fb-1",
        customer_id="c-1",
        channel="chat",
        kind="complaint",
        text="Where is my refund?",
        scores={"csat": 1, "nps": 4},
        themes=["refunds"],
        at=T,
    )


def _samples() -> list[tuple[Any, object]]:
    feedback = _feedback()
    opened = open_case_for(feedback, customer_value=Decimal("1500"))
    assert opened is not None
    case = opened.value.acknowledge(T + timedelta(minutes=5)).value
    action = ImprovementAction.plan("act-1", "Refund in a day", ["refunds"], "ops", at=T).value
    policy = TierPolicy(name="s", currency="EUR", tiers=(Tier("base"), Tier("gold", min_points=10)))
    account = _account()
    status = TierStatus.new("A-1", policy).evaluate(facts_from_ledger(account), T, policy).value
    referrals = ReferralProgram(
        id="friends", referrer_points=10, referee_points=5, minimum_purchase=Money("1", "EUR")
    )
    issued = ReferralCode.issue(referrals, "c-1", T, code="ANN-1").value
    code, claim = issued.claim(referrals, "c-2", T).value
    return [
        (Feedback, feedback),
        (CASES.cls, case),
        (IMPROVEMENT_ACTIONS.cls, action),
        (LOYALTY_ACCOUNTS.cls, account),
        (TIER_STATUSES.cls, status),
        (REFERRAL_CODES.cls, code),
        (REFERRAL_CLAIMS.cls, claim),
    ]


@pytest.mark.parametrize("index", range(7))
def test_codec_round_trips_every_new_kind(index: int) -> None:
    cls, value = _samples()[index]
    assert codec.decode(cls, codec.encode(value, cls)) == value


def test_kinds_have_distinct_names_and_the_documented_keys() -> None:
    kinds: list[AggregateKind[Any]] = [
        CASES,
        IMPROVEMENT_ACTIONS,
        LOYALTY_ACCOUNTS,
        TIER_STATUSES,
        REFERRAL_CODES,
        REFERRAL_CLAIMS,
    ]
    names = [k.name for k in kinds] + [FEEDBACK.name]
    assert len(set(names)) == len(names)
    account = _account()
    assert LOYALTY_ACCOUNTS.keys_of(account) == {"customer": account_key("P", "c-1")}
    assert CASES.keys_of(_samples()[1][1]) == {"feedback_id": "fb-1"}  # type: ignore[arg-type]
    assert [k.name for k in kinds] == [
        "case",
        "improvement_action",
        "loyalty_account",
        "loyalty_tier_status",
        "loyalty_referral_code",
        "loyalty_referral_claim",
    ]


def test_redacting_feedback_blanks_only_the_text() -> None:
    feedback = _feedback()
    clean = redact_feedback(feedback)
    assert clean == attrs.evolve(feedback, text="")
    assert redact_feedback(clean) is clean


class _CountingStore(MemoryStore):
    """A memory store counting the backend reads of its units of work."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def unit_of_work(self) -> BufferedUnitOfWork:
        uow = super().unit_of_work()
        backend = uow._backend
        reads = self.reads

        class Counting:
            def __getattr__(self, name: str) -> Any:
                if name.startswith("fetch"):
                    reads.append(name)
                return getattr(backend, name)

        return BufferedUnitOfWork(Counting())


def test_saving_what_was_read_reads_the_backend_once() -> None:
    store = _CountingStore()
    with store.unit_of_work() as uow:
        uow.loyalty_accounts.add(LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P"))
    store.reads.clear()
    with store.unit_of_work() as uow:
        current = uow.loyalty_accounts.get("A-1")
        sale = Purchase("o-1", "c-1", T, Money("10", "EUR"))
        saved = uow.loyalty_accounts.save(current.earn(PROGRAM, sale, key="e-1").value)
        again = uow.loyalty_accounts.save(saved.redeem(PROGRAM, 1, at=T, key="r-1").value)
    assert store.reads == ["fetch"]  # no re-read for the version, none for the unique key
    assert again.version == 3


def test_a_change_committed_after_the_read_is_still_caught_at_commit() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.loyalty_accounts.add(LoyaltyAccount(id="A-1", customer_id="c-1", program_id="P"))
    sale = Purchase("o-1", "c-1", T, Money("10", "EUR"))
    with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as slow:
        read = slow.loyalty_accounts.get("A-1")
        with store.unit_of_work() as fast:
            fast.loyalty_accounts.save(
                fast.loyalty_accounts.get("A-1").earn(PROGRAM, sale, key="fast").value
            )
        slow.loyalty_accounts.save(read.earn(PROGRAM, sale, key="slow").value)
        slow.feedback.add(_feedback())
    with store.unit_of_work() as uow:
        assert [e.key for e in uow.loyalty_accounts.get("A-1").entries] == ["fast"]
        assert uow.feedback.count() == 0


@attrs.frozen
class _Costly:
    """An aggregate with its own cheap ``with_version`` (as a replaying ledger may have)."""

    id: str
    version: int = 0
    copies: tuple[int, ...] = ()

    def with_version(self, version: int) -> "_Costly":
        return attrs.evolve(self, version=version, copies=(*self.copies, version))


@attrs.frozen
class _Wrong:
    id: str
    version: int = 0

    def with_version(self, version: int) -> "_Wrong":
        return self


def test_an_aggregate_may_provide_its_own_with_version() -> None:
    kind = AggregateKind("costly", _Costly)
    store = MemoryStore()
    with store.unit_of_work() as uow:
        added = uow.repository(kind).add(_Costly("x"))
        saved = uow.repository(kind).save(added)
    assert (added.copies, saved.copies, saved.version) == ((1,), (1, 2), 2)
    wrong = AggregateKind("wrong", _Wrong)
    with pytest.raises(ValidationError), store.unit_of_work() as uow:
        uow.repository(wrong).add(_Wrong("y"))
