"""Test support: hypothesis strategies, data factories and the storage contract kit.

Import the submodules directly (they need the ``dev`` extra: pytest, hypothesis):
:mod:`crmcore.testing.strategies` and :mod:`crmcore.testing.contract`.
"""
