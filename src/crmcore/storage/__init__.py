"""Storage adapters: :mod:`crmcore.storage.memory` and :mod:`crmcore.storage.sqlite`."""
