"""Contract tests for loyalty: point ledgers, tier statuses, referral codes and claims."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    NotFoundError,
    ValidationError,
)
from crmcore.loyalty import ReferralCode, TierStatus, claim_id, facts_from_ledger
from crmcore.ports import Store
from crmcore.testing.contract.hooks import AdapterHooks
from crmcore.testing.contract.samples import (
    PROGRAM,
    REFERRALS,
    T0,
    TIERS,
    _account,
    _earned,
    _purchase,
)

__all__ = ["LoyaltyContract"]


class LoyaltyContract(AdapterHooks):
    """Loyalty ledgers, tier statuses and referrals are versioned; a stale save writes nothing."""

    # -- loyalty ------------------------------------------------------------------------
    def test_loyalty_accounts_store_their_ledger(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            opened = uow.loyalty_accounts.add(_account(1))
            assert uow.loyalty_accounts.find_for_customer("P", "C0001") == opened
        assert opened.version == 1
        with store.unit_of_work() as uow:
            account = _earned(uow.loyalty_accounts.get("P-A1"), "O1", "120.50")
            outcome = account.redeem(PROGRAM, 20, at=T0 + timedelta(days=1), key="r-1")
            saved = uow.loyalty_accounts.save(uow.take(outcome))
        with store.unit_of_work() as uow:
            again = uow.loyalty_accounts.get("P-A1")
        assert again == saved
        assert again.version == 2
        assert again.entries == saved.entries
        assert len(again.entries) == 2
        assert again.lots == saved.lots
        assert again.balance(T0 + timedelta(days=1)) == 100
        assert again.entry("r-1").points == saved.entry("r-1").points
        with store.unit_of_work() as uow:
            assert uow.loyalty_accounts.get_for_customer("P", "C0001") == again
            assert uow.loyalty_accounts.find_for_customer("Q", "C0001") is None
            with pytest.raises(NotFoundError):
                uow.loyalty_accounts.get_for_customer("Q", "C0001")
            with pytest.raises(AlreadyExistsError) as info:  # one account per program and customer
                uow.loyalty_accounts.add(attrs.evolve(_account(1), id="P-other"))
            assert info.value.field == "customer"
            uow.loyalty_accounts.add(_account(1, program_id="Q"))  # another program is fine
        with store.unit_of_work() as uow:
            assert uow.loyalty_accounts.count() == 2
            assert uow.loyalty_accounts.get_for_customer("Q", "C0001").id == "Q-A1"
        assert [m.kind for m in store.outbox.pending()] == ["loyalty.points_redeemed"]

    def test_a_stale_ledger_save_writes_nothing_of_its_unit_of_work(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            loaded = uow.loyalty_accounts.add(_earned(_account(1), "O1", "80.00"))
            uow.tier_statuses.add(TierStatus.new("P-A1", TIERS))
        with store.unit_of_work() as uow:  # a concurrent redemption commits first
            current = uow.loyalty_accounts.get("P-A1")
            winner = uow.loyalty_accounts.save(
                current.redeem(PROGRAM, 30, at=T0 + timedelta(days=1), key="r-fast").value
            )
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
            status = uow.tier_statuses.get("P-A1")
            facts = facts_from_ledger(loaded)
            uow.tier_statuses.save(status.evaluate(facts, T0 + timedelta(days=1), TIERS).value)
            uow.loyalty_accounts.add(_account(2))
            slow = loaded.redeem(PROGRAM, 70, at=T0 + timedelta(days=1), key="r-slow")
            uow.loyalty_accounts.save(uow.take(slow))
        with store.unit_of_work() as uow:
            assert uow.loyalty_accounts.get("P-A1") == winner
            assert uow.loyalty_accounts.find("P-A2") is None
            assert uow.tier_statuses.get("P-A1").version == 1
        assert "loyalty.points_redeemed" not in {
            m.kind for m in store.outbox.pending() if m.payload.get("entry_key") == "r-slow"
        }

    def test_tier_statuses_and_referrals_round_trip(self, store: Store) -> None:
        account = _earned(_account(1), "O1", "60.00")
        status = TierStatus.new("P-A1", TIERS)
        evaluated = status.evaluate(facts_from_ledger(account), T0 + timedelta(days=1), TIERS)
        issued = ReferralCode.issue(REFERRALS, "C0001", T0, code="ann-2024")
        with store.unit_of_work() as uow:
            stored_status = uow.tier_statuses.add(uow.take(evaluated))
            stored_code = uow.referral_codes.add(uow.take(issued))
        assert stored_status.tier == "gold"
        assert (stored_code.id, stored_code.version) == ("ANN-2024", 1)
        claimed = stored_code.claim(REFERRALS, "C0002", T0 + timedelta(hours=1))
        with store.unit_of_work() as uow:
            used, claim = uow.take(claimed)
            saved_code = uow.referral_codes.save(used)
            stored_claim = uow.referral_claims.add(claim)
        assert (saved_code.uses, saved_code.version, stored_claim.version) == (1, 2, 1)
        with store.unit_of_work() as uow:
            assert uow.tier_statuses.get("P-A1") == stored_status
            assert uow.referral_codes.get("ANN-2024") == saved_code
            assert uow.referral_claims.get(claim_id("friends", "C0002")) == stored_claim
            qualified = stored_claim.qualify(
                REFERRALS, _purchase("O2", "C0002", 1, "25.00"), T0 + timedelta(days=1)
            )
            saved = uow.referral_claims.save(uow.take(qualified).claim)
        with store.unit_of_work() as uow:
            assert uow.referral_claims.get(stored_claim.id) == saved
            assert (saved.version, saved.rewarded, len(saved.rewards)) == (2, True, 2)
            with pytest.raises(ConcurrencyConflictError):
                uow.referral_claims.save(stored_claim)
        kinds = [m.kind for m in store.outbox.pending()]
        assert kinds[0] == "loyalty.tier_upgraded"
        assert kinds[-3:] == [
            "loyalty.referral_code_issued",
            "loyalty.referral_claimed",
            "loyalty.referral_rewarded",
        ]

    def test_a_stale_referral_code_save_conflicts_and_writes_no_claim(self, store: Store) -> None:
        program = attrs.evolve(REFERRALS, usage_limit=1)
        with store.unit_of_work() as uow:
            issued = ReferralCode.issue(program, "C0001", T0, code="ANN-2024")
            code = uow.referral_codes.add(uow.take(issued))
        # two referees read the code at uses == 0; the first to commit wins the last use
        first = code.claim(program, "C0002", T0)
        second = code.claim(program, "C0003", T0)
        with store.unit_of_work() as uow:
            used, claim = uow.take(first)
            uow.referral_codes.save(used)
            uow.referral_claims.add(claim)
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
            used, late = uow.take(second)
            uow.referral_claims.add(late)
            uow.referral_codes.save(used)
        with store.unit_of_work() as uow:
            stored = uow.referral_codes.get("ANN-2024")
            assert (stored.uses, stored.version) == (1, 2)
            assert uow.referral_claims.find(claim_id("friends", "C0003")) is None
            assert uow.referral_claims.count() == 1
        with pytest.raises(ValidationError, match="usage limit"):
            stored.claim(program, "C0003", T0)  # the reloaded code refuses the late referee
        with pytest.raises(AlreadyExistsError), store.unit_of_work() as uow:
            uow.referral_claims.add(claim)  # a second claim of a referee collides on its id
        kinds = [m.kind for m in store.outbox.pending()]
        assert kinds.count("loyalty.referral_claimed") == 1
