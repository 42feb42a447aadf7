"""Storage adapters: :mod:`crmcore.storage.memory` and :mod:`crmcore.storage.sqlite`.

Both are built on the same machinery, re-exported here for adapters and for
new kinds of stored things:

* :mod:`crmcore.storage.kinds`: :class:`AggregateKind`, :class:`RecordKind`
  and the kinds of the built-in aggregates and records;
* :mod:`crmcore.storage.backend`: the :class:`Backend` protocol an adapter
  implements and the :class:`ChangeSet` it applies atomically;
* :mod:`crmcore.storage.unit_of_work`: :class:`BufferedUnitOfWork`, the
  unit of work and its repositories over any backend;
* :mod:`crmcore.storage.outbox`: outbox message ids and the relay loop.
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
