"""Contract tests for durable adapters: committed data survives reopening the store.

They skip when [`reopen()`][crmcore.testing.contract.hooks.AdapterHooks.reopen] returns ``None``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcore.feedback import open_case_for
from crmcore.ports import Store
from crmcore.testing.contract.hooks import AdapterHooks
from crmcore.testing.contract.samples import _account, _earned, _feedback, _registered, new_customer

__all__ = ["DurabilityContract"]


class DurabilityContract(AdapterHooks):
    """What a unit of work committed is still there after
    [`reopen()`][crmcore.testing.contract.hooks.AdapterHooks.reopen] (skipped if ``None``)."""

    def test_feedback_and_loyalty_survive_reopening(self, store: Store, tmp_path: Path) -> None:
        feedback = _feedback(1, text="cancel my order", scores={"nps": 0}, themes=["orders"])
        opened = open_case_for(feedback)
        assert opened is not None
        account = _earned(_account(1), "O1", "33.33")
        with store.unit_of_work() as uow:
            uow.feedback.add(feedback)
            case = uow.cases.add(opened.value)
            stored = uow.loyalty_accounts.add(account)
        again = self.reopen(store, tmp_path)
        if again is None:
            pytest.skip("adapter is not durable")
        try:
            with again.unit_of_work() as uow:
                assert uow.feedback.get("F1") == feedback
                assert uow.cases.find_by_feedback("F1") == case
                assert uow.loyalty_accounts.get_for_customer("P", "C0001") == stored
        finally:
            again.close()

    def test_committed_data_survives_reopening(self, store: Store, tmp_path: Path) -> None:
        with store.unit_of_work() as uow:
            added = uow.customers.add(new_customer(1))
            uow.collect(*_registered(1)[1])
        again = self.reopen(store, tmp_path)
        if again is None:
            pytest.skip("adapter is not durable")
        try:
            with again.unit_of_work() as uow:
                assert uow.customers.get("C0001") == added
            assert len(again.outbox.pending()) == 1
        finally:
            again.close()
