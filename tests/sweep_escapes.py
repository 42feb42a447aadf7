"""What the bad-input sweep knows it cannot yet pass, and why.

``EXPECTED``: callables where a hostile argument still escapes as something other than a
``CrmError``, in files the sweep's author does not own. Each reason names where it escapes and the
fix; the test is a strict xfail, so it turns red once the fix lands and the entry must then be
removed.

``UNREACHED``: callables for which the sweep cannot yet build a valid call (a value ``BASE`` in
``tests/sweep_world.py`` still needs), with the first failure. They are swept shallowly (the
missing arguments are ``None``, the hostile values still meet the first checks); one that becomes
reachable fails its test until it is removed from here.
"""

# ruff: noqa: E501 - one reason per line reads best

from __future__ import annotations

from typing import Final

EXPECTED: Final[dict[str, str]] = {}

UNREACHED: Final[dict[str, str]] = {
    "crmcore.columnar.table.Frame": (
        "ValidationError: frame: has no schema: use CustomerFrame, TransactionLog or EventLog (got 'Frame')"
    ),
    "crmcore.columnar.table.Frame.from_csv": (
        "ValidationError: frame: has no schema: use CustomerFrame, TransactionLog or EventLog (got 'Frame')"
    ),
    "crmcore.columnar.table.Frame.from_pandas": ("no valid value for df: <class 'inspect._empty'>"),
    "crmcore.columnar.table.Frame.from_records": (
        "ValidationError: frame: has no schema: use CustomerFrame, TransactionLog or EventLog (got 'Frame')"
    ),
    "crmcore.lifecycle.policy_batch.BatchClassification": (
        "ValidationError: arrays: must be exactly ['customer_ids', 'first_purchase_at', 'frequency_current', 'frequency_previous', 'last_purchase_at', 'purchases', 'reason_bits', 'recenc"
    ),
    "crmcore.storage.postgres.store.PostgresStore": (
        "ValidationError: target: must be a PostgreSQL connection string or a psycopg ConnectionPool (got PosixPath('sweep-output.csv'))"
    ),
}
