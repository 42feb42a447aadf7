"""The storage contract test-kit: what every [`Store`][crmcore.ports.Store] must do.

crmcore runs these tests against its in-memory and SQLite adapters; run them
against your own adapter (PostgreSQL, Django ORM, ...) by subclassing
`StoreContract` in your test suite and telling it how to make a store:

    # tests/test_my_store.py
    from crmcore.testing.contract import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self, tmp_path):
            return MyStore(dsn=..., schema=f"test_{tmp_path.name}")

        def reopen(self, store, tmp_path):      # optional: durable adapters
            return MyStore(dsn=..., schema=f"test_{tmp_path.name}")

Then ``pytest tests/test_my_store.py``. Every ``make_store`` call must return
an empty store. The kit needs ``pytest`` and ``hypothesis``.

`StoreContract` (in `suite`) combines one
mixin per group of tests, each on [`AdapterHooks`][crmcore.testing.contract.hooks.AdapterHooks]:

* [`customers`][crmcore.testing.contract.customers]: customers and their records;
* [`units_of_work`][crmcore.testing.contract.units_of_work]: units of work and the outbox;
* [`funnel_lifecycle`][crmcore.testing.contract.funnel_lifecycle]: funnel positions and lifecycles;
* [`feedback`][crmcore.testing.contract.feedback]: feedback, cases and improvement actions;
* [`loyalty`][crmcore.testing.contract.loyalty]: ledgers, tier statuses and referrals;
* [`sales`][crmcore.testing.contract.sales]: leads, opportunities, pipelines, accounts and
  relationship edges, with their lookups;
* [`marketing`][crmcore.testing.contract.marketing]: workflow versions, enrolments due by time,
  contact histories, send counts, campaigns and coupons;
* [`durability`][crmcore.testing.contract.durability]: data survives reopening the store;
* [`state_machine`][crmcore.testing.contract.state_machine]: random operations against a model
  (customers, ledgers, cases and leads).

The sample data they share is in [`samples`][crmcore.testing.contract.samples].
"""

from crmcore.testing.contract.samples import PROGRAM as PROGRAM
from crmcore.testing.contract.samples import REFERRALS as REFERRALS
from crmcore.testing.contract.samples import T0 as T0
from crmcore.testing.contract.samples import TIERS as TIERS
from crmcore.testing.contract.samples import new_customer as new_customer
from crmcore.testing.contract.suite import StoreContract

__all__ = ["StoreContract"]
