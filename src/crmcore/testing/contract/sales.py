"""Contract tests for sales: leads, opportunities, pipelines, accounts and relationship edges."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import attrs
import pytest

from crmcore.customers import Contact
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    NotFoundError,
    ValidationError,
)
from crmcore.ports import Store
from crmcore.sales.accounts import Account
from crmcore.sales.lead_machine import LeadStatus
from crmcore.sales.relationships import Relationship
from crmcore.testing.contract.hooks import AdapterHooks
from crmcore.testing.contract.samples import PIPELINE, T0, _BoomError, _lead, _opportunity

__all__ = ["SalesContract"]

H = timedelta(hours=1)
PHONE = "+442079460958"


def _ids(items: Iterable[object]) -> list[str]:
    return [str(getattr(item, "id")) for item in items]  # noqa: B009 - any aggregate


class SalesContract(AdapterHooks):
    """Leads and opportunities are versioned and found by indexes; pipelines, accounts and
    relationship edges round-trip; a stale save or a failure writes nothing."""

    # -- leads ------------------------------------------------------------------------------------
    def test_leads_are_found_by_email_phone_customer_and_owner(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            ann = uow.leads.add(_lead(1, phone=PHONE))
            uow.leads.add(_lead(2, email="LEAD1@example.com", owner="rep-2"))
            uow.leads.add(_lead(3, email=None, phone=PHONE, customer="C0003"))
            uow.leads.add(_lead(4, email="other@example.com", owner=None))
            # lookups see the unit of work's own writes
            assert _ids(uow.leads.with_email("lead1@EXAMPLE.com")) == ["L0001", "L0002"]
        assert ann.version == 1
        with store.unit_of_work() as uow:
            assert _ids(uow.leads.with_email("Lead1@example.com")) == ["L0001", "L0002"]
            assert _ids(uow.leads.with_phone("+44 20 7946 0958")) == ["L0001", "L0003"]
            assert uow.leads.with_email("nobody@example.com") == ()
            assert _ids(uow.leads.matching(ann)) == ["L0002", "L0003"]  # never itself
            assert _ids(uow.leads.matching(Contact(email="other@example.com"))) == ["L0004"]
            assert _ids(uow.leads.for_customer("C0003")) == ["L0003"]
            assert _ids(uow.leads.open_for_owner("rep-1")) == ["L0001", "L0003"]
            assert uow.leads.open_for_owner("rep-1", "qualified") == ()
            with pytest.raises(ValidationError):
                uow.leads.open_for_owner("rep-1", "converted")  # not an open status
            # a change moves the lead in its indexes at once
            moved = uow.leads.get("L0001").update_details(
                T0 + H, contact=Contact(email="new@example.com")
            )
            uow.leads.save(uow.take(moved))
            qualified = uow.leads.save(uow.take(uow.leads.get("L0003").qualify(T0 + H)))
            assert _ids(uow.leads.with_email("lead1@example.com")) == ["L0002"]
            assert _ids(uow.leads.with_email("new@example.com")) == ["L0001"]
            assert _ids(uow.leads.with_phone(PHONE)) == ["L0003"]
            assert uow.leads.open_for_owner("rep-1", "qualified") == (qualified,)
        with store.unit_of_work() as uow:
            assert _ids(uow.leads.with_email("lead1@example.com")) == ["L0002"]
            assert _ids(uow.leads.with_phone(PHONE)) == ["L0003"]
            assert _ids(uow.leads.open_for_owner("rep-1", LeadStatus.QUALIFIED)) == ["L0003"]
            gone = uow.leads.get("L0002").disqualify(T0 + H, "no_budget")
            uow.leads.save(uow.take(gone))
        with store.unit_of_work() as uow:
            assert uow.leads.open_for_owner("rep-2") == ()
            assert uow.leads.get("L0002").status is LeadStatus.DISQUALIFIED
            assert uow.leads.count() == 4

    def test_leads_page_in_id_order(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            for n in (5, 3, 1, 4, 2):
                uow.leads.add(_lead(n))
        with store.unit_of_work() as uow:
            first = uow.leads.list(limit=2)
            second = uow.leads.list(limit=2, after=first.next_after)
            third = uow.leads.list(limit=2, after=second.next_after)
        assert _ids(first.items + second.items + third.items) == [f"L000{n}" for n in range(1, 6)]
        assert third.next_after is None

    def test_a_stale_lead_save_writes_nothing_of_its_unit_of_work(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            loaded = uow.leads.add(_lead(1))
        with store.unit_of_work() as uow:  # another rep starts working it first
            uow.leads.save(uow.take(uow.leads.get("L0001").work(T0 + H)))
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
            uow.opportunities.add(_opportunity(1))
            uow.accounts.add(uow.take(Account.open("ACME", "Acme", T0)))
            uow.leads.save(uow.take(loaded.nurture(T0 + H)))
        # read first, changed by someone else before commit: caught at commit
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as uow:
            current = uow.leads.get("L0001")
            with store.unit_of_work() as other:
                other.leads.save(other.take(other.leads.get("L0001").nurture(T0 + 2 * H)))
            uow.opportunities.add(_opportunity(2))
            uow.leads.save(uow.take(current.qualify(T0 + 3 * H)))
        with store.unit_of_work() as uow:
            stored = uow.leads.get("L0001")
            assert (stored.status, stored.version) == (LeadStatus.NURTURING, 3)
            assert uow.opportunities.count() == 0
            assert uow.accounts.count() == 0
        kinds = [m.kind for m in store.outbox.pending()]
        assert "account.opened" not in kinds
        assert "opportunity.opened" not in kinds
        assert kinds.count("lead.status_changed") == 2

    # -- opportunities ----------------------------------------------------------------------------
    def test_one_opportunity_per_lead_and_its_lookups(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            lead = uow.leads.add(uow.take(_lead(1).qualify(T0)))
            done = lead.mark_converted(T0 + H, customer_id="C0001", opportunity_id="OP0001")
            uow.leads.save(uow.take(done))
            uow.opportunities.add(_opportunity(1, lead="L0001", customer="C0001", account="ACME"))
            uow.opportunities.add(_opportunity(2, account="ACME", owner="rep-2", amount="500"))
        with store.unit_of_work() as uow:
            found = uow.leads.find_by_opportunity("OP0001")
            assert found is not None
            assert found.id == "L0001"
            opportunity = uow.opportunities.find_by_lead("L0001")
            assert opportunity is not None
            assert opportunity.id == "OP0001"
            assert uow.opportunities.find_by_lead("L0009") is None
            with pytest.raises(AlreadyExistsError) as info:  # a lead converts into one deal
                uow.opportunities.add(_opportunity(3, lead="L0001"))
            assert info.value.field == "lead_id"
            assert _ids(uow.opportunities.for_account("ACME")) == ["OP0001", "OP0002"]
            assert _ids(uow.opportunities.for_customer("C0001")) == ["OP0001"]
            assert _ids(uow.opportunities.for_owner("rep-2")) == ["OP0002"]
            assert _ids(uow.opportunities.in_pipeline("sales")) == ["OP0001", "OP0002"]
            assert uow.opportunities.in_pipeline("sales", "won") == ()
            won = uow.opportunities.get("OP0002").win(T0 + 24 * H, PIPELINE, reason="price")
            uow.opportunities.save(uow.take(won))
            assert _ids(uow.opportunities.in_pipeline("sales", "won")) == ["OP0002"]
            assert _ids(uow.opportunities.in_pipeline("sales", "open")) == ["OP0001"]
        with store.unit_of_work() as uow:
            frame = uow.opportunities.to_frame(PIPELINE)
            assert len(frame) == 2
            assert _ids(uow.opportunities.in_pipeline("sales", "won")) == ["OP0002"]
            assert uow.opportunities.in_pipeline("other") == ()
            stored = uow.opportunities.get("OP0002")
            assert stored.status.value == "won"
            assert stored.version == 2
            assert stored.stage_history == won.value.stage_history
        kinds = [m.kind for m in store.outbox.pending()]
        assert kinds == ["lead.status_changed", "lead.status_changed", "lead.converted",
                         "opportunity.won"]  # fmt: skip

    # -- pipelines and accounts -------------------------------------------------------------------
    def test_pipelines_and_accounts_round_trip(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            assert uow.pipelines.add(PIPELINE) == PIPELINE
            with pytest.raises(AlreadyExistsError):
                uow.pipelines.add(PIPELINE)
            uow.accounts.add(uow.take(Account.open("GROUP", "Group", T0)))
            acme = Account.open("ACME", "Acme", T0, owner="rep-1").value
            acme = acme.set_parent("GROUP", T0, parents={"GROUP": None}).value
            acme = acme.add_contact("C0001", "decision_maker", T0).value
            uow.accounts.add(acme.add_contact("C0002", "billing", T0).value)
        with store.unit_of_work() as uow:
            assert uow.pipelines.get("sales") == PIPELINE
            assert uow.pipelines.all() == (PIPELINE,)
            assert uow.pipelines.find("nope") is None
            with pytest.raises(NotFoundError):
                uow.pipelines.get("nope")
            with pytest.raises(NotFoundError):
                uow.pipelines.save(attrs.evolve(PIPELINE, id="nope"))
            assert _ids(uow.accounts.children_of("GROUP")) == ["ACME"]
            assert _ids(uow.accounts.with_contact("C0002")) == ["ACME"]
            assert uow.accounts.with_contact("C0003") == ()
            stored = uow.accounts.get("ACME")
            assert stored.customer_ids == ("C0001", "C0002")
            assert stored.parent_id == "GROUP"
            uow.accounts.save(uow.take(stored.remove_contact("C0002", T0 + H)))
            renamed = attrs.evolve(PIPELINE, name="Renamed")
            assert uow.pipelines.save(renamed) == renamed
            assert uow.pipelines.all() == (renamed,)
        with store.unit_of_work() as uow:
            assert uow.accounts.with_contact("C0002") == ()
            assert uow.pipelines.get("sales").name == "Renamed"
            seen = uow.pipelines.get("sales")
            with store.unit_of_work() as other:  # a concurrent edit commits first
                other.pipelines.save(attrs.evolve(seen, name="Theirs"))
            with pytest.raises(ConcurrencyConflictError):
                uow.pipelines.save(attrs.evolve(seen, name="Mine"))
                uow.commit()
        with store.unit_of_work() as uow:
            assert uow.pipelines.get("sales").name == "Theirs"

    # -- relationship edges -----------------------------------------------------------------------
    def test_relationship_edges_are_stored_once_and_can_end(self, store: Store) -> None:
        referral = Relationship.referred("C0001", "C0002", T0)
        colleague = Relationship.between("colleague", "C0003", "C0001", T0 + H)
        partner = Relationship.partner("AGENCY", "ACME", T0 + 2 * H)
        with store.unit_of_work() as uow:
            for edge in (referral, colleague, partner):
                uow.relationships.add(edge)
            assert uow.relationships.referrer_of("C0002") == referral
        with store.unit_of_work() as uow:
            with pytest.raises(AlreadyExistsError):  # a customer is referred once at most
                uow.relationships.add(Relationship.referred("C0003", "C0002", T0 + 3 * H))
            with pytest.raises(AlreadyExistsError):
                uow.relationships.add(colleague)
            assert uow.relationships.referrer_of("C0001") is None
            assert uow.relationships.from_node("customer", "C0001") == (referral, colleague)
            assert uow.relationships.from_node("account", "AGENCY") == (partner,)
            assert uow.relationships.all() == (referral, colleague, partner)
            assert uow.relationships.count() == 3
            ended = uow.relationships.end(colleague, T0 + 24 * H)
            assert ended.until == T0 + 24 * H
            with pytest.raises(NotFoundError):
                uow.relationships.end(Relationship.between("colleague", "C8", "C9", T0), T0 + H)
        with store.unit_of_work() as uow:
            assert uow.relationships.from_node("customer", "C0001") == (referral, ended)
            assert uow.relationships.count() == 3

    # -- all or nothing ---------------------------------------------------------------------------
    def test_a_failing_unit_of_work_stores_no_sales_data(self, store: Store) -> None:
        with pytest.raises(_BoomError), store.unit_of_work() as uow:
            uow.pipelines.add(PIPELINE)
            uow.leads.add(_lead(1))
            uow.opportunities.add(_opportunity(1))
            uow.accounts.add(uow.take(Account.open("ACME", "Acme", T0)))
            uow.relationships.add(Relationship.referred("C0001", "C0002", T0))
            raise _BoomError
        with store.unit_of_work() as uow:
            assert uow.pipelines.all() == ()
            assert uow.leads.count() == uow.opportunities.count() == uow.accounts.count() == 0
            assert uow.relationships.count() == 0
            assert uow.relationships.all() == ()
            assert uow.leads.with_email("lead1@example.com") == ()
        assert store.outbox.pending() == []
