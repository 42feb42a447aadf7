"""Contract tests for marketing: workflow versions, enrolments, contact histories and coupons."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest

from crmcore.customers.records import MarketingChannel
from crmcore.kernel.errors import AlreadyExistsError, ConcurrencyConflictError, NotFoundError
from crmcore.kernel.money import Money
from crmcore.marketing.campaigns import Campaign, CampaignBudget
from crmcore.marketing.coupon_redemption import issue_coupon, redeem_coupon
from crmcore.marketing.coupon_wallet import CouponPool, CouponWallet, wallet_id
from crmcore.marketing.coupons import Checkout
from crmcore.marketing.enrolment_machine import StepOutcome
from crmcore.marketing.enrolments import Enrolment
from crmcore.marketing.guardrails import ContactHistory, SendCounts, SendLimit
from crmcore.marketing.steps import END
from crmcore.marketing.workflows import WorkflowCatalog
from crmcore.ports import Store
from crmcore.testing.contract.hooks import AdapterHooks
from crmcore.testing.contract.samples import COUPONS, T0, _BoomError, _waiting, _workflow

__all__ = ["MarketingContract"]

H = timedelta(hours=1)


def _ids(items: Iterable[object]) -> list[str]:
    return [str(getattr(item, "id")) for item in items]  # noqa: B009 - any aggregate


class MarketingContract(AdapterHooks):
    """Workflow versions are stored once; enrolments are found due by wake time; contact
    histories, send counts, campaigns and coupons are versioned; a failure writes nothing."""

    # -- workflows --------------------------------------------------------------------------------
    def test_workflow_versions_are_stored_once_in_their_json_form(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            first = uow.workflows.add(_workflow(1))
            uow.workflows.add(_workflow(2, pause=2 * H))
            assert uow.workflows.latest("welcome").version == 2
        assert first == _workflow(1)
        with store.unit_of_work() as uow:
            with pytest.raises(AlreadyExistsError):  # a version is never rewritten
                uow.workflows.add(_workflow(1, pause=3 * H))
            assert uow.workflows.get("welcome", 1) == _workflow(1)
            assert uow.workflows.get("welcome", 2) == _workflow(2, pause=2 * H)
            assert uow.workflows.find("welcome", 3) is None
            with pytest.raises(NotFoundError):
                uow.workflows.get("welcome", 3)
            with pytest.raises(NotFoundError):
                uow.workflows.latest("nope")
            assert [w.version for w in uow.workflows.versions("welcome")] == [1, 2]
            assert uow.workflows.versions("nope") == ()
            catalog = uow.workflows.all()
            assert catalog == WorkflowCatalog([_workflow(1), _workflow(2, pause=2 * H)])
            uow.workflows.add(_workflow(3))
            assert uow.workflows.all().latest("welcome").version == 3
        with store.unit_of_work() as uow:
            assert uow.workflows.latest("welcome") == _workflow(3)

    # -- enrolments -------------------------------------------------------------------------------
    def test_enrolments_are_found_due_by_their_wake_time(self, store: Store) -> None:
        flow = _workflow(1)
        with store.unit_of_work() as uow:
            uow.workflows.add(flow)
            uow.enrolments.add(_waiting("C0001", 2 * H))
            uow.enrolments.add(_waiting("C0002", H))
            uow.enrolments.add(Enrolment.start(flow, "C0003", T0).value)  # active, due at T0
            ended = Enrolment.start(flow, "C0004", T0).value.exit(T0, "unenrolled").value
            uow.enrolments.add(ended)
            assert _ids(uow.enrolments.due(T0 + H)) == ["welcome:1:C0003", "welcome:1:C0002"]
        with store.unit_of_work() as uow:
            assert _ids(uow.enrolments.due(T0 + 3 * H)) == [
                "welcome:1:C0003", "welcome:1:C0002", "welcome:1:C0001",
            ]  # fmt: skip
            assert uow.enrolments.due(T0 - timedelta(microseconds=1)) == ()
            assert _ids(uow.enrolments.for_customers(["C0004", "C0002"])) == [
                "welcome:1:C0002", "welcome:1:C0004",
            ]  # fmt: skip
            assert uow.enrolments.for_customers([]) == ()
            assert len(uow.enrolments.of_workflow("welcome")) == 4
            assert uow.enrolments.of_workflow("nope") == ()
            # the second customer's wait ends: it runs its next step at T0 + 1h, then is done
            waiting = uow.enrolments.get("welcome:1:C0002")
            resumed = uow.enrolments.save(waiting.resume(T0 + H, "hello").value)
            assert resumed.wake_at == T0 + H
            done = uow.enrolments.save(uow.take(resumed.ran(T0 + H, StepOutcome.SENT, END)))
            assert done.is_final
            assert _ids(uow.enrolments.due(T0 + 3 * H)) == ["welcome:1:C0003", "welcome:1:C0001"]
        with store.unit_of_work() as uow:
            assert _ids(uow.enrolments.due(T0 + 3 * H)) == ["welcome:1:C0003", "welcome:1:C0001"]
            stale = waiting
            with pytest.raises(ConcurrencyConflictError):
                uow.enrolments.save(stale.exit(T0 + H, "unenrolled").value)
        assert [m.kind for m in store.outbox.pending()] == ["marketing.workflow.completed"]

    # -- contact histories and send counts --------------------------------------------------------
    def test_contact_histories_and_send_counts_are_versioned(self, store: Store) -> None:
        daily = SendLimit(100, timedelta(days=1))
        with store.unit_of_work() as uow:
            assert uow.send_counts.get() == SendCounts()
            assert uow.send_counts.last_run() is None
            history = ContactHistory(id="C0001").record(
                MarketingChannel.EMAIL, T0, "welcome:1:C0001/hello"
            )
            uow.contact_histories.add(history)
            uow.contact_histories.add(ContactHistory(id="C0002"))
            uow.send_counts.save(SendCounts().add(daily, T0), T0)
        with store.unit_of_work() as uow:
            found = uow.contact_histories.for_customers(["C0002", "C0001", "C0009"])
            assert _ids(found) == ["C0001", "C0002"]
            assert found[0].has("welcome:1:C0001/hello")
            assert found[0].version == 1
            assert uow.send_counts.get().count(daily, T0) == 1
            assert uow.send_counts.last_run() == T0
            mine = uow.send_counts.get()
            with store.unit_of_work() as other:  # another run stores its counts first
                other.send_counts.save(other.send_counts.get().add(daily, T0 + H), T0 + H)
            with pytest.raises(ConcurrencyConflictError):
                uow.contact_histories.save(found[1].record(MarketingChannel.SMS, T0 + H, "k-2"))
                uow.send_counts.save(mine.add(daily, T0 + H), T0 + H)
                uow.commit()
        with store.unit_of_work() as uow:
            assert uow.send_counts.get().count(daily, T0) == 2
            assert uow.send_counts.last_run() == T0 + H
            assert uow.contact_histories.get("C0002").sends == ()

    # -- campaigns and coupons --------------------------------------------------------------------
    def test_campaigns_and_coupon_definitions_are_versioned(self, store: Store) -> None:
        draft = Campaign.draft(
            "spring-26", "Spring", channels=["email"], starts_at=T0, at=T0,
            segment="total_spent >= 100", budget=CampaignBudget(messages=10),
        )  # fmt: skip
        with store.unit_of_work() as uow:
            campaign = uow.campaigns.add(uow.take(draft))
            definition = uow.coupon_definitions.add(COUPONS)
            uow.coupon_pools.add(CouponPool.new(COUPONS))
        with store.unit_of_work() as uow:
            assert uow.campaigns.get("spring-26") == campaign
            assert uow.coupon_definitions.get("spring") == definition
            running = campaign.schedule(T0).value.start(T0).value
            uow.campaigns.save(running.record_usage(T0, messages=4).value)
            assert _ids(uow.campaigns.find_many(["spring-26", "nope"])) == ["spring-26"]
        with store.unit_of_work() as uow:
            stored = uow.campaigns.get("spring-26")
            assert (stored.usage.messages, stored.allowance(10), stored.version) == (4, 6, 2)
            with pytest.raises(ConcurrencyConflictError):
                uow.campaigns.save(campaign.schedule(T0).value)
        assert [m.kind for m in store.outbox.pending()] == ["marketing.campaign_created"]

    def test_coupons_are_unique_by_code_and_redeem_within_their_pool(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.coupon_definitions.add(COUPONS)
            pool = uow.coupon_pools.add(CouponPool.new(COUPONS))
            for code, holder in (("SPRING-1", "C0001"), ("SPRING-2", None), ("SPRING-3", None)):
                issued = uow.take(issue_coupon(COUPONS, pool, code, at=T0, key=code, holder=holder))
                pool = uow.coupon_pools.save(issued.pool)
                uow.coupons.add(issued.coupon)
        with store.unit_of_work() as uow:
            again = issue_coupon(COUPONS, pool, "SPRING-1", at=T0, key="other").value
            with pytest.raises(AlreadyExistsError):  # a code is stored once
                uow.coupons.add(again.coupon)
            assert _ids(uow.coupons.of_definition("spring")) == ["SPRING-1", "SPRING-2", "SPRING-3"]
            assert _ids(uow.coupons.held_by("C0001")) == ["SPRING-1"]
            assert uow.coupon_wallets.find_for("spring", "C0001") is None
            assert uow.coupon_pools.get("spring").issued == 3
        # two checkouts read the same pool; the first to commit wins, the second writes nothing
        with store.unit_of_work() as uow:
            pool = uow.coupon_pools.get("spring")
            first, second = uow.coupons.get("SPRING-1"), uow.coupons.get("SPRING-2")
        order = Checkout("O-1", "C0001", Money("40", "EUR"))
        with store.unit_of_work() as uow:
            done = uow.take(
                redeem_coupon(
                    COUPONS,
                    pool,
                    first,
                    CouponWallet.new(COUPONS, "C0001"),
                    order,
                    at=T0,
                    key="O-1",
                )
            )
            uow.coupon_pools.save(done.pool)
            uow.coupons.save(done.coupon)
            uow.coupon_wallets.add(done.wallet)
        late = Checkout("O-2", "C0002", Money("40", "EUR"))
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
            done = uow.take(
                redeem_coupon(
                    COUPONS,
                    pool,
                    second,
                    CouponWallet.new(COUPONS, "C0002"),
                    late,
                    at=T0,
                    key="O-2",
                )
            )
            uow.coupons.save(done.coupon)
            uow.coupon_wallets.add(done.wallet)
            uow.coupon_pools.save(done.pool)
        with store.unit_of_work() as uow:
            wallet = uow.coupon_wallets.find_for("spring", "C0001")
            assert wallet is not None
            assert wallet.id == wallet_id("spring", "C0001")
            assert wallet.uses == 1
            assert _ids(uow.coupon_wallets.for_customer("C0001")) == [wallet.id]
            assert uow.coupon_wallets.find_for("spring", "C0002") is None
            assert uow.coupons.get("SPRING-2").uses == 0
            stored = uow.coupon_pools.get("spring")
            assert (stored.redemptions, stored.discount_total) == (1, Money("5", "EUR"))
        kinds = [m.kind for m in store.outbox.pending()]
        assert kinds.count("marketing.coupon_issued") == 3
        assert kinds.count("marketing.coupon_redeemed") == 1

    # -- all or nothing ---------------------------------------------------------------------------
    def test_a_failing_unit_of_work_stores_no_marketing_data(self, store: Store) -> None:
        with pytest.raises(_BoomError), store.unit_of_work() as uow:
            uow.workflows.add(_workflow(1))
            uow.enrolments.add(_waiting("C0001", H))
            uow.contact_histories.add(ContactHistory(id="C0001"))
            uow.send_counts.save(SendCounts(), T0)
            uow.coupon_definitions.add(COUPONS)
            uow.coupon_pools.add(CouponPool.new(COUPONS))
            raise _BoomError
        with store.unit_of_work() as uow:
            assert len(uow.workflows.all()) == 0
            assert uow.enrolments.due(T0 + H) == ()
            assert uow.enrolments.count() == 0
            assert uow.contact_histories.count() == 0
            assert uow.send_counts.last_run() is None
            assert uow.coupon_definitions.count() == uow.coupon_pools.count() == 0
        assert store.outbox.pending() == []
