"""The whole storage contract: `StoreContract` combines every group of contract tests."""

from __future__ import annotations

from crmcore.testing.contract.customers import CustomerContract
from crmcore.testing.contract.durability import DurabilityContract
from crmcore.testing.contract.feedback import FeedbackContract
from crmcore.testing.contract.funnel_lifecycle import FunnelLifecycleContract
from crmcore.testing.contract.loyalty import LoyaltyContract
from crmcore.testing.contract.marketing import MarketingContract
from crmcore.testing.contract.sales import SalesContract
from crmcore.testing.contract.state_machine import StateMachineContract
from crmcore.testing.contract.units_of_work import UnitOfWorkContract

__all__ = ["StoreContract"]


# pytest runs inherited tests base class first (reverse MRO), so the groups are
# listed last to first: the customers' tests run first, the state machine last.
class StoreContract(
    StateMachineContract,
    DurabilityContract,
    MarketingContract,
    SalesContract,
    LoyaltyContract,
    FeedbackContract,
    FunnelLifecycleContract,
    UnitOfWorkContract,
    CustomerContract,
):
    """Subclass with [`make_store()`][crmcore.testing.contract.hooks.AdapterHooks.make_store] to run
    the storage contract against an adapter."""
