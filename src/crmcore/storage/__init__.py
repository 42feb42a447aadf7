"""Storage adapters: [`crmcore.storage.memory`][crmcore.storage.memory] and
[`crmcore.storage.sqlite`][crmcore.storage.sqlite].

Both are built on the same machinery, re-exported here for adapters and for
new kinds of stored things:

* [`crmcore.storage.kinds`][crmcore.storage.kinds]:
  [`AggregateKind`][crmcore.storage.AggregateKind], [`RecordKind`][crmcore.storage.RecordKind] and
  the kinds of the built-in aggregates and records;
* [`crmcore.storage.backend`][crmcore.storage.backend]: the [`Backend`][crmcore.storage.Backend]
  protocol an adapter implements and the [`ChangeSet`][crmcore.storage.ChangeSet] it applies
  atomically;
* [`crmcore.storage.unit_of_work`][crmcore.storage.unit_of_work]:
  [`BufferedUnitOfWork`][crmcore.storage.BufferedUnitOfWork], the unit of work and its repositories
  over any backend;
* [`crmcore.storage.outbox`][crmcore.storage.outbox]: outbox message ids and the relay loop.
"""

from crmcore.storage.backend import AggregateWrite, Backend, ChangeSet, RecordWrite
from crmcore.storage.kinds import (
    CASES,
    CUSTOMERS,
    FEEDBACK,
    FUNNEL_POSITIONS,
    IMPROVEMENT_ACTIONS,
    INTERACTIONS,
    LIFECYCLES,
    LOYALTY_ACCOUNTS,
    PURCHASES,
    REFERRAL_CLAIMS,
    REFERRAL_CODES,
    SERVICE_RECORDS,
    TIER_STATUSES,
    AggregateKind,
    RecordKind,
    account_key,
    redact_feedback,
)
from crmcore.storage.outbox import new_message_id, relay
from crmcore.storage.unit_of_work import BufferedUnitOfWork

__all__ = [
    "CASES",
    "CUSTOMERS",
    "FEEDBACK",
    "FUNNEL_POSITIONS",
    "IMPROVEMENT_ACTIONS",
    "INTERACTIONS",
    "LIFECYCLES",
    "LOYALTY_ACCOUNTS",
    "PURCHASES",
    "REFERRAL_CLAIMS",
    "REFERRAL_CODES",
    "SERVICE_RECORDS",
    "TIER_STATUSES",
    "AggregateKind",
    "AggregateWrite",
    "Backend",
    "BufferedUnitOfWork",
    "ChangeSet",
    "RecordKind",
    "RecordWrite",
    "account_key",
    "new_message_id",
    "redact_feedback",
    "relay",
]
