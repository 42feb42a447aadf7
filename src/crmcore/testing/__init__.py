"""Test support: hypothesis strategies, data factories and the storage contract kit.

Import the submodules directly (they need the ``dev`` extra: pytest, hypothesis):
:mod:`crmcore.testing.strategies`, :mod:`crmcore.testing.factories`,
:mod:`crmcore.testing.contract` (the storage contract kit) and
:mod:`crmcore.testing.rule_strategies` (random well-typed segment rules with
matching data, and loaders that put that data into SQLite or DuckDB, to check
your own rule back end against :func:`crmcore.segments.matches`).
"""
