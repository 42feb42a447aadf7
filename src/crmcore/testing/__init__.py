"""Test support: hypothesis strategies, data factories and the storage contract kit.

Import the submodules directly (they need the ``dev`` extra: pytest, hypothesis):
[`crmcore.testing.strategies`][crmcore.testing.strategies],
[`crmcore.testing.factories`][crmcore.testing.factories],
[`crmcore.testing.contract`][crmcore.testing.contract] (the storage contract kit) and
[`crmcore.testing.rule_strategies`][crmcore.testing.rule_strategies] (random well-typed segment
rules with matching data, and loaders that put that data into SQLite or DuckDB, to check your own
rule back end against [`crmcore.segments.matches()`][crmcore.segments.matches]).
"""
