"""The storage contract test-kit: what every :class:`~crmcore.ports.Store` must do.

crmcore runs these tests against its in-memory and SQLite adapters; run them
against your own adapter (PostgreSQL, Django ORM, ...) by subclassing
:class:`StoreContract` in your test suite and telling it how to make a store::

    # tests/test_my_store.py
    from crmcore.testing.contract import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self, tmp_path):
            return MyStore(dsn=..., schema=f"test_{tmp_path.name}")

        def reopen(self, store, tmp_path):      # optional: durable adapters
            return MyStore(dsn=..., schema=f"test_{tmp_path.name}")

Then ``pytest tests/test_my_store.py``. Every ``make_store`` call must return
an empty store. The kit needs ``pytest`` and ``hypothesis``.

:class:`StoreContract` (in :mod:`~crmcore.testing.contract.suite`) combines one
mixin per group of tests, each on :class:`~crmcore.testing.contract.hooks.AdapterHooks`:

* :mod:`~crmcore.testing.contract.customers`: customers and their records;
* :mod:`~crmcore.testing.contract.units_of_work`: units of work and the outbox;
* :mod:`~crmcore.testing.contract.funnel_lifecycle`: funnel positions and lifecycles;
* :mod:`~crmcore.testing.contract.feedback`: feedback, cases and improvement actions;
* :mod:`~crmcore.testing.contract.loyalty`: ledgers, tier statuses and referrals;
* :mod:`~crmcore.testing.contract.durability`: data survives reopening the store;
* :mod:`~crmcore.testing.contract.state_machine`: random operations against a model.

The sample data they share is in :mod:`~crmcore.testing.contract.samples`.
"""

from crmcore.testing.contract.samples import PROGRAM as PROGRAM
from crmcore.testing.contract.samples import REFERRALS as REFERRALS
from crmcore.testing.contract.samples import T0 as T0
from crmcore.testing.contract.samples import TIERS as TIERS
from crmcore.testing.contract.samples import new_customer as new_customer
from crmcore.testing.contract.suite import StoreContract

__all__ = ["StoreContract"]
