"""Contract tests for customers and their records: versions, unique e-mails, paging, bulk views."""

from __future__ import annotations

import attrs
import pytest

from crmcore.columnar import CustomerFrame, TransactionLog
from crmcore.customers import Contact, Interaction, ServiceRecord
from crmcore.kernel.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    NotFoundError,
    ValidationError,
)
from crmcore.kernel.money import Money
from crmcore.ports import Store
from crmcore.testing.contract.hooks import AdapterHooks
from crmcore.testing.contract.samples import T0, _purchase, new_customer

__all__ = ["CustomerContract"]


class CustomerContract(AdapterHooks):
    """Customers are versioned, with unique ids and e-mails; records round-trip in time order."""

    # -- customers ----------------------------------------------------------------
    def test_add_returns_version_1_and_get_returns_it(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            added = uow.customers.add(new_customer(1))
        assert added.version == 1
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001") == added

    def test_get_unknown_raises_not_found_and_find_returns_none(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            with pytest.raises(NotFoundError) as info:
                uow.customers.get("nope")
            assert info.value.key == "nope"
            assert uow.customers.find("nope") is None

    def test_duplicate_id_raises_and_keeps_the_first(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            first = uow.customers.add(new_customer(1))
        other = attrs.evolve(new_customer(1, email="other@example.com"), name="Impostor")
        with pytest.raises(AlreadyExistsError), store.unit_of_work() as uow:
            uow.customers.add(other)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001") == first

    def test_duplicate_email_raises_naming_the_field(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1, email="same@example.com"))
        with pytest.raises(AlreadyExistsError) as info, store.unit_of_work() as uow:
            uow.customers.add(new_customer(2, email="SAME@example.com"))
        assert info.value.field == "email"
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 1

    def test_many_customers_without_email_are_fine(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            for n in range(3):
                uow.customers.add(new_customer(n, email=None))
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 3

    def test_add_requires_version_zero_and_save_requires_a_stored_version(
        self, store: Store
    ) -> None:
        with store.unit_of_work() as uow:
            stored = uow.customers.add(new_customer(1))
            with pytest.raises(ValidationError):
                uow.customers.add(attrs.evolve(new_customer(2), version=3))
            with pytest.raises(ValidationError):
                uow.customers.save(new_customer(3))
        assert stored.version == 1

    def test_save_bumps_the_version_each_time(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            c = uow.customers.add(new_customer(1))
        for expected in (2, 3):
            with store.unit_of_work() as uow:
                current = uow.customers.get(c.id)
                c = uow.customers.save(current.tag([f"t{expected}"], T0).value)
            assert c.version == expected
        with store.unit_of_work() as uow:
            assert uow.customers.get(c.id).tags == {"t2", "t3"}

    def test_stale_save_raises_conflict_and_keeps_the_newer_change(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            loaded = uow.customers.add(new_customer(1))
        with store.unit_of_work() as uow:
            winner = uow.customers.save(loaded.tag(["winner"], T0).value)
        with pytest.raises(ConcurrencyConflictError) as info, store.unit_of_work() as uow:
            uow.customers.save(loaded.tag(["loser"], T0).value)
        assert (info.value.expected, info.value.actual) == (1, 2)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001") == winner

    def test_conflict_detected_at_commit_leaves_nothing_written(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1))
        with pytest.raises(ConcurrencyConflictError), store.unit_of_work() as slow:
            current = slow.customers.get("C0001")
            slow.customers.save(current.tag(["slow"], T0).value)
            slow.customers.add(new_customer(2))
            slow.purchases.add(_purchase("O-slow", "C0002"))
            with store.unit_of_work() as fast:  # commits first
                fast.customers.save(fast.customers.get("C0001").tag(["fast"], T0).value)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C0001").tags == {"fast"}
            assert uow.customers.find("C0002") is None
            assert uow.purchases.find("O-slow") is None

    def test_find_by_email_normalises_and_follows_changes(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            c = uow.customers.add(new_customer(1, email="ann@example.com"))
        with store.unit_of_work() as uow:
            assert uow.customers.get_by_email(" ANN@Example.com ").id == c.id
            moved = c.change_contact(Contact(email="ann@new.example"), T0).value
            uow.customers.save(moved)
            assert uow.customers.find_by_email("ann@example.com") is None
            assert uow.customers.get_by_email("ann@new.example").id == c.id
        with store.unit_of_work() as uow:
            assert uow.customers.find_by_email("ann@example.com") is None
            uow.customers.add(new_customer(2, email="ann@example.com"))  # freed
            with pytest.raises(NotFoundError):
                uow.customers.get_by_email("nobody@example.com")

    def test_two_customers_can_swap_emails_in_one_unit_of_work(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            a = uow.customers.add(new_customer(1, email="a@example.com"))
            b = uow.customers.add(new_customer(2, email="b@example.com"))
        with store.unit_of_work() as uow:
            uow.customers.save(a.change_contact(Contact(email="tmp@example.com"), T0).value)
            uow.customers.save(b.change_contact(Contact(email="a@example.com"), T0).value)
            a2 = uow.customers.get(a.id)
            uow.customers.save(a2.change_contact(Contact(email="b@example.com"), T0).value)
        with store.unit_of_work() as uow:
            assert uow.customers.get_by_email("a@example.com").id == b.id
            assert uow.customers.get_by_email("b@example.com").id == a.id

    def test_list_pages_through_everything_in_id_order(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            for n in (5, 3, 9, 1, 7, 2, 8):
                uow.customers.add(new_customer(n))
        seen: list[str] = []
        after: str | None = None
        with store.unit_of_work() as uow:
            while True:
                page = uow.customers.list(limit=3, after=after)
                seen.extend(c.id for c in page.items)
                if page.next_after is None:
                    break
                after = page.next_after
            assert seen == sorted(seen) == [f"C{n:04d}" for n in (1, 2, 3, 5, 7, 8, 9)]
            assert uow.customers.count() == 7
            with pytest.raises(ValidationError):
                uow.customers.list(limit=0)

    def test_reads_in_a_unit_of_work_see_its_own_writes(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            added = uow.customers.add(new_customer(1, email="x@example.com"))
            assert uow.customers.get("C0001") == added
            assert uow.customers.get_by_email("x@example.com") == added
            uow.purchases.add(_purchase("O1", "C0001"))
            assert uow.purchases.get("O1").order_id == "O1"
            assert [p.order_id for p in uow.purchases.for_customer("C0001")] == ["O1"]

    # -- records ------------------------------------------------------------------
    def test_records_round_trip_in_time_order(self, store: Store) -> None:
        purchases = [_purchase("O3", "C0001", 3), _purchase("O1", "C0001", 1, "0.10")]
        interaction = Interaction("I1", "C0001", T0, "web", "website_visit", note="hi")
        service = ServiceRecord("S1", "C0001", T0, "repair", "phone", "broken screen")
        with store.unit_of_work() as uow:
            uow.customers.add(new_customer(1))
            for p in purchases:
                uow.purchases.add(p)
            uow.interactions.add(interaction)
            uow.service_records.add(service)
        with store.unit_of_work() as uow:
            assert uow.purchases.for_customer("C0001") == (purchases[1], purchases[0])
            assert uow.purchases.get("O1").amount == Money("0.10", "EUR")
            assert uow.interactions.get("I1") == interaction
            assert uow.service_records.for_customer("C0001") == (service,)
            assert uow.purchases.for_customer("nobody") == ()
            assert uow.purchases.count() == 2

    def test_duplicate_record_id_raises_and_changes_nothing(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.purchases.add(_purchase("O1", "C0001"))
        with pytest.raises(AlreadyExistsError), store.unit_of_work() as uow:
            uow.purchases.add(_purchase("O2", "C0001"))
            uow.purchases.add(_purchase("O1", "C0001", amount="99.00"))
        with store.unit_of_work() as uow:
            assert uow.purchases.count() == 1
            assert uow.purchases.get("O1").amount == Money("10.00", "EUR")

    def test_redact_removes_free_text_only(self, store: Store) -> None:
        interaction = Interaction("I1", "C0001", T0, "chat", "question", note="my address is ...")
        service = ServiceRecord("S1", "C0001", T0, "repair", "phone", "call me on ...")
        with store.unit_of_work() as uow:
            uow.interactions.add(interaction)
            uow.service_records.add(service)
        with store.unit_of_work() as uow:
            assert uow.interactions.redact("C0001") == 1
            assert uow.service_records.redact("C0001") == 1
            assert uow.purchases.redact("C0001") == 0
        with store.unit_of_work() as uow:
            assert uow.interactions.get("I1") == attrs.evolve(interaction, note=None)
            assert uow.service_records.get("S1") == attrs.evolve(service, summary="")

    # -- bulk views ---------------------------------------------------------------
    def test_to_frame_equals_a_frame_of_the_stored_customers(self, store: Store) -> None:
        customers = [new_customer(n) for n in (2, 1, 3)]
        customers[0] = customers[0].set_attribute("plan", "gold", T0).value
        customers[1] = customers[1].record_purchase(_purchase("O1", "C0001")).value
        with store.unit_of_work() as uow:
            stored = [uow.customers.add(c) for c in customers]
        with store.unit_of_work() as uow:
            frame = uow.customers.to_frame()
        assert isinstance(frame, CustomerFrame)
        assert frame == CustomerFrame.from_customers(sorted(stored, key=lambda c: c.id))

    def test_to_log_holds_every_purchase_in_time_order(self, store: Store) -> None:
        purchases = [_purchase("O2", "C0002", 2), _purchase("O1", "C0001", 5, "1.50")]
        with store.unit_of_work() as uow:
            for p in purchases:
                uow.purchases.add(p)
        with store.unit_of_work() as uow:
            log = uow.purchases.to_log()
        assert isinstance(log, TransactionLog)
        assert log == TransactionLog.from_purchases(purchases)
